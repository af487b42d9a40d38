//! The wake word on a real Wyoming server: `wyoming-openwakeword` (PyPI, its bundled
//! openWakeWord models) on loopback hears "hey jarvis" for `sori run`, and when it is not
//! there Sori hears the wake word itself.

mod common;

use std::process::Command;

use common::servers::{Server, doctor_check, start_tcp};

use common::daemon::*;
use common::*;

fn wake_server() -> (Server, String) {
    let out = Command::new(repo().join("scripts/pywake.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let python = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "wyoming_openwakeword",
        "--preload-model",
        "hey_jarvis",
    ]);
    start_tcp(cmd, "wyoming-openwakeword listens")
}

/// `sori run` in real time on "hey jarvis, tell me what time it is" with
/// `wake.remote`; its events and log.
fn run(
    remote: &str,
    wav: &std::path::Path,
    dir: &std::path::Path,
    extra: &[&str],
) -> (Vec<serde_json::Value>, String) {
    let ev = dir.join(format!("ev-{}.jsonl", free_port()));
    let out = sori()
        .args(["run", "--input"])
        .arg(wav)
        .arg("--events")
        .arg(&ev)
        .args([
            "--set",
            "audio.output=\"null\"",
            "--set",
            "stt.language=\"en\"",
        ])
        .args(["--set", "api.enabled=false"])
        .args(["--set", &format!("wake.remote=\"{remote}\"")])
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    (events(&ev), err)
}

#[test]
fn wyoming_openwakeword_hears_the_wake_word_and_sori_does_when_it_is_gone() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (w, c, u) = (d.join("w.wav"), d.join("c.wav"), d.join("u.wav"));
    espeak("hey jarvis", "en-us", &w);
    espeak("tell me what time it is", "en-us", &c);
    splice(&[&w, &c], 700, 22_050, &u);
    let (server, uri) = wake_server();

    // The local engine could not fire at this threshold: the server heard it.
    let (ev, err) = run(&uri, &u, d, &["--set", "wake.threshold=0.99"]);
    assert!(!err.contains("on this device"), "{err}");
    let wakes = of_type(&ev, "WakeDetected");
    assert_eq!(wakes.len(), 1, "{ev:#?}");
    assert_eq!(wakes[0]["name"], "hey_jarvis");
    let stt = of_type(&ev, "SttEnd");
    assert!(
        wer("tell me what time it is", stt[0]["text"].as_str().unwrap()) <= 0.2,
        "{ev:#?}"
    );
    assert_eq!(of_type(&ev, "RunEnd")[0]["outcome"], "answered", "{ev:#?}");

    let check = doctor_check(&[format!("wake.remote=\"{uri}\"")], "remote wake");
    assert_eq!(check["ok"], true, "{check}");
    assert!(
        check["detail"].as_str().unwrap().contains("hey_jarvis"),
        "{check}"
    );

    // Gone: Sori hears the wake word itself, and says so.
    drop(server);
    let (ev, err) = run(&uri, &u, d, &[]);
    assert!(
        err.contains("listening for the wake word on this device"),
        "{err}"
    );
    assert_eq!(of_type(&ev, "WakeDetected").len(), 1, "{ev:#?}");
    assert_eq!(of_type(&ev, "RunEnd")[0]["outcome"], "answered", "{ev:#?}");
}
