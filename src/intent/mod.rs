//! Understanding: Home Assistant's hassil template format, compiled into a matcher, in English
//! and Korean.
//!
//! - `template`: the grammar (`(a|b)`, `[a]`, `(a; b)`, `{list:slot}`, `<rule>`).
//! - `data`: YAML/JSON intent files in the home-assistant/intents layout.
//! - `compile`: templates, lists and rules into matcher nodes.
//! - `matcher`: backtracking match of one template against a sentence.
//! - `grammar`: one language's templates, skip words and context rules; `recognize`.
//! - `fuzzy`: run-time lists (contacts, artists) matched by edit distance, jamo for Korean.
//! - `normalize`: the text both sides are compared in.
//! - `address`: "Jarvis, …" / "소리야, …": the assistant's name before a command.

pub mod address;
pub mod compile;
pub mod data;
pub mod fuzzy;
pub mod grammar;
pub mod matcher;
pub mod normalize;
pub mod template;

use std::collections::BTreeMap;

use serde::Serialize;
use thiserror::Error;

pub use fuzzy::RuntimeLists;
pub use grammar::Grammar;

use crate::values::Value;

#[derive(Debug, Error)]
pub enum IntentError {
    #[error("{path}:{line}: {msg}")]
    File {
        path: String,
        line: usize,
        msg: String,
    },
}

/// A filled slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slot {
    pub value: Value,
    /// The words it came from ("" for fixed slots).
    pub text: String,
    /// 1.0 unless matched fuzzily.
    pub score: f32,
    /// Other values nearly as close ("did you mean X or Y?").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub close: Vec<String>,
}

impl Slot {
    pub fn fixed(value: Value) -> Self {
        Slot {
            value,
            text: String::new(),
            score: 1.0,
            close: Vec::new(),
        }
    }
}

/// A recognised sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recognized {
    pub intent: String,
    pub slots: BTreeMap<String, Slot>,
    /// The response key its block names (`default` when absent).
    pub response: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub text: String,
    pub lang: String,
    /// The template that matched (for debugging and `sori ask --json`).
    pub template: String,
    /// How well it matched, to pick between grammars (higher is better).
    #[serde(skip)]
    pub rank: matcher::Rank,
    /// A wildcard took part of the sentence: more words might still belong to it, so the loop
    /// should not cut the speaker off early.
    #[serde(skip)]
    pub open_ended: bool,
    /// Matched only by taking one word as misheard ("what time in it"): good enough to answer,
    /// not to cut the speaker off early.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub approximate: bool,
}

impl Recognized {
    pub fn slot(&self, name: &str) -> Option<&Value> {
        self.slots.get(name).map(|s| &s.value)
    }
}

#[cfg(test)]
mod grammar_tests;
