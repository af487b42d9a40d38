//! Shared test support: the built `sori` binary, models, the eval recordings, speech
//! synthesized with espeak-ng, and a headless PulseAudio server for the real device path.
#![allow(dead_code)]

pub mod daemon;
pub mod http;
pub mod library;
pub mod pulse;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `sori` binary under test, with a clean environment for config lookups.
pub fn sori() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sori"));
    c.env_remove("SORI_CONFIG")
        .env("XDG_CONFIG_HOME", repo().join("target/test-no-config"))
        // Never the developer's own timers and alarms; tests that keep state pass state.dir.
        .env(
            "XDG_STATE_HOME",
            repo().join(format!("target/test-state/{}", std::process::id())),
        );
    for (k, _) in std::env::vars() {
        if k.starts_with("SORI_") && k != "SORI_EVAL_DIR" {
            c.env_remove(k);
        }
    }
    c
}

/// The built-in skills on an in-memory state database, always with the first variant of each
/// reply (so tests can compare replies).
pub fn test_brain() -> sori::skill::Brain {
    let persona = sori::persona::Persona::new(&Default::default()).unwrap();
    let mut b = sori::skill::load::builtin_in_memory(persona).unwrap();
    b.responses.fixed = true;
    b.persona.fixed = true;
    b
}

/// Models must be installed (`sori models fetch`); tests fail loudly rather than skip.
pub fn require_models() {
    let m = repo().join("models/whisper/ggml-base-q8_0.bin");
    assert!(
        m.is_file(),
        "{} is missing: run `cargo run --release -- models fetch` (scripts/test.sh does)",
        m.display()
    );
}

/// The default config, with the models this checkout's `sori models fetch` installed.
pub fn models_config() -> sori::config::Config {
    let mut cfg = sori::config::Config::default();
    cfg.models.dir = repo().join("models").display().to_string();
    cfg
}

/// `../shared/eval` (or `$SORI_EVAL_DIR`): real recordings. `None` (and a note) where absent.
pub fn eval_dir() -> Option<PathBuf> {
    let d = std::env::var_os("SORI_EVAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/eval"));
    if d.join("manifest.tsv").is_file() {
        Some(d)
    } else {
        eprintln!(
            "SKIP: no eval recordings at {} (set SORI_EVAL_DIR)",
            d.display()
        );
        None
    }
}

/// Synthesizes `text` with espeak-ng into `out` (22.05 kHz mono).
pub fn espeak(text: &str, voice: &str, out: &Path) {
    let st = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "130", "-w"])
        .arg(out)
        .arg(text)
        .status()
        .expect("espeak-ng is not installed: run scripts/deps.sh --test");
    assert!(st.success(), "espeak-ng failed");
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Lower-case words without punctuation, digits kept as written.
pub fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Word error rate of `hyp` against `reference` (edit distance over words / reference words).
pub fn wer(reference: &str, hyp: &str) -> f32 {
    let (r, h) = (words(reference), words(hyp));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rw != hw))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f32 / r.len().max(1) as f32
}

/// Parses `sori transcribe --json` output lines.
pub fn transcripts(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// A TCP port that was free a moment ago (for servers the tests start).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `ok` until it holds, failing the test after 20 s with `what`.
pub fn wait_until(what: &str, ok: impl FnMut() -> bool) {
    wait_for(what, std::time::Duration::from_secs(20), ok);
}

/// `wait_until` with its own limit (servers that load a model before they listen).
pub fn wait_for(what: &str, limit: std::time::Duration, mut ok: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The Python with the test servers (aiosmtpd, Synapse): scripts/test.sh exports it;
/// otherwise scripts/pyservers.sh installs it now.
pub fn servers_python() -> String {
    std::env::var("SORI_SERVERS_PYTHON").unwrap_or_else(|_| {
        let out = Command::new(repo().join("scripts/pyservers.sh"))
            .output()
            .expect("scripts/pyservers.sh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}
