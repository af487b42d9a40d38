//! Wyoming against the reference `wyoming` library (PyPI): Sori's remote speech to text talks to
//! a server built with it (`tests/servers/wyoming_asr.py`) and to the real
//! `wyoming-faster-whisper` with the registry's base model, `sori doctor` reads their `info`,
//! and when the server is slow, killed or gone Sori transcribes with its local whisper instead.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::servers::{Server, doctor_check, start_tcp};

/// Starts the reference-library ASR server on a free port; its `tcp://` address.
fn asr_server(extra: &[&str]) -> (Server, String) {
    let mut cmd = Command::new(common::servers_python());
    cmd.arg(common::repo().join("tests/servers/wyoming_asr.py"))
        .args(extra);
    start_tcp(cmd, "the wyoming server listens")
}

fn jfk() -> Option<std::path::PathBuf> {
    common::eval_dir().map(|e| e.join("audio/whisper_jfk.wav"))
}

fn transcribe(remote: &str, extra: &[&str], wav: &std::path::Path) -> std::process::Output {
    common::sori()
        .args(["transcribe", "--json", "--set"])
        .arg(format!("stt.remote=\"{remote}\""))
        .args(extra)
        .arg(wav)
        .output()
        .unwrap()
}

/// `sori doctor`'s check of the remote at `uri`.
fn doctor_remote_check(uri: &str) -> serde_json::Value {
    doctor_check(&[format!("stt.remote=\"{uri}\"")], "remote stt")
}

fn text(out: &std::process::Output) -> String {
    let t = common::transcripts(out);
    t[0]["text"].as_str().unwrap().to_string()
}

#[test]
fn a_remote_server_transcribes_and_doctor_sees_it() {
    common::require_models();
    let Some(wav) = jfk() else { return };
    let (_server, uri) = asr_server(&[]);
    let out = transcribe(&uri, &["--lang", "ko"], &wav);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 11 s at 16 kHz, streamed whole, in the configured language.
    let said = text(&out);
    let n: usize = said
        .strip_prefix("heard ")
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not the server's answer: {said}"));
    let expected = sori::audio::wav::load_16k_mono(&wav).unwrap().len();
    assert_eq!(n, expected, "{said}");
    assert!(said.ends_with("at 16000 hertz in ko"), "{said}");

    let remote = doctor_remote_check(&uri);
    assert_eq!(remote["ok"], true, "{remote}");
    assert_eq!(remote["detail"], format!("{uri} answers: counter"));
}

#[test]
fn a_dead_or_slow_server_falls_back_to_the_local_whisper() {
    common::require_models();
    let Some(wav) = jfk() else { return };
    let local_words = "and so my fellow americans ask not what your country can do for you ask what you can do for your country";

    // Nothing listens there.
    let port = common::free_port();
    let dead = format!("tcp://127.0.0.1:{port}");
    let out = transcribe(&dead, &["--lang", "en"], &wav);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        common::wer(local_words, &text(&out)) < 0.3,
        "{}",
        text(&out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("transcribing on this device"), "{err}");

    // A server slower than the timeout: one timeout, then the local answer.
    let (_server, slow) = asr_server(&["--delay", "5"]);
    let started = Instant::now();
    let out = transcribe(
        &slow,
        &["--lang", "en", "--set", "stt.remote_timeout_ms=500"],
        &wav,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        common::wer(local_words, &text(&out)) < 0.3,
        "{}",
        text(&out)
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the slow server held Sori up"
    );

    // A server killed while it holds the command: the local answer, without waiting out the
    // (long) timeout.
    let (server, dying) = asr_server(&["--delay", "20"]);
    let started = Instant::now();
    let child = common::sori()
        .args(["transcribe", "--json", "--lang", "en", "--set"])
        .arg(format!("stt.remote=\"{dying}\""))
        .args(["--set", "stt.remote_timeout_ms=60000"])
        .arg(&wav)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    drop(server);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        common::wer(local_words, &text(&out)) < 0.3,
        "{}",
        text(&out)
    );
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "waited for the timeout instead of noticing the server died"
    );

    // Doctor names the problem and what Sori does meanwhile.
    let remote = doctor_remote_check(&dead);
    assert_eq!(remote["ok"], false);
    assert!(
        remote["detail"]
            .as_str()
            .unwrap()
            .contains("transcribed on this device"),
        "{remote}"
    );
}

#[test]
fn the_real_faster_whisper_server_hears_what_the_local_whisper_hears() {
    common::require_models();
    let Some(wav) = jfk() else { return };
    let out = Command::new(common::repo().join("scripts/faster-whisper-model.sh"))
        .env("SORI_SERVERS_PYTHON", common::servers_python())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(common::servers_python());
    cmd.args(["-m", "wyoming_faster_whisper", "--model", &model])
        .arg("--data-dir")
        .arg(data.path())
        .args(["--compute-type", "int8", "--beam-size", "1"])
        .env("HF_HUB_OFFLINE", "1");
    let (_server, uri) = start_tcp(cmd, "wyoming-faster-whisper listens");

    // A generous timeout: the server loads its model on the first request, on a busy machine.
    let remote = transcribe(
        &uri,
        &["--lang", "en", "--set", "stt.remote_timeout_ms=60000"],
        &wav,
    );
    let err = String::from_utf8_lossy(&remote.stderr);
    assert!(remote.status.success(), "{err}");
    assert!(!err.contains("transcribing on this device"), "{err}");
    let local = common::run_ok(
        common::sori()
            .args(["transcribe", "--json", "--lang", "en"])
            .arg(&wav),
    );
    // The same model (CTranslate2 there, ggml q8_0 here): the same words.
    assert!(
        common::wer(&text(&local), &text(&remote)) <= 0.1,
        "local {:?}, remote {:?}",
        text(&local),
        text(&remote)
    );
    let check = doctor_remote_check(&uri);
    assert_eq!(check["ok"], true, "{check}");
}
