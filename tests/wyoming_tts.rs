//! Text to speech on a real Wyoming server: `wyoming-piper` (PyPI) with the registry Piper
//! voice, started on loopback. Sori speaks through it as through its own Piper, `sori doctor`
//! lists the server's voices, and when the server is gone Sori speaks with its own voice.

mod common;

use std::process::Command;

use common::servers::{Server, doctor_check, start_tcp};

fn piper_server() -> (Server, String) {
    let mut cmd = Command::new(common::servers_python());
    cmd.args(["-m", "wyoming_piper", "--voice", "en_US-joe-medium"])
        .arg("--data-dir")
        .arg(common::repo().join("models/piper"))
        .arg("--local-files-only");
    start_tcp(cmd, "wyoming-piper listens")
}

const TEXT: &str = "The kitchen light is on, and it is 5:30 now.";

/// `sori say` into a WAV with `voice` for English; (what whisper hears, sori's stderr).
fn say(voice: Option<&str>, out: &std::path::Path) -> (String, String) {
    let mut cmd = common::sori();
    cmd.args(["say", "--output"]).arg(out);
    if let Some(v) = voice {
        cmd.args(["--set", &format!("tts.voices.en=\"{v}\"")]);
        // The server loads its voice on the first request, on a busy machine.
        cmd.args(["--set", "tts.remote_timeout_ms=60000"]);
    }
    let said = cmd.arg(TEXT).output().unwrap();
    let err = String::from_utf8_lossy(&said.stderr).to_string();
    assert!(said.status.success(), "{err}");
    let out = common::run_ok(
        common::sori()
            .args(["transcribe", "--json", "--lang", "en"])
            .arg(out),
    );
    let text = common::transcripts(&out)[0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    (text, err)
}

fn doctor_voice_check(voice: &str) -> serde_json::Value {
    doctor_check(&[format!("tts.voices.en=\"{voice}\"")], "voice en")
}

#[test]
fn sori_speaks_through_wyoming_piper_and_on_its_own_when_it_is_gone() {
    common::require_models();
    let dir = tempfile::tempdir().unwrap();
    let (server, uri) = piper_server();
    let remote = format!("{uri}#en_US-joe-medium");

    let (heard, err) = say(Some(&remote), &dir.path().join("remote.wav"));
    assert!(!err.contains("speaking on this device"), "{err}");
    let (local, _) = say(None, &dir.path().join("local.wav"));
    // The same voice, normalised text ("five thirty") and result as Sori's own Piper.
    assert!(common::wer(TEXT, &heard) <= 0.2, "remote: {heard:?}");
    assert!(
        common::wer(&local, &heard) <= 0.2,
        "remote {heard:?}, local {local:?}"
    );

    let check = doctor_voice_check(&remote);
    assert_eq!(check["ok"], true, "{check}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .contains("en_US-joe-medium"),
        "{check}"
    );

    // The server is gone: the reply is still spoken, with Sori's own voice, and logged.
    drop(server);
    let (heard, err) = say(Some(&remote), &dir.path().join("fallback.wav"));
    assert!(err.contains("speaking on this device"), "{err}");
    assert!(common::wer(TEXT, &heard) <= 0.2, "fallback: {heard:?}");
    let check = doctor_voice_check(&remote);
    assert_eq!(check["ok"], false, "{check}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .contains("Sori's own voice"),
        "{check}"
    );
}
