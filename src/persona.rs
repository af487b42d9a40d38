//! The persona: Sori's name and its own lines (greeting, "didn't catch that", errors …) in each
//! language, with a few variants per line so it does not sound canned. Lines are data:
//! `assets/persona/<lang>.yaml`, compiled into the binary.

use std::collections::HashMap;

use crate::config::PersonaConfig;

const LINES: [(&str, &str); 2] = [
    ("en", include_str!("../assets/persona/en.yaml")),
    ("ko", include_str!("../assets/persona/ko.yaml")),
];

#[derive(Debug, thiserror::Error)]
pub enum PersonaError {
    #[error("assets/persona/{lang}.yaml: {message}")]
    Data { lang: String, message: String },
}

pub struct Persona {
    name: HashMap<String, String>,
    lines: HashMap<String, HashMap<String, Vec<String>>>,
    /// Last variant used per (language, key), so the next one differs.
    last: HashMap<(String, String), usize>,
    seed: u64,
    /// Always the first variant (fixture tests compare replies).
    pub fixed: bool,
}

impl Persona {
    /// The persona named in config, with the shipped lines.
    ///
    /// # Errors
    /// Only if the compiled-in data is malformed (a test keeps it well-formed).
    pub fn new(cfg: &PersonaConfig) -> Result<Self, PersonaError> {
        let mut lines = HashMap::new();
        for (lang, yaml) in LINES {
            let parsed: HashMap<String, Vec<String>> =
                serde_norway::from_str(yaml).map_err(|e| PersonaError::Data {
                    lang: lang.into(),
                    message: e.to_string(),
                })?;
            lines.insert(lang.to_string(), parsed);
        }
        let name = HashMap::from([
            ("en".to_string(), cfg.name.clone()),
            ("ko".to_string(), cfg.name_ko.clone()),
        ]);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        Ok(Persona {
            name,
            lines,
            last: HashMap::new(),
            seed,
            fixed: false,
        })
    }

    /// Sori's name in `lang`.
    pub fn name(&self, lang: &str) -> &str {
        self.name
            .get(lang)
            .or_else(|| self.name.get("en"))
            .map_or("Sori", String::as_str)
    }

    /// Keys of the lines in `lang`.
    pub fn keys(&self, lang: &str) -> Vec<&str> {
        self.lines
            .get(lang)
            .map(|l| l.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Every variant of `key` in `lang`, unfilled.
    pub fn variants(&self, lang: &str, key: &str) -> &[String] {
        self.lines
            .get(lang)
            .and_then(|l| l.get(key))
            .map_or(&[], Vec::as_slice)
    }

    /// A variant of line `key` in `lang` (English if the language lacks it), with `{name}` and
    /// `vars` filled in.
    pub fn line(&mut self, lang: &str, key: &str, vars: &[(&str, &str)]) -> String {
        let lang = if self.variants(lang, key).is_empty() {
            "en"
        } else {
            lang
        };
        let n = self.variants(lang, key).len();
        if n == 0 {
            tracing::warn!(key, "persona line missing");
            return String::new();
        }
        // xorshift: cheap, and good enough to vary a sentence.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let slot = (lang.to_string(), key.to_string());
        let mut i = if self.fixed {
            0
        } else {
            (self.seed % n as u64) as usize
        };
        if n > 1 && !self.fixed && self.last.get(&slot) == Some(&i) {
            i = (i + 1) % n;
        }
        self.last.insert(slot, i);
        let mut out = self.variants(lang, key)[i].replace("{name}", self.name(lang));
        for (k, v) in vars {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_exists_in_both_languages_with_variants() {
        let p = Persona::new(&PersonaConfig::default()).unwrap();
        let mut en = p.keys("en");
        let mut ko = p.keys("ko");
        en.sort();
        ko.sort();
        assert_eq!(en, ko, "English and Korean persona lines differ");
        for lang in ["en", "ko"] {
            for key in p.keys(lang) {
                let v = p.variants(lang, key);
                assert!(v.len() >= 2, "{lang}/{key}: give at least two variants");
                for line in v {
                    assert!(
                        line.chars().count() <= 80,
                        "{lang}/{key}: keep it short: {line}"
                    );
                }
            }
        }
    }

    #[test]
    fn lines_vary_and_carry_the_configured_name() {
        let cfg = PersonaConfig {
            name: "Nari".into(),
            name_ko: "나리".into(),
        };
        let mut p = Persona::new(&cfg).unwrap();
        let a = p.line("en", "greeting", &[]);
        let b = p.line("en", "greeting", &[]);
        assert_ne!(a, b, "the same greeting twice in a row");
        assert!(a.contains("Nari") && b.contains("Nari"), "{a} / {b}");
        assert!(p.line("ko", "greeting", &[]).contains("나리"));
        assert!(
            p.line("en", "you_said", &[("text", "turn on the lights")])
                .contains("turn on the lights")
        );
        // A language without lines falls back to English.
        assert!(!p.line("ja", "didnt_catch", &[]).is_empty());
    }
}
