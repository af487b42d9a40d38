//! Turns parsed templates, lists and rules into matcher nodes: rules are inlined, permutations
//! become alternatives, lists become slot matchers, text is normalised like the input.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::IntentError;
use super::data::{ListDef, ListValue, Loaded};
use super::normalize::{self, Piece};
use super::template::{self, Expr};
use crate::values::{Kind, Value};

#[derive(Debug)]
pub enum Node {
    Lit(String),
    /// A word gap: one space, or none at the start/end, after a space or (Korean) anywhere.
    Space,
    Seq(Vec<Node>),
    Alt(Vec<Node>),
    Slot {
        name: Arc<str>,
        list: Arc<List>,
    },
}

#[derive(Debug)]
pub enum List {
    /// Fixed phrases, each a small template, with the value they stand for.
    Values(Vec<ListEntry>),
    Range {
        from: i64,
        to: i64,
        step: i64,
        multiplier: f64,
    },
    Wildcard,
    Typed(Kind),
    /// Filled at run time (contacts, artists, places) and matched fuzzily.
    Runtime(String),
}

#[derive(Debug)]
pub struct ListEntry {
    pub node: Node,
    /// `out:`; `None` means the words as heard.
    pub out: Option<Value>,
    pub text: String,
}

/// Lists and rules in scope while compiling one block.
pub struct Scope<'a> {
    pub lists: Vec<&'a BTreeMap<String, ListDef>>,
    pub rules: Vec<&'a BTreeMap<String, String>>,
    pub file: &'a Loaded,
    /// Compiled lists, shared by every sentence that names them (file-wide ones only).
    pub cache: &'a mut BTreeMap<String, Arc<List>>,
}

const MAX_RULE_DEPTH: usize = 16;

