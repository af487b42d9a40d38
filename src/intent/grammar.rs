//! One language's compiled templates and how a sentence is recognised against them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value as Json;

use super::compile::{self, List, Node, Scope};
use super::data::Loaded;
use super::fuzzy::RuntimeLists;
use super::matcher::{Found, Matcher};
use super::{IntentError, Recognized, Slot, normalize};
use crate::values::Value;

/// What a block of sentences shares.
#[derive(Debug)]
pub struct BlockInfo {
    pub intent: String,
    pub slots: Vec<(String, Value)>,
    pub requires: BTreeMap<String, Json>,
    pub excludes: BTreeMap<String, Json>,
    pub response: Option<String>,
    pub metadata: Option<Json>,
    /// The file it came from (for `sori skill test` and logs).
    pub origin: String,
}

#[derive(Debug)]
pub struct Sentence {
    pub block: usize,
    pub node: Node,
    /// Literal words the sentence cannot match without.
    pub required: Vec<String>,
    pub template: String,
}

#[derive(Debug, Default)]
pub struct Grammar {
    pub lang: String,
    pub sentences: Vec<Sentence>,
    pub blocks: Vec<BlockInfo>,
    pub skip_words: Vec<String>,
    /// File-wide lists by name (for the vocabulary and run-time list names).
    pub lists: BTreeMap<String, Arc<List>>,
    /// When nothing matches exactly, try again allowing one misheard word (English; on by
    /// default, off only to measure what it costs).
    pub tolerant: bool,
}

