//! Reply templates per language in Home Assistant's `responses/<lang>/*.yaml` layout:
//! `responses: intents: <Intent>: <key>: "text"` or a list of variants. Placeholders are
//! `{name}`; the values come formatted from Rust (times, plurals, Korean counters), never from
//! template logic.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;

use super::SkillError;
use crate::intent::IntentError;

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    language: String,
    #[serde(default)]
    responses: Option<Section>,
}

#[derive(Deserialize)]
struct Section {
    #[serde(default)]
    intents: HashMap<String, HashMap<String, Variants>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Variants {
    One(String),
    Many(Vec<String>),
}

#[derive(Default)]
pub struct Responses {
    /// (lang, intent, key) → variants.
    map: HashMap<(String, String, String), Vec<String>>,
    seed: AtomicU64,
    /// Always the first variant (fixture tests compare replies).
    pub fixed: bool,
}

impl Clone for Responses {
    fn clone(&self) -> Self {
        Responses {
            map: self.map.clone(),
            seed: AtomicU64::new(self.seed.load(Ordering::Relaxed)),
            fixed: self.fixed,
        }
    }
}

impl Responses {
    pub fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64);
        Responses {
            map: HashMap::new(),
            seed: AtomicU64::new(seed | 1),
            fixed: false,
        }
    }

    /// Adds a responses file; `lang` is used when the file does not say.
    ///
    /// # Errors
    /// YAML errors with file and line.
    pub fn add_yaml(&mut self, path: &Path, text: &str, lang: &str) -> Result<(), IntentError> {
        let f: File = serde_norway::from_str(text).map_err(|e| IntentError::File {
            path: path.display().to_string(),
            line: e.location().map_or(0, |l| l.line()),
            msg: e.to_string(),
        })?;
        let lang = if f.language.is_empty() {
            lang.to_string()
        } else {
            f.language
        };
        for (intent, keys) in f.responses.map(|s| s.intents).unwrap_or_default() {
            for (key, v) in keys {
                let variants = match v {
                    Variants::One(s) => vec![s],
                    Variants::Many(v) => v,
                };
                self.map
                    .insert((lang.clone(), intent.clone(), key), variants);
            }
        }
        Ok(())
    }

    /// Takes every reply of `other` (a skill's files, parsed and checked on their own).
    pub fn merge(&mut self, other: Responses) {
        self.map.extend(other.map);
    }

    pub fn has(&self, lang: &str, intent: &str, key: &str) -> bool {
        self.map
            .contains_key(&(lang.to_string(), intent.to_string(), key.to_string()))
    }

    fn variants(&self, lang: &str, intent: &str, key: &str) -> Result<&[String], SkillError> {
        self.map
            .get(&(lang.to_string(), intent.to_string(), key.to_string()))
            .map(Vec::as_slice)
            .ok_or_else(|| SkillError::Response {
                lang: lang.to_string(),
                intent: intent.to_string(),
                key: key.to_string(),
            })
    }

    /// One variant (at random if `vary`, else the first), filled.
    ///
    /// # Errors
    /// `SkillError::Response` when there is no such reply.
    pub fn render(
        &self,
        lang: &str,
        intent: &str,
        key: &str,
        vars: &[(&str, String)],
        vary: bool,
    ) -> Result<String, SkillError> {
        let v = self.variants(lang, intent, key)?;
        let i = if vary && !self.fixed && v.len() > 1 {
            // xorshift; variety, not security.
            let mut s = self.seed.load(Ordering::Relaxed);
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            self.seed.store(s, Ordering::Relaxed);
            (s % v.len() as u64) as usize
        } else {
            0
        };
        Ok(fill(&v[i], vars))
    }

    /// Every variant, filled (fixtures accept any of them).
    pub fn all(&self, lang: &str, intent: &str, key: &str, vars: &[(&str, String)]) -> Vec<String> {
        self.variants(lang, intent, key)
            .map(|v| v.iter().map(|t| fill(t, vars)).collect())
            .unwrap_or_default()
    }
}

fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    // A reply starts with a capital even when a name opens it ("pasta timer set …").
    let out = out.trim();
    let mut c = out.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_render_and_missing_keys_error() {
        let mut r = Responses::new();
        let y = "language: en\nresponses:\n  intents:\n    X:\n      default: [\"It's {time}.\", \"{time} now.\"]\n      one: Hi\n";
        r.add_yaml(Path::new("r.yaml"), y, "en").unwrap();
        let vars = [("time", "7:05 AM".to_string())];
        assert_eq!(
            r.render("en", "X", "default", &vars, false).unwrap(),
            "It's 7:05 AM."
        );
        assert_eq!(r.all("en", "X", "default", &vars).len(), 2);
        assert_eq!(r.render("en", "X", "one", &[], true).unwrap(), "Hi");
        assert!(matches!(
            r.render("ko", "X", "one", &[], true),
            Err(SkillError::Response { .. })
        ));
    }
}
