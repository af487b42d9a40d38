//! Backtracking matcher over compiled template nodes. It walks one template against one
//! normalised sentence, trying alternatives and slot spans, and collects complete matches; it
//! never enumerates the template's sentences.

use std::cell::Cell;
use std::sync::Arc;

use super::compile::{List, Node};
use super::fuzzy::{self, RuntimeLists};
use crate::values::{self, Value};

/// A filled slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Cap {
    pub slot: Arc<str>,
    pub value: Value,
    /// The words it came from.
    pub text: String,
    /// 1.0 unless fuzzily matched.
    pub score: f32,
    /// Other run-time values that were nearly as close.
    pub close: Vec<String>,
}

/// A complete match of one template and how good it is.
#[derive(Debug, Clone)]
pub struct Found {
    pub caps: Vec<Cap>,
    /// Template characters matched literally (more is more specific).
    pub literal: usize,
    /// Characters taken by wildcards (fewer is better on a tie, so a known name beats a
    /// wildcard).
    pub wild: usize,
    /// Sum of fuzzy scores' shortfalls.
    pub fuzz: f32,
    /// Wildcard slots filled.
    pub wildcards: usize,
    /// Template words heard as a different word (only in a tolerant match).
    pub errors: usize,
}

/// Higher is better: no misheard word, fewer wildcards, more template text, less text in
/// wildcards (as hassil's `recognize_best`, which Home Assistant uses), then closer fuzzy names.
pub type Rank = (i64, i64, usize, i64, i64);

impl Found {
    pub fn rank(&self) -> Rank {
        (
            -(self.errors as i64),
            -(self.wildcards as i64),
            self.literal,
            -(self.wild as i64),
            -((self.fuzz * 1000.0) as i64),
        )
    }
}

#[derive(Default)]
struct St {
    caps: Vec<Cap>,
    literal: usize,
    wild: usize,
    fuzz: f32,
    wildcards: usize,
    errors: usize,
}

pub struct Matcher<'a> {
    input: &'a str,
    lang: &'a str,
    /// Korean: spaces between words are optional on both sides.
    loose: bool,
    runtime: &'a RuntimeLists,
    steps: Cell<usize>,
    /// One template word may be heard as a similar-sounding word ("what time in it").
    tolerant: bool,
}

/// Work limit per template, so a pathological template cannot stall the loop.
const MAX_STEPS: usize = 40_000;
/// Complete matches kept per template before giving up on better ones.
const MAX_FOUND: usize = 24;
/// Longest span tried for a number, duration or time (bytes).
const MAX_VALUE_BYTES: usize = 64;
/// A misheard template word must be at least this similar to the word heard (by letters:
/// "in" for "is", "hell" for "tell", not "date" for "weather").
const MISHEARD_SIMILARITY: f32 = 0.5;
/// Template letters a tolerant match must still have matched exactly, so a short sentence
/// ("what is it") cannot become another with one word changed.
const MIN_EXACT_WITH_ERROR: usize = 10;

impl<'a> Matcher<'a> {
    pub fn new(input: &'a str, lang: &'a str, runtime: &'a RuntimeLists) -> Self {
        Matcher {
            input,
            lang,
            loose: lang == "ko",
            runtime,
            steps: Cell::new(0),
            tolerant: false,
        }
    }

    /// As `new`, but one template word may be matched by a similar word: a second pass for
    /// speech recognition errors when nothing matched exactly. Not for Korean, whose spacing is
    /// loose and whose recognition errors are within words.
    pub fn tolerant(input: &'a str, lang: &'a str, runtime: &'a RuntimeLists) -> Self {
        let mut m = Matcher::new(input, lang, runtime);
        m.tolerant = !m.loose;
        m
    }

