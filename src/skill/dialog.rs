//! Conversation state between turns: a pending yes/no question, a pending question for a
//! missing slot, and the last thing said (for "say that again"). Pure data and helpers; the
//! brain drives it.

use std::time::{Duration, Instant};

use crate::intent::{Recognized, Slot, normalize};
use crate::values::{self, Kind, Value};

/// Intents the dialog itself handles.
pub const YES: &str = "SoriYes";
pub const NO: &str = "SoriNo";
pub const CANCEL: &str = "HassNevermind";
pub const REPEAT: &str = "SoriRepeat";
pub const STOP: &str = "SoriStop";
pub const ALL: [&str; 5] = [YES, NO, CANCEL, REPEAT, STOP];

/// A question that expires: an answer long after is a new command, not an answer.
pub const PENDING_FOR: Duration = Duration::from_secs(45);

#[derive(Debug, Clone)]
pub enum Pending {
    /// The skill asked yes or no about `intent`.
    Confirm { intent: Recognized },
    /// The skill asked for `slot` of `intent`.
    Ask {
        intent: Recognized,
        slot: String,
        kind: Option<Kind>,
        tries: u8,
        /// Free text: the answer is taken as said (a dictated message).
        free: bool,
    },
    /// Two or more names fit `slot` about equally: "did you mean X or Y?".
    Choose {
        intent: Recognized,
        slot: String,
        options: Vec<String>,
    },
}

#[derive(Debug, Default)]
pub struct Dialog {
    pending: Option<(Pending, Instant)>,
    /// (language, speech) of the last reply.
    pub last: Option<(String, String)>,
}

impl Dialog {
    pub fn set(&mut self, p: Pending) {
        self.pending = Some((p, Instant::now()));
    }

    /// The pending question, if it has not expired.
    pub fn pending(&self) -> Option<&Pending> {
        self.pending
            .as_ref()
            .filter(|(_, at)| at.elapsed() < PENDING_FOR)
            .map(|(p, _)| p)
    }

    pub fn take(&mut self) -> Option<Pending> {
        let p = self.pending.take()?;
        (p.1.elapsed() < PENDING_FOR).then_some(p.0)
    }

    pub fn clear(&mut self) {
        self.pending = None;
    }

    /// Context for `requires_context` (yes/no only match while a question is open).
    pub fn context(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        let mut c = std::collections::BTreeMap::new();
        if let Some(Pending::Confirm { .. }) = self.pending() {
            c.insert("dialog".to_string(), serde_json::json!("confirm"));
        }
        c
    }
}

/// Finds a value of `kind` in an answer ("five minutes", "for five minutes please", "5분이요"):
/// the longest span of words that parses.
pub fn find_value(kind: Option<Kind>, lang: &str, text: &str) -> Option<Slot> {
    let norm = normalize::sentence(text);
    let Some(kind) = kind else {
        return (!norm.is_empty()).then(|| Slot {
            value: Value::Text(text.trim().to_string()),
            text: text.trim().to_string(),
            score: 1.0,
            close: vec![],
        });
    };
    let words: Vec<&str> = norm.split(' ').collect();
    for len in (1..=words.len()).rev() {
        for start in 0..=words.len() - len {
            let span = words[start..start + len].join(" ");
            if let Some(v) = values::parse(kind, lang, &span) {
                return Some(Slot {
                    value: v,
                    text: span,
                    score: 1.0,
                    close: vec![],
                });
            }
            // Korean answers end in particles/endings: "5분이요", "한 시간으로".
            if lang == "ko" {
                let mut s = span.as_str();
                while let Some((i, _)) = s.char_indices().last() {
                    s = &s[..i];
                    if s.is_empty() {
                        break;
                    }
                    if let Some(v) = values::parse(kind, lang, s) {
                        return Some(Slot {
                            value: v,
                            text: s.to_string(),
                            score: 1.0,
                            close: vec![],
                        });
                    }
                }
            }
        }
    }
    None
}

/// The option an answer to "did you mean X or Y?" picks: by name (fuzzily), or "the first/
/// second one" / "첫 번째/두 번째".
pub fn choose(answer: &str, options: &[String]) -> Option<String> {
    let norm = normalize::sentence(answer);
    const ORDINALS: [(&[&str], usize); 3] = [
        (&["first", "첫", "첫번째", "첫 번째", "앞에"], 0),
        (&["second", "두번째", "두 번째", "뒤에"], 1),
        (&["third", "세번째", "세 번째"], 2),
    ];
    for (words, i) in ORDINALS {
        if words
            .iter()
            .any(|w| norm.split(' ').any(|x| x == *w) || norm.starts_with(w))
        {
            return options.get(i).cloned();
        }
    }
    let mut lists = crate::intent::RuntimeLists::default();
    lists.set("options", options.iter().map(|o| (o.clone(), o.clone())));
    let entries = lists.get("options")?;
    // The name may come with other words ("Jisoo please", "지수요"): try each word span.
    let words: Vec<&str> = norm.split(' ').collect();
    let mut best: Option<crate::intent::fuzzy::Hit> = None;
    for len in 1..=words.len() {
        for start in 0..=words.len() - len {
            let span = words[start..start + len].join(" ");
            for cand in [span.as_str(), span.trim_end_matches(['요', '이'])] {
                if let Some(h) = crate::intent::fuzzy::best(cand, entries) {
                    if best.as_ref().is_none_or(|b| h.score > b.score) {
                        best = Some(h);
                    }
                }
            }
        }
    }
    best.map(|h| h.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_found_inside_sentences() {
        let d = |t, l| find_value(Some(Kind::Duration), l, t).map(|s| s.value);
        assert_eq!(d("five minutes", "en"), Some(Value::Duration(300)));
        assert_eq!(
            d("for five minutes please", "en"),
            Some(Value::Duration(300))
        );
        assert_eq!(d("5분이요", "ko"), Some(Value::Duration(300)));
        assert_eq!(d("한 시간 반으로 해 줘", "ko"), Some(Value::Duration(5400)));
        assert_eq!(d("I don't know", "en"), None);
    }
}