impl Scope<'_> {
    fn err(&self, needle: &str, msg: String) -> IntentError {
        IntentError::File {
            path: self.file.path.display().to_string(),
            line: self.file.line_of(needle),
            msg,
        }
    }

    /// Compiles one template sentence.
    ///
    /// # Errors
    /// Grammar errors and unknown rules, naming the file and line.
    pub fn sentence(&mut self, text: &str) -> Result<Node, IntentError> {
        let expr = template::parse(text).map_err(|e| self.err(text, e.to_string()))?;
        self.node(&expr, text, 0)
    }

    fn node(&mut self, e: &Expr, src: &str, depth: usize) -> Result<Node, IntentError> {
        Ok(match e {
            Expr::Text(t) => text_node(t),
            Expr::Seq(items) => Node::Seq(
                items
                    .iter()
                    .map(|i| self.node(i, src, depth))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Alt(items) => Node::Alt(
                items
                    .iter()
                    .map(|i| self.node(i, src, depth))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Perm(items) => {
                if items.len() > 5 {
                    return Err(self.err(
                        src,
                        "a permutation of more than 5 items is too large".into(),
                    ));
                }
                let mut alts = Vec::new();
                for order in permutations(items.len()) {
                    let mut seq = Vec::new();
                    for (n, i) in order.into_iter().enumerate() {
                        if n > 0 {
                            seq.push(Node::Space);
                        }
                        seq.push(self.node(&items[i], src, depth)?);
                    }
                    alts.push(Node::Seq(seq));
                }
                Node::Alt(alts)
            }
            Expr::Rule(name) => {
                let body = self.rules.iter().rev().find_map(|r| r.get(name)).cloned();
                let Some(body) = body else {
                    return Err(
                        self.err(src, format!("unknown expansion rule <{name}> in \"{src}\""))
                    );
                };
                if depth >= MAX_RULE_DEPTH {
                    return Err(self.err(src, format!("expansion rule <{name}> refers to itself")));
                }
                let expr = template::parse(&body).map_err(|e| self.err(&body, e.to_string()))?;
                self.node(&expr, &body, depth + 1)?
            }
            Expr::List { list, slot } => Node::Slot {
                name: Arc::from(slot.as_str()),
                list: self.list(list, src)?,
            },
        })
    }

    fn list(&mut self, name: &str, src: &str) -> Result<Arc<List>, IntentError> {
        // Block-level lists shadow file-level ones and are not cached.
        let block_level =
            self.lists.len() > 1 && self.lists[1..].iter().any(|l| l.contains_key(name));
        if !block_level {
            if let Some(l) = self.cache.get(name) {
                return Ok(l.clone());
            }
        }
        let def = self.lists.iter().rev().find_map(|l| l.get(name)).cloned();
        let list = match def {
            None => List::Runtime(name.to_string()),
            Some(def) => self.list_def(name, &def, src)?,
        };
        let list = Arc::new(list);
        if !block_level {
            self.cache.insert(name.to_string(), list.clone());
        }
        Ok(list)
    }

    fn list_def(&mut self, name: &str, def: &ListDef, src: &str) -> Result<List, IntentError> {
        if def.fuzzy == Some(true) {
            return Ok(List::Runtime(name.to_string()));
        }
        if let Some(kind) = &def.kind {
            return Kind::from_name(kind).map(List::Typed).ok_or_else(|| {
                self.err(
                    &format!("type: {kind}"),
                    format!(
                        "list {name}: unknown type \"{kind}\" (one of {})",
                        Kind::NAMES.join(", ")
                    ),
                )
            });
        }
        if def.wildcard == Some(true) {
            return Ok(List::Wildcard);
        }
        if let Some(r) = &def.range {
            let step = r.step.unwrap_or(1);
            if step <= 0 || r.to < r.from {
                return Err(self.err(
                    name,
                    format!("list {name}: range needs from <= to and step > 0"),
                ));
            }
            return Ok(List::Range {
                from: r.from,
                to: r.to,
                step,
                multiplier: r.multiplier.unwrap_or(1.0),
            });
        }
        let Some(values) = &def.values else {
            return Err(self.err(
                &format!("{name}:"),
                format!(
                    "list {name} (used in \"{src}\") needs values, range, wildcard, type or fuzzy"
                ),
            ));
        };
        let mut entries = Vec::with_capacity(values.len());
        for v in values {
            let (input, out) = match v {
                ListValue::Plain(s) => (s.as_str(), None),
                ListValue::Mapped { input, out, .. } => {
                    (input.as_str(), out.as_ref().map(Value::from_json))
                }
            };
            let expr = template::parse(input).map_err(|e| self.err(input, e.to_string()))?;
            entries.push(ListEntry {
                node: self.node(&expr, input, 0)?,
                out,
                text: input.to_string(),
            });
        }
        Ok(List::Values(entries))
    }
}

/// Normalised text as literal runs and word gaps.
pub fn text_node(t: &str) -> Node {
    let mut seq = Vec::new();
    let mut lit = String::new();
    for p in normalize::chunk(t) {
        match p {
            Piece::Char(c) => lit.push(c),
            Piece::Space => {
                if !lit.is_empty() {
                    seq.push(Node::Lit(std::mem::take(&mut lit)));
                }
                if !matches!(seq.last(), Some(Node::Space)) {
                    seq.push(Node::Space);
                }
            }
        }
    }
    if !lit.is_empty() {
        seq.push(Node::Lit(lit));
    }
    if seq.len() == 1 {
        seq.pop().unwrap_or(Node::Seq(vec![]))
    } else {
        Node::Seq(seq)
    }
}

/// Words every match must contain (for a cheap check before matching).
pub fn required_words(n: &Node, out: &mut Vec<String>) {
    match n {
        Node::Lit(l) if l.chars().count() >= 2 => {
            out.push(l.chars().filter(|c| !c.is_whitespace()).collect())
        }
        Node::Seq(items) => items.iter().for_each(|i| required_words(i, out)),
        _ => {}
    }
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for at in 0..=rest.len() {
            let mut p = rest.clone();
            p.insert(at, n - 1);
            out.push(p);
        }
    }
    out
}