    /// The best complete match of `node` against the whole input.
    pub fn best(&self, node: &Node) -> Option<Found> {
        self.steps.set(0);
        let mut found: Vec<Found> = Vec::new();
        let mut st = St::default();
        let len = self.input.len();
        self.m(node, 0, &mut st, &mut |pos, st| {
            let exact_enough = st.errors == 0 || st.literal >= MIN_EXACT_WITH_ERROR;
            if self.input[pos..].trim().is_empty() && pos <= len && exact_enough {
                found.push(Found {
                    caps: st.caps.clone(),
                    literal: st.literal,
                    wild: st.wild,
                    fuzz: st.fuzz,
                    wildcards: st.wildcards,
                    errors: st.errors,
                });
            }
            found.len() >= MAX_FOUND
        });
        // First best wins ties: template order is the author's preference.
        let mut best: Option<Found> = None;
        for f in found {
            if best.as_ref().is_none_or(|b| f.rank() > b.rank()) {
                best = Some(f);
            }
        }
        best
    }

    fn m(
        &self,
        n: &Node,
        pos: usize,
        st: &mut St,
        k: &mut dyn FnMut(usize, &mut St) -> bool,
    ) -> bool {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps > MAX_STEPS {
            return true;
        }
        match n {
            Node::Lit(l) => match self.lit(pos, l) {
                Some(end) => {
                    let n = l.chars().count();
                    st.literal += n;
                    let stop = k(end, st);
                    st.literal -= n;
                    stop
                }
                None => self.misheard(pos, l, st, k),
            },
            Node::Space => self.space(pos, st, k),
            Node::Seq(items) => self.seq(items, pos, st, k),
            Node::Alt(items) => items.iter().any(|i| self.m(i, pos, st, k)),
            Node::Slot { name, list } => self.slot(name, list, pos, st, k),
        }
    }

    fn seq(
        &self,
        items: &[Node],
        pos: usize,
        st: &mut St,
        k: &mut dyn FnMut(usize, &mut St) -> bool,
    ) -> bool {
        match items.split_first() {
            None => k(pos, st),
            Some((first, rest)) => self.m(first, pos, st, &mut |p, st| self.seq(rest, p, st, k)),
        }
    }

    fn lit(&self, pos: usize, lit: &str) -> Option<usize> {
        let rest = &self.input[pos..];
        if !self.loose {
            return rest.starts_with(lit).then(|| pos + lit.len());
        }
        // Korean: skip any spaces in the input between the literal's characters.
        let mut it = rest.char_indices().peekable();
        for want in lit.chars() {
            while let Some((_, ' ')) = it.peek() {
                it.next();
            }
            match it.next() {
                Some((_, c)) if c == want => {}
                _ => return None,
            }
        }
        Some(pos + it.peek().map_or(rest.len(), |(i, _)| *i))
    }

    /// In a tolerant match, the first template word not heard exactly may be a similar whole
    /// word of the input.
    fn misheard(
        &self,
        pos: usize,
        lit: &str,
        st: &mut St,
        k: &mut dyn FnMut(usize, &mut St) -> bool,
    ) -> bool {
        if !self.tolerant || st.errors > 0 || lit.chars().count() < 2 {
            return false;
        }
        if !lit.chars().all(char::is_alphabetic) || (pos > 0 && !self.input[..pos].ends_with(' ')) {
            return false;
        }
        let rest = &self.input[pos..];
        let word = rest.split(' ').next().unwrap_or_default();
        if word.is_empty() || fuzzy::similarity(word, lit) < MISHEARD_SIMILARITY {
            return false;
        }
        st.errors += 1;
        let stop = k(pos + word.len(), st);
        st.errors -= 1;
        stop
    }

    fn space(&self, pos: usize, st: &mut St, k: &mut dyn FnMut(usize, &mut St) -> bool) -> bool {
        let b = self.input.as_bytes();
        if b.get(pos) == Some(&b' ') {
            return k(pos + 1, st);
        }
        let prev = self.input[..pos].chars().next_back();
        let next = self.input[pos..].chars().next();
        let boundary = self.loose
            || prev.is_none_or(|c| c == ' ' || !c.is_alphanumeric())
            || next.is_none_or(|c| !c.is_alphanumeric());
        boundary && k(pos, st)
    }

