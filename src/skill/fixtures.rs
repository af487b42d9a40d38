//! Sentence fixtures, as data, in Home Assistant's `tests/<lang>/*.yaml` shape: each sentence
//! with the intent, slots and reply it must give.
//!
//! ```yaml
//! language: en
//! tests:
//!   - sentences: ["what's the date tomorrow", "what day is tomorrow"]
//!     intent: { name: HassGetCurrentDate, slots: { day: { offset: 1 } } }
//!     response: "Tomorrow is Friday, November 27th."
//! ```
//! `context` (e.g. `{dialog: confirm}`) sets the conversation state; `intent: null` expects
//! that nothing understands the sentence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as Json;

use super::Brain;
use crate::intent::{IntentError, data};

#[derive(Deserialize)]
struct File {
    language: String,
    tests: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    sentences: Vec<String>,
    intent: Option<Expected>,
    #[serde(default)]
    response: Option<String>,
    #[serde(default)]
    context: BTreeMap<String, Json>,
}

#[derive(Deserialize, Clone)]
struct Expected {
    name: String,
    #[serde(default)]
    slots: BTreeMap<String, Json>,
}

/// One sentence and what it must give.
#[derive(Clone)]
pub struct Case {
    pub lang: String,
    pub sentence: String,
    /// `None`: must not be understood.
    pub intent: Option<String>,
    pub slots: BTreeMap<String, Json>,
    pub response: Option<String>,
    pub context: BTreeMap<String, Json>,
    pub file: PathBuf,
}

/// Reads every fixture file under `dir/<lang>/`.
///
/// # Errors
/// Malformed YAML, with file and line.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>, IntentError> {
    let mut cases = Vec::new();
    let langs = super::manifest::subdirs(dir);
    for lang_dir in langs {
        for path in data::files_in(&lang_dir) {
            cases.extend(load_file(&path)?);
        }
    }
    Ok(cases)
}

/// Reads one fixture file.
///
/// # Errors
/// Malformed YAML, with file and line.
pub fn load_file(path: &Path) -> Result<Vec<Case>, IntentError> {
    let err = |line, msg| IntentError::File {
        path: path.display().to_string(),
        line,
        msg,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(0, e.to_string()))?;
    let f: File = serde_norway::from_str(&text)
        .map_err(|e| err(e.location().map_or(0, |l| l.line()), e.to_string()))?;
    let mut out = Vec::new();
    for g in f.tests {
        for s in g.sentences {
            out.push(Case {
                lang: f.language.clone(),
                sentence: s,
                intent: g.intent.as_ref().map(|i| i.name.clone()),
                slots: g
                    .intent
                    .as_ref()
                    .map(|i| i.slots.clone())
                    .unwrap_or_default(),
                response: g.response.clone(),
                context: g.context.clone(),
                file: path.to_path_buf(),
            });
        }
    }
    Ok(out)
}

/// Checks one case: the intent and slots from recognition (in the case's context), and the
/// reply from a fresh conversation. `Err` says what differed.
pub fn check(brain: &mut Brain, case: &Case) -> Result<(), String> {
    let rec = brain.recognize_with(&case.sentence, &case.lang, &case.context);
    let got = rec.as_ref().map(|r| r.intent.clone());
    if got != case.intent {
        return Err(format!("intent {got:?}, expected {:?}", case.intent));
    }
    if let Some(r) = &rec {
        // Slots from the sentence must be exactly the expected ones; fixed slots may be listed.
        let heard: BTreeMap<String, Json> = r
            .slots
            .iter()
            .filter(|(_, s)| !s.text.is_empty())
            .map(|(k, s)| (k.clone(), s.value.to_json()))
            .collect();
        for (k, v) in &heard {
            if case.slots.get(k) != Some(v) {
                return Err(format!("slot {k} = {v}, expected {:?}", case.slots.get(k)));
            }
        }
        for (k, want) in &case.slots {
            let have = r.slots.get(k).map(|s| s.value.to_json());
            if have.as_ref() != Some(want) {
                return Err(format!("slot {k} = {have:?}, expected {want}"));
            }
        }
    }
    if let Some(want) = &case.response {
        brain.reset_dialog();
        let out = brain.ask(&case.sentence, Some(&case.lang));
        if &out.reply != want {
            return Err(format!("reply \"{}\", expected \"{want}\"", out.reply));
        }
    }
    Ok(())
}
