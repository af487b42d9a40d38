//! The local API against a running `sori run` on virtual devices: every endpoint, the token,
//! JSON errors, the events WebSocket following a run started by `/api/ask`, and the dashboard
//! in a real browser (Debian's Chromium driven by playwright-core).

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::daemon::{start_daemon, terminate};
use common::pulse::Pulse;
use serde_json::{Value, json};

struct Sori {
    child: std::process::Child,
    base: String,
    http: reqwest::blocking::Client,
    _dir: tempfile::TempDir,
    _pulse: Pulse,
}

impl Drop for Sori {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

fn start(extra: &[&str]) -> Sori {
    common::require_models();
    sori::net::install_tls_provider();
    let pulse = Pulse::start();
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let state = format!("state.dir=\"{}\"", dir.path().join("state").display());
    let mut args = vec![
        "--set".to_string(),
        state,
        "--set".into(),
        format!(
            "api.bind=\"{}:{port}\"",
            if extra.is_empty() {
                "127.0.0.1"
            } else {
                "0.0.0.0"
            }
        ),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (child, _log) = start_daemon(&pulse, &dir.path().join("events.jsonl"), &refs);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap();
    let s = Sori {
        child,
        base,
        http,
        _dir: dir,
        _pulse: pulse,
    };
    common::wait_until("the API to listen", || {
        s.http.get(format!("{}/api/status", s.base)).send().is_ok()
    });
    s
}

impl Sori {
    fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }

    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }

    /// Every event the WebSocket sends, from now on.
    fn events(&self) -> mpsc::Receiver<Value> {
        let url = format!("{}/api/events", self.base.replace("http://", "ws://"));
        let (mut ws, _) = tokio_tungstenite::tungstenite::connect(url).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            while let Ok(m) = ws.read() {
                if let Ok(text) = m.to_text()
                    && let Ok(v) = serde_json::from_str(text)
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        });
        rx
    }
}

/// Events of run `run` until its `RunEnd` (or 30 s).
fn run_events(rx: &mpsc::Receiver<Value>, run: u64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut out = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(e) = rx.recv_timeout(left) else { break };
        if e["run"] == run {
            let end = e["type"] == "RunEnd";
            out.push(e);
            if end {
                break;
            }
        }
    }
    out
}

fn types(ev: &[Value]) -> Vec<&str> {
    ev.iter().filter_map(|e| e["type"].as_str()).collect()
}