    /// Where a span starting at `start` may end: word ends (any character in Korean).
    fn ends(&self, start: usize, max: usize) -> Vec<usize> {
        let rest = &self.input[start..];
        let mut out = Vec::new();
        let mut prev: Option<char> = None;
        for (i, c) in rest.char_indices() {
            if i > max {
                break;
            }
            if i > 0 && prev != Some(' ') {
                let digit_edge = prev.is_some_and(|p| p.is_ascii_digit()) != c.is_ascii_digit();
                if c == ' ' || self.loose || !c.is_alphanumeric() || digit_edge {
                    out.push(start + i);
                }
            }
            prev = Some(c);
        }
        if rest.len() <= max && prev.is_some_and(|p| p != ' ') {
            out.push(start + rest.len());
        }
        out
    }

    fn push(
        &self,
        st: &mut St,
        cap: Cap,
        k: &mut dyn FnMut(usize, &mut St) -> bool,
        end: usize,
    ) -> bool {
        st.caps.push(cap);
        let stop = k(end, st);
        st.caps.pop();
        stop
    }

    fn slot(
        &self,
        name: &Arc<str>,
        list: &List,
        pos: usize,
        st: &mut St,
        k: &mut dyn FnMut(usize, &mut St) -> bool,
    ) -> bool {
        let start = if self.input.as_bytes().get(pos) == Some(&b' ') {
            pos + 1
        } else {
            pos
        };
        if start >= self.input.len() {
            return false;
        }
        let cap = |value: Value, end: usize| Cap {
            slot: name.clone(),
            value,
            text: self.input[start..end].trim().to_string(),
            score: 1.0,
            close: Vec::new(),
        };
        match list {
            List::Values(entries) => entries.iter().any(|e| {
                let lit_before = st.literal;
                self.m(&e.node, start, st, &mut |end, st| {
                    // Words inside a list value do not count as template text.
                    let inside = st.literal - lit_before;
                    st.literal -= inside;
                    let text = self.input[start..end].trim().to_string();
                    let value = e.out.clone().unwrap_or_else(|| Value::Text(text.clone()));
                    let stop = self.push(
                        st,
                        Cap {
                            text,
                            ..cap(value, end)
                        },
                        k,
                        end,
                    );
                    st.literal += inside;
                    stop
                })
            }),
            List::Range {
                from,
                to,
                step,
                multiplier,
            } => self.ends(start, MAX_VALUE_BYTES).into_iter().any(|end| {
                let Some(Value::Int(n)) =
                    values::parse(values::Kind::Number, self.lang, &self.input[start..end])
                else {
                    return false;
                };
                if n < *from || n > *to || (n - from) % step != 0 {
                    return false;
                }
                let v = if *multiplier == 1.0 {
                    Value::Int(n)
                } else {
                    values::number_value(n as f64 * multiplier)
                };
                self.push(st, cap(v, end), k, end)
            }),
            List::Typed(kind) => self.ends(start, MAX_VALUE_BYTES).into_iter().any(|end| {
                match values::parse(*kind, self.lang, &self.input[start..end]) {
                    Some(v) => self.push(st, cap(v, end), k, end),
                    None => false,
                }
            }),
            List::Wildcard => self.ends(start, usize::MAX).into_iter().any(|end| {
                let c = cap(Value::Text(self.input[start..end].trim().to_string()), end);
                st.wild += end - start;
                st.wildcards += 1;
                let stop = self.push(st, c, k, end);
                st.wild -= end - start;
                st.wildcards -= 1;
                stop
            }),
            List::Runtime(list) => {
                let Some(entries) = self.runtime.get(list) else {
                    return false;
                };
                self.ends(start, 120).into_iter().any(|end| {
                    let Some(hit) = fuzzy::best(&self.input[start..end], entries) else {
                        return false;
                    };
                    let c = Cap {
                        score: hit.score,
                        close: hit.close,
                        ..cap(Value::Text(hit.value), end)
                    };
                    let shortfall = 1.0 - c.score;
                    st.fuzz += shortfall;
                    let stop = self.push(st, c, k, end);
                    st.fuzz -= shortfall;
                    stop
                })
            }
        }
    }
}