impl Grammar {
    /// Compiles `files` (all of one language) into a grammar; `keep` picks the intents.
    ///
    /// # Errors
    /// The first malformed template, list or rule, naming its file and line.
    pub fn build(
        lang: &str,
        files: &[Loaded],
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<Self, IntentError> {
        let mut g = Grammar {
            lang: lang.to_string(),
            tolerant: lang != "ko",
            ..Grammar::default()
        };
        // Lists and rules are shared by every file of the language, as in hassil.
        let mut lists = BTreeMap::new();
        let mut rules = BTreeMap::new();
        for f in files {
            lists.extend(f.file.lists.clone());
            rules.extend(f.file.expansion_rules.clone());
            for w in &f.file.skip_words {
                let w = normalize::sentence(w);
                if !w.is_empty() && !g.skip_words.contains(&w) {
                    g.skip_words.push(w);
                }
            }
        }
        // Longest first so "can you" goes before "can".
        g.skip_words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut cache = BTreeMap::new();
        for f in files {
            for (intent, def) in &f.file.intents {
                if !keep(intent) {
                    continue;
                }
                for block in &def.data {
                    let mut scope = Scope {
                        lists: vec![&lists, &block.lists],
                        rules: vec![&rules, &block.expansion_rules],
                        file: f,
                        cache: &mut cache,
                    };
                    let index = g.blocks.len();
                    for s in &block.sentences {
                        let node = scope.sentence(s)?;
                        let mut required = Vec::new();
                        compile::required_words(&node, &mut required);
                        g.sentences.push(Sentence {
                            block: index,
                            node,
                            required,
                            template: s.clone(),
                        });
                    }
                    g.blocks.push(BlockInfo {
                        intent: intent.clone(),
                        slots: block
                            .slots
                            .iter()
                            .map(|(k, v)| (k.clone(), Value::from_json(v)))
                            .collect(),
                        requires: block.requires_context.clone(),
                        excludes: block.excludes_context.clone(),
                        response: block.response.clone(),
                        metadata: block.metadata.clone(),
                        origin: f.path.display().to_string(),
                    });
                }
            }
        }
        g.lists = cache;
        Ok(g)
    }

    /// Names of the intents this grammar knows.
    pub fn intents(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.blocks.iter().map(|b| b.intent.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Recognises `text`, or `None`: exactly, else allowing one misheard word. `context` is
    /// what the conversation knows (for `requires_context`/`excludes_context`); `runtime` the
    /// lists filled at run time.
    pub fn recognize(
        &self,
        text: &str,
        context: &BTreeMap<String, Json>,
        runtime: &RuntimeLists,
    ) -> Option<Recognized> {
        self.recognize_pass(text, context, runtime, false)
            .or_else(|| self.recognize_pass(text, context, runtime, true))
    }

    /// One pass of `recognize`: exact, or (`tolerant`) allowing one misheard word, which
    /// Korean and grammars with `tolerant` off never do (see `Matcher::tolerant`). Several
    /// grammars are asked exactly first, so an exact match in any beats a tolerant one.
    pub fn recognize_pass(
        &self,
        text: &str,
        context: &BTreeMap<String, Json>,
        runtime: &RuntimeLists,
        tolerant: bool,
    ) -> Option<Recognized> {
        if tolerant && !self.tolerant {
            return None;
        }
        let full = normalize::sentence(text);
        if full.is_empty() {
            return None;
        }
        let mut variants = vec![full.clone()];
        let stripped = self.strip_skip_words(&full);
        if stripped != full && !stripped.is_empty() {
            variants.push(stripped);
        }
        let (s, found) = self.best(&variants, context, runtime, tolerant)?;
        let (rank, open_ended, approximate) = (found.rank(), found.wild > 0, found.errors > 0);
        let block = &self.blocks[s.block];
        let mut slots = BTreeMap::new();
        for c in found.caps {
            slots.insert(
                c.slot.to_string(),
                Slot {
                    value: c.value,
                    text: c.text,
                    score: c.score,
                    close: c.close,
                },
            );
        }
        for (k, v) in &block.slots {
            slots
                .entry(k.clone())
                .or_insert_with(|| Slot::fixed(v.clone()));
        }
        // `requires_context: {area: {slot: true}}` copies the context's value into a slot.
        for (k, want) in &block.requires {
            let Some(to) = want.get("slot").and_then(|s| {
                s.as_str()
                    .map(str::to_string)
                    .or_else(|| s.as_bool().filter(|b| *b).map(|_| k.clone()))
            }) else {
                continue;
            };
            if let Some(v) = context.get(k) {
                let v = v.get("value").unwrap_or(v);
                slots
                    .entry(to)
                    .or_insert_with(|| Slot::fixed(Value::from_json(v)));
            }
        }
        Some(Recognized {
            intent: block.intent.clone(),
            slots,
            response: block.response.clone(),
            metadata: block.metadata.clone(),
            text: text.trim().to_string(),
            lang: self.lang.clone(),
            template: s.template.clone(),
            rank,
            open_ended,
            approximate,
        })
    }

    /// The best-ranked sentence matching one of `variants`; `tolerant`: allowing one misheard
    /// word (see `Matcher::tolerant`).
    fn best(
        &self,
        variants: &[String],
        context: &BTreeMap<String, Json>,
        runtime: &RuntimeLists,
        tolerant: bool,
    ) -> Option<(&Sentence, Found)> {
        let mut best: Option<(&Sentence, Found)> = None;
        for input in variants {
            let squeezed: String = input.chars().filter(|c| *c != ' ').collect();
            let matcher = if tolerant {
                Matcher::tolerant(input, &self.lang, runtime)
            } else {
                Matcher::new(input, &self.lang, runtime)
            };
            for s in &self.sentences {
                // The misheard word may be a required one.
                let missing = s
                    .required
                    .iter()
                    .filter(|w| !squeezed.contains(w.as_str()))
                    .count();
                if missing > usize::from(tolerant) {
                    continue;
                }
                let block = &self.blocks[s.block];
                if !context_ok(block, context) {
                    continue;
                }
                if let Some(f) = matcher.best(&s.node) {
                    if best.as_ref().is_none_or(|(_, b)| f.rank() > b.rank()) {
                        best = Some((s, f));
                    }
                }
            }
        }
        best
    }

    fn strip_skip_words(&self, text: &str) -> String {
        let mut words = format!(" {text} ");
        for w in &self.skip_words {
            let pat = format!(" {w} ");
            while let Some(at) = words.find(&pat) {
                words.replace_range(at..at + pat.len(), " ");
            }
        }
        normalize::sentence(&words)
    }
}

/// hassil's context rules: every required key present with an allowed value, no excluded one.
fn context_ok(block: &BlockInfo, context: &BTreeMap<String, Json>) -> bool {
    let value_of = |v: &Json| v.get("value").cloned().unwrap_or_else(|| v.clone());
    let allowed = |want: &Json, have: &Json| match want {
        Json::Array(options) => options.contains(have),
        Json::Null => true,
        w => w == have,
    };
    for (k, want) in &block.requires {
        let Some(have) = context.get(k) else {
            return false;
        };
        let want = if want.is_object() {
            want.get("value").cloned().unwrap_or(Json::Null)
        } else {
            want.clone()
        };
        if !allowed(&want, &value_of(have)) {
            return false;
        }
    }
    for (k, not) in &block.excludes {
        if let Some(have) = context.get(k) {
            if allowed(not, &value_of(have)) {
                return false;
            }
        }
    }
    true
}

impl Grammar {
    /// Words and phrases this grammar expects: template words and list values (run-time lists
    /// come from `RuntimeLists::spoken`). For biasing speech recognition.
    pub fn vocabulary(&self, out: &mut std::collections::BTreeSet<String>) {
        fn walk(n: &Node, lang: &str, out: &mut std::collections::BTreeSet<String>) {
            match n {
                Node::Lit(l) if l.chars().any(char::is_alphabetic) => {
                    out.insert(l.clone());
                }
                Node::Seq(items) | Node::Alt(items) => {
                    items.iter().for_each(|i| walk(i, lang, out))
                }
                Node::Slot { list, .. } => match &**list {
                    List::Values(entries) => entries.iter().for_each(|e| walk(&e.node, lang, out)),
                    List::Typed(kind) => out.extend(
                        crate::values::vocabulary(*kind, lang)
                            .iter()
                            .map(|w| w.to_string()),
                    ),
                    _ => {}
                },
                _ => {}
            }
        }
        for s in &self.sentences {
            walk(&s.node, &self.lang, out);
        }
    }
}
