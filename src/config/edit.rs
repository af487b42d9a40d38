//! Writes values into a config file while keeping its comments, for `sori setup`. The template
//! is the user's own file or the commented example: a key set here replaces its active line,
//! else its commented `# key = default` line (so the explanation above it stays with it), else
//! it is added to its section. The result is parsed again and every value read back, so a bug
//! here cannot write a config that says something else.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum EditError {
    #[error("`{0}` is not a TOML value")]
    BadValue(String),
    #[error("the edited config does not read back `{key}` as written ({why}); nothing was written")]
    Mismatch { key: String, why: String },
}

/// One key to write: `section` is dotted (`messaging.contacts`), `value` is TOML source.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub section: String,
    pub key: String,
    pub value: String,
    /// A name in a table of names (a contact): a commented line with that name is an example
    /// to keep, not a default to replace.
    pub entry: bool,
}

impl Setting {
    /// Splits a dotted path at its last dot: `location.name` → section `location`, key `name`.
    pub fn new(path: &str, value: impl Into<String>) -> Setting {
        let (section, key) = path.rsplit_once('.').unwrap_or(("", path));
        Setting {
            section: section.into(),
            key: key.into(),
            value: value.into(),
            entry: false,
        }
    }

    /// A key inside a table of names, e.g. a contact: `Setting::entry("messaging.contacts", "Mom", …)`.
    pub fn entry(section: &str, key: &str, value: impl Into<String>) -> Setting {
        Setting {
            section: section.into(),
            key: key.into(),
            value: value.into(),
            entry: true,
        }
    }

    fn path(&self) -> String {
        if self.section.is_empty() {
            self.key.clone()
        } else {
            format!("{}.{}", self.section, self.key)
        }
    }
}

/// A TOML string literal (quotes and escapes as needed; non-ASCII kept as is).
pub fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML array of strings on one line.
pub fn strings<S: AsRef<str>>(items: &[S]) -> String {
    let v: Vec<String> = items.iter().map(|s| string(s.as_ref())).collect();
    format!("[{}]", v.join(", "))
}

/// A value as written on a command line: TOML if it is a TOML value (`3`, `true`, `["a"]`,
/// `"x"`), else a string.
pub fn value_source(raw: &str) -> String {
    if parse_value(raw).is_some() {
        raw.to_string()
    } else {
        string(raw)
    }
}

