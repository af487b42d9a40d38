//! Intent matching benchmark: load time and memory of the compiled template sets, and median /
//! p99 match time per sentence, for Sori's own sentences (the fixtures) and for Home
//! Assistant's sentences side by side with hassil (timed in the same run by
//! bench/intents_bench.py). Run through bench/intents.sh, which writes
//! bench/results/intents.md.
//!
//!   cargo bench --bench intents -- CASES.jsonl HASSIL.json OUT.md

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use sori::intent::{Grammar, RuntimeLists, data};
use sori::skill::{fixtures, load};

fn rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    pages * 4
}

fn stats(mut us: Vec<f64>) -> (f64, f64, f64) {
    us.sort_by(f64::total_cmp);
    let q = |p: f64| us[((us.len() - 1) as f64 * p).round() as usize];
    (q(0.5), q(0.99), us.iter().sum::<f64>() / us.len() as f64)
}

fn time_each(n: usize, f: &mut dyn FnMut(usize)) -> Vec<f64> {
    // Warm up once, then the median of 5 runs per sentence.
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        f(i);
        let mut runs = [0f64; 5];
        for r in &mut runs {
            let t = Instant::now();
            f(i);
            *r = t.elapsed().as_secs_f64() * 1e6;
        }
        runs.sort_by(f64::total_cmp);
        out.push(runs[2]);
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (cases_path, hassil_path, out_path) = match args.as_slice() {
        [a, b, c, ..] => (a.clone(), b.clone(), c.clone()),
        _ => {
            eprintln!(
                "usage: cargo bench --bench intents -- CASES.jsonl HASSIL.json OUT.md (see bench/intents.sh)"
            );
            return;
        }
    };
    let mut table = String::from(
        "| template set | sentences | load ms | memory MB | median µs | p99 µs | mean µs |\n|---|---|---|---|---|---|---|\n",
    );

    // Sori's own sentences through the whole brain (recognition only).
    let before = rss_kb();
    let t = Instant::now();
    let persona = sori::persona::Persona::new(&Default::default()).unwrap();
    let brain = load::builtin_in_memory(persona).unwrap();
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let mem = (rss_kb().saturating_sub(before)) as f64 / 1024.0;
    let cases = fixtures::load_dir(Path::new("tests/intents")).unwrap();
    let us = time_each(cases.len(), &mut |i| {
        std::hint::black_box(brain.recognize_with(
            &cases[i].sentence,
            &cases[i].lang,
            &cases[i].context,
        ));
    });
    let (med, p99, mean) = stats(us);
    table += &format!(
        "| Sori built-in (en+ko) | {} | {load_ms:.1} | {mem:.1} | {med:.1} | {p99:.1} | {mean:.1} |\n",
        cases.len()
    );

    // Sentences nothing should match: the slowest case, as every template is tried, and again
    // with the pass that forgives one misheard word (see `Matcher::tolerant`), and without.
    let none: Vec<_> = cases.iter().filter(|c| c.intent.is_none()).collect();
    let mut brain = brain;
    // The pass only where the grammar itself allows it (Korean never does, see `Grammar::build`).
    let own: Vec<bool> = brain
        .sources
        .iter()
        .chain(&brain.fallback)
        .map(|s| s.grammar.tolerant)
        .collect();
    for tolerant in [true, false] {
        for (s, own) in brain
            .sources
            .iter_mut()
            .chain(&mut brain.fallback)
            .zip(&own)
        {
            s.grammar.tolerant = tolerant && *own;
        }
        let us = time_each(none.len(), &mut |i| {
            std::hint::black_box(brain.recognize_with(
                &none[i].sentence,
                &none[i].lang,
                &none[i].context,
            ));
        });
        let (med, p99, mean) = stats(us);
        let label = if tolerant {
            "Sori built-in, sentences nothing matches (en+ko)"
        } else {
            "the same, without the misheard-word pass"
        };
        table += &format!(
            "| {label} | {} | – | – | {med:.1} | {p99:.1} | {mean:.1} |\n",
            none.len()
        );
    }

    // Home Assistant's data for the intents Sori serves, against hassil on the same sentences.
    let text = std::fs::read_to_string(&cases_path).unwrap();
    let mut lines = text.lines();
    let head: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let dir = Path::new(head["data_dir"].as_str().unwrap()).to_path_buf();
    let sampled: Vec<(String, String)> = lines
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            (
                v["lang"].as_str().unwrap().to_string(),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let served = [
        "HassGetCurrentTime",
        "HassGetCurrentDate",
        "HassNevermind",
        "HassStartTimer",
        "HassCancelTimer",
        "HassCancelAllTimers",
        "HassTimerStatus",
        "HassIncreaseTimer",
        "HassDecreaseTimer",
        "HassPauseTimer",
        "HassUnpauseTimer",
        "HassGetWeather",
        "HassMediaPause",
        "HassMediaUnpause",
        "HassMediaNext",
        "HassMediaPrevious",
        "HassMediaSearchAndPlay",
        "HassSetVolume",
        "HassSetVolumeRelative",
        "HassMediaPlayerMute",
        "HassMediaPlayerUnmute",
    ];
    let before = rss_kb();
    let t = Instant::now();
    let mut grammars = BTreeMap::new();
    for lang in ["en", "ko"] {
        let f = data::load(&dir.join(format!("{lang}.json"))).unwrap();
        grammars.insert(
            lang.to_string(),
            Grammar::build(lang, &[f], &|i| served.contains(&i)).unwrap(),
        );
    }
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let mem = (rss_kb().saturating_sub(before)) as f64 / 1024.0;
    let mut rt = RuntimeLists::default();
    for (name, vals) in [
        ("area", ["kitchen", "living room", "주방", "거실"]),
        (
            "name",
            ["radio", "kitchen speaker", "라디오", "주방 스피커"],
        ),
    ] {
        rt.set(name, vals.iter().map(|v| (v.to_string(), v.to_string())));
    }
    let ctx = BTreeMap::new();
    let us = time_each(sampled.len(), &mut |i| {
        let (lang, text) = &sampled[i];
        // Exact matching only, as hassil does (Sori's misheard-word pass is measured above).
        std::hint::black_box(grammars[lang].recognize_pass(text, &ctx, &rt, false));
    });
    let (med, p99, mean) = stats(us);
    table += &format!(
        "| Home Assistant, served intents (en+ko) — Sori | {} | {load_ms:.1} | {mem:.1} | {med:.1} | {p99:.1} | {mean:.1} |\n",
        sampled.len()
    );

    let hassil: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&hassil_path).unwrap()).unwrap();
    let hus: Vec<f64> = hassil["us"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let (hmed, hp99, hmean) = stats(hus);
    table += &format!(
        "| Home Assistant, served intents (en+ko) — hassil {} | {} | {:.1} | {:.1} | {hmed:.1} | {hp99:.1} | {hmean:.1} |\n",
        hassil["version"].as_str().unwrap_or(""),
        sampled.len(),
        hassil["load_ms"].as_f64().unwrap_or(0.0),
        hassil["memory_mb"].as_f64().unwrap_or(0.0)
    );
    table += &format!(
        "\nSori/hassil median match time: {:.3}× (lower is faster).\n",
        med / hmed
    );
    print!("{table}");
    std::fs::write(&out_path, table).unwrap();
}
