//! Intent data files in hassil's layout, YAML (Sori's and skills' `sentences/<lang>/*.yaml`) or
//! JSON (Home Assistant's `home-assistant-intents` package, one file per language): intents with
//! blocks of sentences, lists, expansion rules and skip words. Files of one language merge.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as Json;

use super::IntentError;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IntentsFile {
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub intents: BTreeMap<String, IntentDef>,
    #[serde(default)]
    pub lists: BTreeMap<String, ListDef>,
    #[serde(default)]
    pub expansion_rules: BTreeMap<String, String>,
    #[serde(default)]
    pub skip_words: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IntentDef {
    #[serde(default)]
    pub data: Vec<Block>,
}

/// Sentences that share fixed slots, context rules and a response.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Block {
    pub sentences: Vec<String>,
    #[serde(default)]
    pub slots: BTreeMap<String, Json>,
    #[serde(default)]
    pub requires_context: BTreeMap<String, Json>,
    #[serde(default)]
    pub excludes_context: BTreeMap<String, Json>,
    #[serde(default)]
    pub expansion_rules: BTreeMap<String, String>,
    #[serde(default)]
    pub lists: BTreeMap<String, ListDef>,
    #[serde(default)]
    pub response: Option<String>,
    #[serde(default)]
    pub metadata: Option<Json>,
}

/// A slot list: fixed `values`, a numeric `range`, a `wildcard`, or (Sori's additions) a typed
/// value (`type: duration`) or a list filled at run time and matched fuzzily (`fuzzy: true`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListDef {
    #[serde(default)]
    pub values: Option<Vec<ListValue>>,
    #[serde(default)]
    pub range: Option<RangeDef>,
    #[serde(default)]
    pub wildcard: Option<bool>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub fuzzy: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ListValue {
    Plain(String),
    Mapped {
        #[serde(rename = "in")]
        input: String,
        #[serde(default)]
        out: Option<Json>,
        #[serde(default)]
        context: Option<BTreeMap<String, Json>>,
    },
}

#[derive(Debug, Clone, Deserialize)]
pub struct RangeDef {
    pub from: i64,
    pub to: i64,
    #[serde(default)]
    pub step: Option<i64>,
    #[serde(default)]
    pub multiplier: Option<f64>,
}

/// One loaded file, with its text kept to find line numbers for errors.
pub struct Loaded {
    pub path: PathBuf,
    pub source: String,
    pub file: IntentsFile,
}

/// Reads a YAML or JSON intents file.
///
/// # Errors
/// Unreadable files and syntax errors, naming the file and the line.
pub fn load(path: &Path) -> Result<Loaded, IntentError> {
    let source = std::fs::read_to_string(path).map_err(|e| IntentError::File {
        path: path.display().to_string(),
        line: 0,
        msg: e.to_string(),
    })?;
    parse(path, source)
}

/// Parses an intents file from text (`path` names it in errors and picks JSON by extension).
///
/// # Errors
/// Syntax errors with the line.
pub fn parse(path: &Path, source: String) -> Result<Loaded, IntentError> {
    let file = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&source).map_err(|e| IntentError::File {
            path: path.display().to_string(),
            line: e.line(),
            msg: e.to_string(),
        })?
    } else {
        serde_norway::from_str(&source).map_err(|e| IntentError::File {
            path: path.display().to_string(),
            line: e.location().map_or(0, |l| l.line()),
            msg: e.to_string(),
        })?
    };
    Ok(Loaded {
        path: path.to_path_buf(),
        source,
        file,
    })
}

impl Loaded {
    /// The 1-based line where `needle` first appears (0 if nowhere), for errors in values
    /// that serde cannot place.
    pub fn line_of(&self, needle: &str) -> usize {
        let quoted = needle.replace('"', "\\\"");
        [needle, quoted.as_str()]
            .iter()
            .find_map(|n| self.source.find(n))
            .map_or(0, |at| self.source[..at].matches('\n').count() + 1)
    }
}

/// All `*.yaml`/`*.yml`/`*.json` files directly in `dir`, sorted.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .collect();
    out.sort();
    out
}