/// Applies `settings` to `doc` and checks the result reads back each value.
///
/// # Errors
/// A value that is not TOML, or (a bug) a result that does not read back as written.
pub fn apply(doc: &str, settings: &[Setting]) -> Result<String, EditError> {
    let mut lines: Vec<String> = doc.lines().map(str::to_string).collect();
    for s in settings {
        parse_value(&s.value).ok_or_else(|| EditError::BadValue(s.value.clone()))?;
        set(&mut lines, s);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    let table: toml::Table = toml::from_str(&out).map_err(|e| EditError::Mismatch {
        key: settings.first().map(Setting::path).unwrap_or_default(),
        why: e.to_string(),
    })?;
    for s in settings {
        let wanted = parse_value(&s.value).expect("checked above");
        let mut at = Some(&table);
        for part in s.section.split('.').filter(|p| !p.is_empty()) {
            at = at.and_then(|t| t.get(part)).and_then(toml::Value::as_table);
        }
        let got = at.and_then(|t| t.get(&s.key));
        if got != Some(&wanted) {
            return Err(EditError::Mismatch {
                key: s.path(),
                why: format!("found {got:?}"),
            });
        }
    }
    Ok(out)
}

fn parse_value(v: &str) -> Option<toml::Value> {
    toml::from_str::<toml::Table>(&format!("v = {v}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
}

/// `[name]` or `# [name]` → the name and whether it is commented out.
fn header(line: &str) -> Option<(&str, bool)> {
    let t = line.trim();
    let (t, commented) = match t.strip_prefix('#') {
        Some(rest) => (rest.trim_start(), true),
        None => (t, false),
    };
    let name = t.strip_prefix('[')?.strip_suffix(']')?.trim();
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plain.then_some((name, commented))
}

/// The key a line assigns (`key = …`, `"key" = …`), if it is an assignment.
fn assigned_key(line: &str) -> Option<String> {
    let (k, _) = line.split_once('=')?;
    let k = k.trim();
    if let Some(q) = k.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
        return Some(q.to_string());
    }
    if let Some(q) = k.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')) {
        return Some(q.to_string());
    }
    (!k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
    .then(|| k.to_string())
}

fn key_source(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    {
        key.to_string()
    } else {
        string(key)
    }
}

fn set(lines: &mut Vec<String>, s: &Setting) {
    let new_line = |comment: &str| format!("{} = {}{comment}", key_source(&s.key), s.value);
    // The section's extent: its header (if any) to the next header.
    let start = if s.section.is_empty() {
        0
    } else {
        match lines
            .iter()
            .position(|l| header(l).is_some_and(|(n, _)| n == s.section))
        {
            Some(h) => {
                if header(&lines[h]).is_some_and(|(_, c)| c) {
                    lines[h] = format!("[{}]", s.section);
                }
                h + 1
            }
            None => {
                if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                    lines.push(String::new());
                }
                lines.push(format!("[{}]", s.section));
                lines.push(new_line(""));
                return;
            }
        }
    };
    let end = (start..lines.len())
        .find(|&i| header(&lines[i]).is_some())
        .unwrap_or(lines.len());
    // An active line: replace it (and the rest of a value written over several lines).
    if let Some(i) = (start..end).find(|&i| {
        !lines[i].trim_start().starts_with('#')
            && assigned_key(&lines[i]).as_deref() == Some(s.key.as_str())
    }) {
        let mut last = i;
        while last + 1 < end && !parses(&lines[i..=last]) {
            last += 1;
        }
        let comment = trailing_comment(&lines[i..=last]);
        lines.splice(i..=last, [new_line(&comment)]);
        return;
    }
    // A commented default: put the value where it is explained.
    if let Some(i) = (start..end).filter(|_| !s.entry).find(|&i| {
        lines[i]
            .trim_start()
            .strip_prefix('#')
            .and_then(assigned_key)
            .is_some_and(|k| k == s.key)
            && parse_line(lines[i].trim_start().trim_start_matches('#')).is_some()
    }) {
        let uncommented = lines[i].trim_start().trim_start_matches('#').to_string();
        let comment = trailing_comment(&[uncommented]);
        lines[i] = new_line(&comment);
        return;
    }
    // Neither: after the section's last line that is not blank.
    let mut at = end;
    while at > start && lines[at - 1].trim().is_empty() {
        at -= 1;
    }
    lines.insert(at, new_line(""));
}

fn parses(lines: &[String]) -> bool {
    toml::from_str::<toml::Table>(&lines.join("\n")).is_ok()
}

fn parse_line(line: &str) -> Option<toml::Table> {
    toml::from_str::<toml::Table>(line).ok()
}

/// An end-of-line comment after the value (`x = 1  # why`), kept when the value changes.
fn trailing_comment(lines: &[String]) -> String {
    let Some(last) = lines.last() else {
        return String::new();
    };
    let head = &lines[..lines.len() - 1];
    for (i, _) in last.match_indices('#').rev() {
        let mut body: Vec<String> = head.to_vec();
        body.push(last[..i].to_string());
        if parses(&body) {
            // Only a comment if what precedes it is a whole assignment.
            return format!("  {}", last[i..].trim_end());
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
# Top.

[location]
# The place's name.
# name = \"\"
# latitude = 0.0
# IANA time zone.
# timezone = \"\"

[messaging.email]
# security = \"starttls\"  # starttls (port 587), tls (port 465)

[messaging.contacts]
# Who Sori can message, e.g.:
# \"Mom\" = { backend = \"email\", address = \"mom@example.com\" }

# [tts.voices]
# en = \"piper:en_US-joe-medium\"

[log]
level = \"info\"  # or debug
";

    #[test]
    fn a_commented_default_becomes_the_value_where_it_is_explained() {
        let out = apply(DOC, &[Setting::new("location.name", string("Seoul"))]).unwrap();
        assert!(out.contains("# The place's name.\nname = \"Seoul\"\n# latitude = 0.0"));
        assert!(out.starts_with("# Top."), "comments kept");
    }

    #[test]
    fn an_active_value_is_replaced_keeping_its_end_of_line_comment() {
        let out = apply(DOC, &[Setting::new("log.level", string("debug"))]).unwrap();
        assert!(out.contains("level = \"debug\"  # or debug"), "{out}");
        assert!(!out.contains("\"info\""));
        let out = apply(
            DOC,
            &[Setting::new("messaging.email.security", string("tls"))],
        )
        .unwrap();
        assert!(
            out.contains("security = \"tls\"  # starttls (port 587), tls (port 465)"),
            "{out}"
        );
    }

    #[test]
    fn a_value_over_several_lines_is_replaced_whole() {
        let doc = "[music]\ndirs = [\n  \"/a\",\n  \"/b\",\n]\nbackend = \"local\"\n";
        let out = apply(doc, &[Setting::new("music.dirs", strings(&["/srv/music"]))]).unwrap();
        assert_eq!(
            out,
            "[music]\ndirs = [\"/srv/music\"]\nbackend = \"local\"\n"
        );
    }

    #[test]
    fn entries_are_added_to_their_table_and_unknown_sections_are_appended() {
        let out = apply(
            DOC,
            &[
                Setting::entry(
                    "messaging.contacts",
                    "Mom",
                    "{ aliases = [\"엄마\"], backend = \"email\", address = \"mom@example.com\" }",
                ),
                Setting::entry(
                    "messaging.contacts",
                    "Jisoo Kim",
                    "{ backend = \"matrix\", address = \"@jisoo:example.org\" }",
                ),
                Setting::new("api.bind", string("0.0.0.0:8340")),
                Setting::new("tts.voices.ko", string("espeak:ko")),
            ],
        )
        .unwrap();
        // The example line stays a comment; the real entry follows the section's comments.
        assert!(out.contains("# \"Mom\" = { backend"), "{out}");
        assert!(out.contains("Mom = { aliases = [\"엄마\"]"), "{out}");
        assert!(out.contains("\"Jisoo Kim\" = { backend"), "{out}");
        assert!(
            out.contains("[tts.voices]\n# en = \"piper:en_US-joe-medium\"\nko = \"espeak:ko\""),
            "{out}"
        );
        assert!(out.ends_with("[api]\nbind = \"0.0.0.0:8340\"\n"), "{out}");
    }

    #[test]
    fn setting_twice_keeps_one_line() {
        let once = apply(DOC, &[Setting::new("location.name", string("Seoul"))]).unwrap();
        let twice = apply(&once, &[Setting::new("location.name", string("Busan"))]).unwrap();
        assert_eq!(twice.matches("\nname = ").count(), 1, "{twice}");
        assert!(twice.contains("name = \"Busan\""));
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(matches!(
            apply(DOC, &[Setting::new("location.name", "Seoul")]),
            Err(EditError::BadValue(_))
        ));
    }

    #[test]
    fn strings_are_quoted_and_escaped() {
        for s in ["a \"b\" 소리", "back\\slash 'q'", "line\nbreak"] {
            assert_eq!(parse_value(&string(s)), Some(toml::Value::String(s.into())));
        }
        assert_eq!(strings(&["x", "y"]), "[\"x\", \"y\"]");
    }

    #[test]
    fn the_shipped_example_takes_every_setup_answer() {
        let s = [
            Setting::new("stt.language", string("ko")),
            Setting::new("audio.input_device", string("pulse")),
            Setting::new("wake.words", strings(&["alexa"])),
            Setting::new("location.latitude", "37.566"),
            Setting::new("music.dirs", strings(&["/srv/music"])),
            Setting::new("messaging.email.smtp_host", string("smtp.example.com")),
        ];
        let out = apply(super::super::EXAMPLE, &s).unwrap();
        let table: toml::Table = toml::from_str(&out).unwrap();
        let (cfg, warnings) = super::super::from_table(table, "test").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        cfg.validate().unwrap();
        assert_eq!(cfg.stt.language, "ko");
        assert_eq!(cfg.wake.words, ["alexa"]);
        assert_eq!(cfg.location.latitude, 37.566);
        assert_eq!(out.lines().count(), super::super::EXAMPLE.lines().count());
    }
}
