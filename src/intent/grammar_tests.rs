//! The grammar end to end on small inline files: every construct, context rules, errors.

use std::collections::BTreeMap;
use std::path::Path;

use super::data;
use super::fuzzy::RuntimeLists;
use super::grammar::Grammar;
use crate::values::Value;

fn grammar(lang: &str, yaml: &str) -> Grammar {
    let f = data::parse(Path::new("test.yaml"), yaml.to_string()).unwrap();
    Grammar::build(lang, &[f], &|_| true).unwrap()
}

fn rec(g: &Grammar, text: &str) -> Option<(String, BTreeMap<String, Value>)> {
    rec_with(g, text, &RuntimeLists::default())
}

fn rec_with(
    g: &Grammar,
    text: &str,
    rt: &RuntimeLists,
) -> Option<(String, BTreeMap<String, Value>)> {
    let r = g.recognize(text, &BTreeMap::new(), rt)?;
    Some((
        r.intent,
        r.slots.into_iter().map(|(k, v)| (k, v.value)).collect(),
    ))
}

const EN: &str = r#"
language: en
skip_words: [please, "can you"]
expansion_rules:
  what_is: "(what is|what's)"
  timer_len: "{minutes} minute[s]"
lists:
  minutes: { range: { from: 1, to: 100 } }
  percent: { range: { from: 0, to: 100, step: 10, multiplier: 0.01 } }
  color:
    values:
      - red
      - in: "(sky|light) blue"
        out: blue
  query: { wildcard: true }
  howlong: { type: duration }
  artist: { fuzzy: true }
intents:
  GetTime:
    data:
      - sentences: ["<what_is> the [current] time", "what time is it [[right] now]"]
  SetTimer:
    data:
      - sentences: ["set a timer for <timer_len>", "(start; a timer) for {howlong}"]
  SetColor:
    data:
      - sentences: ["make it {color}"]
        slots: { domain: light }
  Level:
    data:
      - sentences: ["level {percent}[%| percent]"]
  Play:
    data:
      - sentences: ["play {artist}"]
      - sentences: ["play {query}"]
        response: search
  Room:
    data:
      - sentences: ["lights on"]
        requires_context: { area: { slot: true } }
      - sentences: ["lights on"]
        excludes_context: { area: kitchen }
        response: no_area
"#;

#[test]
fn one_misheard_word_is_forgiven_when_it_sounds_alike_in_a_long_enough_sentence() {
    let g = grammar("en", EN);
    let rt = RuntimeLists::default();
    let r = g.recognize("What time in it right now?", &BTreeMap::new(), &rt);
    let r = r.expect("one misheard word");
    assert_eq!(r.intent, "GetTime");
    assert!(r.approximate);
    let exact = g.recognize("what time is it right now", &BTreeMap::new(), &rt);
    assert!(!exact.unwrap().approximate);
    // Unlike the word it stands for; too little left that matched exactly; two words off.
    for s in [
        "what time will it",
        "what's the timer",
        "what tame in it right now",
    ] {
        assert_eq!(rec(&g, s), None, "{s}");
    }
}

#[test]
fn alternatives_optionals_and_rules() {
    let g = grammar("en", EN);
    for s in [
        "What is the time?",
        "what's the current time",
        "what time is it",
        "What time is it right now",
        "what time is it now",
    ] {
        assert_eq!(rec(&g, s).map(|r| r.0), Some("GetTime".into()), "{s}");
    }
    assert_eq!(rec(&g, "what time is it right"), None);
    assert_eq!(rec(&g, "what's the timer"), None);
}

#[test]
fn ranges_words_and_digits() {
    let g = grammar("en", EN);
    let (i, s) = rec(&g, "set a timer for twenty-five minutes").unwrap();
    assert_eq!((i.as_str(), &s["minutes"]), ("SetTimer", &Value::Int(25)));
    assert_eq!(
        rec(&g, "set a timer for 1 minute").unwrap().1["minutes"],
        Value::Int(1)
    );
    assert_eq!(rec(&g, "set a timer for 101 minutes"), None);
    assert_eq!(
        rec(&g, "level 30%").unwrap().1["percent"],
        Value::Float(0.3)
    );
    assert_eq!(rec(&g, "level 35 percent"), None, "step 10");
}

#[test]
fn permutations_and_typed_values() {
    let g = grammar("en", EN);
    assert_eq!(
        rec(&g, "start a timer for an hour and a half").unwrap().1["howlong"],
        Value::Duration(5400)
    );
    assert_eq!(
        rec(&g, "a timer start for 5 minutes").unwrap().1["howlong"],
        Value::Duration(300)
    );
}