#[test]
fn every_endpoint_works_and_bad_requests_get_clear_errors() {
    let s = start(&[]);
    let (code, st) = s.get("/api/status");
    assert_eq!(code, 200, "{st}");
    assert_eq!(st["state"], "idle");
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(st["wake_words"], json!(["hey_jarvis"]));

    // A typed command runs through the loop: the WebSocket sees the whole run, spoken reply
    // included, and the answer comes back.
    let ws = s.events();
    let (code, a) = s.post("/api/ask", r#"{"text": "what time is it"}"#);
    assert_eq!(code, 200, "{a}");
    assert!(a["reply"].as_str().unwrap().starts_with("It's"), "{a}");
    assert_eq!(a["intent"], "HassGetCurrentTime");
    let run = a["run"].as_u64().unwrap();
    let ev = run_events(&ws, run);
    assert_eq!(
        types(&ev),
        [
            "RunStart",
            "Text",
            "IntentEnd",
            "SkillEnd",
            "TtsStart",
            "TtsEnd",
            "RunEnd"
        ],
        "{ev:#?}"
    );
    assert_eq!(ev[1]["text"], "what time is it");

    // Quietly, in Korean: answered, not spoken.
    let (code, a) = s.post("/api/ask", r#"{"text": "지금 몇 시야", "speak": false}"#);
    assert_eq!(code, 200, "{a}");
    assert_eq!(a["language"], "ko");
    assert!(a["reply"].as_str().unwrap().contains('시'), "{a}");
    let ev = run_events(&ws, a["run"].as_u64().unwrap());
    assert!(!types(&ev).contains(&"TtsStart"), "{ev:#?}");

    // Bad requests: 400 and what is wrong.
    for (body, says) in [
        ("{", "EOF"),
        (r#"{"txt": "hi"}"#, "unknown field"),
        (r#"{"text": "  "}"#, "empty"),
        (r#"{"text": "hi", "lang": "fr"}"#, "\"en\" or \"ko\""),
    ] {
        let (code, e) = s.post("/api/ask", body);
        assert_eq!(code, 400, "{body}: {e}");
        assert!(e["error"].as_str().unwrap().contains(says), "{body}: {e}");
    }
    let (code, e) = s.post("/api/volume", r#"{"level": 300}"#);
    assert_eq!(code, 400, "{e}");
    let (code, e) = s.get("/api/nothing");
    assert_eq!((code, e["error"].is_string()), (404, true), "{e}");

    // Sori says something.
    let (code, r) = s.post("/api/say", r#"{"text": "Dinner is ready."}"#);
    assert_eq!(code, 202, "{r}");
    let said = (0..200)
        .filter_map(|_| ws.recv_timeout(Duration::from_millis(100)).ok())
        .find(|e| e["type"] == "Announce");
    assert_eq!(said.unwrap()["speech"], "Dinner is ready.");

    // History: the runs with their transcripts and timings, newest first.
    common::wait_until("the runs in the history", || {
        s.get("/api/runs?limit=5").1["runs"]
            .as_array()
            .is_some_and(|r| r.len() >= 3)
    });
    let (_, h) = s.get("/api/runs?limit=5");
    let runs = h["runs"].as_array().unwrap();
    let asked = runs
        .iter()
        .find(|r| r["transcript"] == "what time is it")
        .expect("the typed run");
    assert_eq!(asked["source"], "text");
    assert_eq!(asked["outcome"], "answered");
    assert!(
        asked["timings"]["first_audio_ms"].as_u64().is_some(),
        "{asked}"
    );
    assert!(
        runs.iter().any(|r| r["source"] == "announcement"),
        "{runs:?}"
    );

    // Mute (the microphone) and volume (the speaker), seen in the status.
    let (code, m) = s.post("/api/mute", r#"{"muted": true}"#);
    assert_eq!((code, &m["muted"]), (200, &json!(true)));
    common::wait_until("muted", || s.get("/api/status").1["muted"] == true);
    s.post("/api/mute", r#"{"muted": false}"#);
    let (code, v) = s.post("/api/volume", r#"{"level": 30}"#);
    assert_eq!((code, &v["level"]), (200, &json!(30)), "{v}");
    assert_eq!(s.get("/api/status").1["volume"]["level"], 30);

    // The dashboard page.
    let page = s.http.get(&s.base).send().unwrap().text().unwrap();
    assert!(page.contains("Ask Sori"), "{page}");
}

#[test]
fn off_loopback_every_request_needs_the_token() {
    // Without a token, binding beyond loopback is refused, naming the key.
    let out = common::sori()
        .args(["--set", "api.bind=\"0.0.0.0:8340\"", "ask", "hello"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("api.token"), "{err}");

    let s = start(&["--set", "api.token=\"sesame-open-42\""]);
    assert_eq!(s.get("/api/status").0, 401);
    assert_eq!(s.post("/api/ask", r#"{"text": "hi"}"#).0, 401);
    let with = |auth: &str| {
        s.http
            .get(format!("{}/api/status", s.base))
            .header("authorization", auth)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(with("Bearer wrong"), 401);
    assert_eq!(with("Bearer sesame-open-42"), 200);
    assert_eq!(s.get("/api/status?token=sesame-open-42").0, 200);
    // The WebSocket too.
    let url = format!("{}/api/events", s.base.replace("http://", "ws://"));
    assert!(tokio_tungstenite::tungstenite::connect(&url).is_err());
    assert!(tokio_tungstenite::tungstenite::connect(format!("{url}?token=sesame-open-42")).is_ok());
}

#[test]
fn the_dashboard_works_in_a_real_browser() {
    let node_path = match std::env::var("SORI_BROWSER_NODE_PATH") {
        Ok(p) => p,
        Err(_) => {
            let out = common::run_ok(&mut std::process::Command::new(
                common::repo().join("scripts/browser.sh"),
            ));
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        }
    };
    let s = start(&[]);
    let artifacts = common::repo().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let out = std::process::Command::new("node")
        .arg(common::repo().join("tests/browser/dashboard.mjs"))
        .arg(&s.base)
        .arg(&shot)
        .env("NODE_PATH", &node_path)
        .output()
        .expect("node (Node.js) is needed for the browser test");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        seen["reply"].as_str().unwrap().starts_with("It's"),
        "{seen}"
    );
    assert!(seen["rows"].as_u64().unwrap() >= 1, "{seen}");
    // A real PNG of the page, for the test artefacts.
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}
