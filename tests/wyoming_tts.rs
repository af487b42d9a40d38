//! Text to speech on a real Wyoming server: `wyoming-piper` (PyPI) with the registry Piper
//! voice, started on loopback. Sori speaks through it as through its own Piper, `sori doctor`
//! lists the server's voices, and when the server is gone Sori speaks with its own voice.

mod common;

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn piper_server() -> (Server, String) {
    let port = common::free_port();
    let child = Command::new(common::servers_python())
        .args(["-m", "wyoming_piper", "--voice", "en_US-joe-medium"])
        .arg("--data-dir")
        .arg(common::repo().join("models/piper"))
        .args([
            "--local-files-only",
            "--uri",
            &format!("tcp://127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    common::wait_for("wyoming-piper listens", Duration::from_secs(120), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (server, format!("tcp://127.0.0.1:{port}"))
}

const TEXT: &str = "The kitchen light is on, and it is 5:30 now.";

/// `sori say` into a WAV with `voice` for English; (what whisper hears, sori's stderr).
fn say(voice: Option<&str>, out: &std::path::Path) -> (String, String) {
    let mut cmd = common::sori();
    cmd.args(["say", "--output"]).arg(out);
    if let Some(v) = voice {
        cmd.args(["--set", &format!("tts.voices.en=\"{v}\"")]);
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
    let out = common::sori()
        .args(["doctor", "--json", "--no-sound", "--listen", "0.1"])
        .args(["--set", &format!("tts.voices.en=\"{voice}\"")])
        .args([
            "--set",
            "audio.input=\"null\"",
            "--set",
            "audio.output=\"null\"",
        ])
        .output()
        .unwrap();
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    checks
        .into_iter()
        .find(|c| c["name"] == "voice en")
        .expect("a voice en check")
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