#[test]
fn list_values_map_in_to_out_and_fixed_slots() {
    let g = grammar("en", EN);
    let (_, s) = rec(&g, "make it light blue").unwrap();
    assert_eq!(s["color"], Value::Text("blue".into()));
    assert_eq!(s["domain"], Value::Text("light".into()));
    assert_eq!(
        rec(&g, "make it red").unwrap().1["color"],
        Value::Text("red".into())
    );
    assert_eq!(rec(&g, "make it green"), None);
}

#[test]
fn skip_words_and_wildcards() {
    let g = grammar("en", EN);
    assert_eq!(
        rec(&g, "can you tell... what time is it please").map(|r| r.0),
        None
    );
    assert_eq!(
        rec(&g, "Can you play some jazz please").unwrap().1["query"],
        Value::Text("some jazz".into())
    );
    assert_eq!(rec(&g, "playlist"), None, "a word boundary is kept");
}

#[test]
fn runtime_lists_match_fuzzily_before_wildcards() {
    let g = grammar("en", EN);
    let mut rt = RuntimeLists::default();
    rt.set(
        "artist",
        [("Norah Jones".to_string(), "Norah Jones".to_string())],
    );
    let (i, s) = rec_with(&g, "play nora jones", &rt).unwrap();
    assert_eq!(
        (i.as_str(), &s["artist"]),
        ("Play", &Value::Text("Norah Jones".into()))
    );
    assert_eq!(
        rec_with(&g, "play the radio", &rt).unwrap().1["query"],
        Value::Text("the radio".into())
    );
}

#[test]
fn context_rules() {
    let g = grammar("en", EN);
    let mut ctx = BTreeMap::new();
    let rt = RuntimeLists::default();
    // No area: only the excludes block (nothing excluded) matches.
    assert_eq!(
        g.recognize("lights on", &ctx, &rt)
            .unwrap()
            .response
            .as_deref(),
        Some("no_area")
    );
    ctx.insert("area".to_string(), serde_json::json!("kitchen"));
    let r = g.recognize("lights on", &ctx, &rt).unwrap();
    assert_eq!(r.slot("area"), Some(&Value::Text("kitchen".into())));
    assert_eq!(r.response, None);
}

#[test]
fn korean_spacing_variants_match() {
    let g = grammar(
        "ko",
        r#"
language: ko
lists:
  minutes: { range: { from: 1, to: 100 } }
intents:
  GetTime:
    data:
      - sentences: ["[지금] (몇 시야|몇 시지)", "시간 알려줘"]
  SetTimer:
    data:
      - sentences: ["{minutes}분 타이머 [맞춰 줘]", "타이머 {minutes}분[으로] 맞춰 줘"]
"#,
    );
    for s in [
        "지금 몇 시야?",
        "지금 몇시야",
        "몇시지",
        "지금몇시야",
        "시간 알려 줘",
    ] {
        assert_eq!(rec(&g, s).map(|r| r.0), Some("GetTime".into()), "{s}");
    }
    for (s, n) in [
        ("5분 타이머 맞춰줘", 5),
        ("오 분 타이머", 5),
        ("타이머 삼십 분으로 맞춰 줘", 30),
        ("스물다섯분 타이머", 25),
    ] {
        assert_eq!(
            rec(&g, s).map(|r| r.1["minutes"].clone()),
            Some(Value::Int(n)),
            "{s}"
        );
    }
}

#[test]
fn malformed_files_name_file_and_line() {
    let bad = "language: en\nintents:\n  X:\n    data:\n      - sentences:\n          - \"turn (on|off\"\n";
    let f = data::parse(Path::new("bad.yaml"), bad.to_string()).unwrap();
    let e = Grammar::build("en", &[f], &|_| true)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("bad.yaml:6:") && e.contains("missing ')'"),
        "{e}"
    );
    let e = data::parse(
        Path::new("broken.yaml"),
        "language: en\nintents: [\n".into(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.starts_with("broken.yaml:") && !e.starts_with("broken.yaml:0"),
        "{e}"
    );
    let unknown = "language: en\nintents:\n  X:\n    data:\n      - sentences: [\"<nope> x\"]\n";
    let f = data::parse(Path::new("rule.yaml"), unknown.to_string()).unwrap();
    let e = Grammar::build("en", &[f], &|_| true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("rule.yaml:5") && e.contains("<nope>"), "{e}");
}
