//! Differential test against hassil, Home Assistant's own matcher (PyPI `hassil`, installed by
//! scripts/hassil.sh): sentences sampled from Home Assistant's intent data for the intents Sori
//! serves must give the same intent and slot values in Sori's engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sori::intent::{Grammar, RuntimeLists, data};

/// The venv scripts/hassil.sh makes (or `SORI_HASSIL_PYTHON`).
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("SORI_HASSIL_PYTHON") {
        return PathBuf::from(p);
    }
    let cache = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache"));
    let p = cache.join("sori/hassil/venv/bin/python");
    assert!(
        p.is_file(),
        "hassil is not installed: run scripts/hassil.sh (scripts/test.sh does)"
    );
    p
}

fn world(lang: &str) -> RuntimeLists {
    let mut rt = RuntimeLists::default();
    let lists: &[(&str, &[&str])] = if lang == "ko" {
        &[
            ("area", &["주방", "거실"]),
            ("name", &["라디오", "주방 스피커"]),
            ("floor", &["이층"]),
        ]
    } else {
        &[
            ("area", &["kitchen", "living room"]),
            ("name", &["radio", "kitchen speaker"]),
            ("floor", &["upstairs"]),
        ]
    };
    for (name, values) in lists {
        rt.set(name, values.iter().map(|v| (v.to_string(), v.to_string())));
    }
    rt
}

fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

#[test]
fn sori_agrees_with_hassil_on_home_assistant_sentences() {
    // Another seed samples other sentences: SORI_HASSIL_SEED=11 cargo test --test hassil.
    let seed = std::env::var("SORI_HASSIL_SEED").unwrap_or_else(|_| "7".into());
    let out = Command::new(python())
        .arg("tests/hassil/sample.py")
        .arg(&seed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = std::str::from_utf8(&out.stdout).unwrap().lines();
    let head: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let data_dir = Path::new(head["data_dir"].as_str().unwrap());
    let served: Vec<String> = {
        let src = std::fs::read_to_string("tests/hassil/sample.py").unwrap();
        let start = src.find("SERVED = [").unwrap();
        let end = start + src[start..].find(']').unwrap();
        src[start..end]
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let mut grammars = BTreeMap::new();
    for lang in ["en", "ko"] {
        let f = data::load(&data_dir.join(format!("{lang}.json"))).unwrap();
        let g = Grammar::build(lang, &[f], &|i| served.iter().any(|s| s == i)).unwrap();
        grammars.insert(lang, (g, world(lang)));
    }
    let ctx = BTreeMap::new();
    let (mut total, mut matched) = (0, 0);
    let mut diffs = Vec::new();
    for line in lines {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let lang = case["lang"].as_str().unwrap();
        let text = case["text"].as_str().unwrap();
        let (g, rt) = &grammars[lang];
        let got = g.recognize(text, &ctx, rt);
        total += 1;
        let want_intent = case["intent"].as_str();
        let got_intent = got.as_ref().map(|r| r.intent.as_str());
        let mut problem = None;
        if want_intent != got_intent {
            problem = Some(format!("intent {got_intent:?}, hassil {want_intent:?}"));
        } else if let Some(r) = &got {
            let want = case["slots"].as_object().unwrap();
            let have: BTreeMap<&String, serde_json::Value> = r
                .slots
                .iter()
                .map(|(k, s)| (k, s.value.to_json()))
                .collect();
            for (k, v) in want {
                if !have.get(k).is_some_and(|h| same(h, v)) {
                    problem = Some(format!("slot {k}: {:?}, hassil {v}", have.get(k)));
                }
            }
            for k in have.keys() {
                if !want.contains_key(*k) {
                    problem = Some(format!("extra slot {k}: {}", have[k]));
                }
            }
        }
        match problem {
            None => matched += 1,
            Some(p) => diffs.push(format!("[{lang}] {text}: {p}")),
        }
    }
    eprintln!("hassil agreement: {matched}/{total}");
    assert!(total > 400, "too few sampled sentences: {total}");
    assert!(
        diffs.is_empty(),
        "{} of {total} differ from hassil:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
