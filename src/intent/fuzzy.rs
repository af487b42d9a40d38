//! Fuzzy matching of names heard against lists filled at run time (contacts, artists, titles,
//! places): normalised edit distance, on decomposed jamo for Korean so "지수" and "지스" are one
//! vowel apart rather than one whole syllable.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use super::normalize;

/// Scores at or above this are accepted.
pub const MIN_SCORE: f32 = 0.6;
/// Two candidates within this of each other are too close to call: ask which.
pub const CLOSE: f32 = 0.06;

/// One spoken form of a run-time list value ("mom" for contact "Mom", "엄마" for the same).
#[derive(Debug, Clone)]
pub struct Entry {
    pub spoken: String,
    pub value: String,
    key: Vec<char>,
}

/// Run-time lists by name.
#[derive(Debug, Clone, Default)]
pub struct RuntimeLists {
    lists: HashMap<String, Vec<Entry>>,
}

impl RuntimeLists {
    /// Replaces a list: `(spoken form, value)` pairs; several forms may share a value.
    pub fn set(&mut self, name: &str, items: impl IntoIterator<Item = (String, String)>) {
        let entries = items
            .into_iter()
            .map(|(spoken, value)| Entry {
                key: key(&spoken),
                spoken,
                value,
            })
            .filter(|e| !e.key.is_empty())
            .collect();
        self.lists.insert(name.to_string(), entries);
    }

    pub fn get(&self, name: &str) -> Option<&[Entry]> {
        self.lists.get(name).map(Vec::as_slice)
    }

    /// Every spoken form of every list (names for the speech recogniser's vocabulary).
    pub fn spoken(&self) -> impl Iterator<Item = &str> {
        self.lists.values().flatten().map(|e| e.spoken.as_str())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.lists.keys().map(String::as_str)
    }
}

/// What a heard name matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub value: String,
    pub score: f32,
    /// Other values scoring within [`CLOSE`] of the best: "did you mean X or Y?".
    pub close: Vec<String>,
}

/// The comparison form: normalised, no spaces, Hangul split into jamo.
fn key(text: &str) -> Vec<char> {
    normalize::sentence(text)
        .nfd()
        .filter(|c| !c.is_whitespace() && *c != '\'')
        .collect()
}

/// 1 − edit distance / longer length.
pub fn similarity(a: &str, b: &str) -> f32 {
    sim(&key(a), &key(b))
}

fn sim(a: &[char], b: &[char]) -> f32 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 0.0;
    }
    1.0 - distance(a, b) as f32 / longest as f32
}

fn distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The best entry for `heard`, if any scores [`MIN_SCORE`] or more.
pub fn best(heard: &str, entries: &[Entry]) -> Option<Hit> {
    let k = key(heard);
    if k.is_empty() {
        return None;
    }
    // Best score per value (a value may have several spoken forms).
    let mut scores: Vec<(&str, f32)> = Vec::new();
    for e in entries {
        // Cheap bound: lengths too different cannot reach the threshold.
        let longest = k.len().max(e.key.len()) as f32;
        if (k.len().abs_diff(e.key.len()) as f32) / longest > 1.0 - MIN_SCORE {
            continue;
        }
        let s = sim(&k, &e.key);
        match scores.iter_mut().find(|(v, _)| *v == e.value) {
            Some(slot) => slot.1 = slot.1.max(s),
            None => scores.push((&e.value, s)),
        }
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (value, score) = *scores.first()?;
    if score < MIN_SCORE {
        return None;
    }
    let close = scores[1..]
        .iter()
        .take_while(|(_, s)| score - s <= CLOSE && *s >= MIN_SCORE)
        .map(|(v, _)| v.to_string())
        .collect();
    Some(Hit {
        value: value.to_string(),
        score,
        close,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> RuntimeLists {
        let mut l = RuntimeLists::default();
        l.set(
            "contact",
            [
                ("Jisoo", "jisoo"),
                ("지수", "jisoo"),
                ("Mom", "mom"),
                ("엄마", "mom"),
                ("Jihoon", "jihoon"),
                ("지훈", "jihoon"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string())),
        );
        l.set(
            "artist",
            [("Norah Jones", "Norah Jones"), ("Nora Jonas", "Nora Jonas")]
                .map(|(a, b)| (a.into(), b.into())),
        );
        l
    }

    #[test]
    fn misspellings_match_with_a_score() {
        let l = lists();
        let c = l.get("contact").unwrap();
        let hit = best("jisu", c).unwrap();
        assert_eq!(hit.value, "jisoo");
        assert!(hit.score < 1.0 && hit.score >= MIN_SCORE, "{hit:?}");
        assert_eq!(best("Mom", c).unwrap().score, 1.0);
        assert_eq!(best("xavier", c), None);
    }

    #[test]
    fn korean_compares_jamo() {
        let c = lists();
        let c = c.get("contact").unwrap();
        // 지스 differs from 지수 by one vowel jamo, not a whole syllable.
        assert_eq!(best("지스", c).unwrap().value, "jisoo");
        assert!(similarity("지스", "지수") > 0.7);
        assert!(similarity("엄마", "지수") < 0.3);
    }

    #[test]
    fn close_candidates_are_reported() {
        let l = lists();
        let hit = best("norah jonas", l.get("artist").unwrap()).unwrap();
        assert_eq!(hit.close.len(), 1, "{hit:?}");
    }
}
