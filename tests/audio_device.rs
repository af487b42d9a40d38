//! The real device path without a sound card: cpal capture and rodio playback through ALSA's
//! pulse plugin into a headless PulseAudio server started here.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::pulse::{Pulse, wait_for_line};
use common::*;

#[test]
fn devices_lists_the_virtual_microphone_and_speaker() {
    let pulse = Pulse::start();
    let out = run_ok(
        sori()
            .env("PULSE_SERVER", &pulse.server)
            .args(["devices", "--json"]),
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for dir in ["inputs", "outputs"] {
        let names: Vec<&str> = list[dir]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"pulse") && names.contains(&"default"),
            "{dir}: {names:?}"
        );
    }
    // Nothing from ALSA's plugin probing leaks onto the terminal.
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("ALSA lib"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn speech_played_into_the_microphone_is_captured_and_transcribed() {
    require_models();
    let Some(eval) = eval_dir() else { return };
    let pulse = Pulse::start();
    // Select the device by name, as an installer would.
    let mut child = sori()
        .env("PULSE_SERVER", &pulse.server)
        .args([
            "transcribe",
            "--json",
            "--lang",
            "en",
            "--mic",
            "9",
            "--set",
            "audio.input_device=\"pulse\"",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Err(e) = wait_for_line(
        &mut child,
        "capture stream started",
        Duration::from_secs(60),
    ) {
        let _ = child.kill();
        panic!("{e}");
    }
    pulse.speak_into_mic(&eval.join("audio/whisper_jfk.wav"));
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let t = &transcripts(&out)[0];
    let text = t["text"].as_str().unwrap();
    // 9 s of capture hold at least this much of the 11 s sentence.
    let expect = "and so my fellow americans ask not what your country can do for you";
    let heard: Vec<String> = words(text).into_iter().take(words(expect).len()).collect();
    assert!(wer(expect, &heard.join(" ")) <= 0.15, "{text:?}");
}

#[test]
fn playback_reaches_the_speaker() {
    require_models();
    let Some(eval) = eval_dir() else { return };
    let pulse = Pulse::start();
    let dir = tempfile::tempdir().unwrap();
    let said = eval.join("audio/cheetah_test_en.wav");
    let heard = dir.path().join("heard.wav");
    let rec = pulse.record_speaker(&heard);
    run_ok(
        sori()
            .env("PULSE_SERVER", &pulse.server)
            .arg("play")
            .arg(&said),
    );
    rec.stop();
    let out = run_ok(
        sori()
            .args(["transcribe", "--json", "--lang", "en"])
            .arg(&heard),
    );
    let text = transcripts(&out)[0]["text"].as_str().unwrap().to_string();
    assert!(
        wer("today only platforms 1 and 3 are used", &text) <= 0.15,
        "{text:?}"
    );
}

#[test]
fn a_missing_device_is_named_with_the_alternatives() {
    let pulse = Pulse::start();
    let out = sori()
        .env("PULSE_SERVER", &pulse.server)
        .args([
            "record",
            "/dev/null",
            "--seconds",
            "1",
            "--device",
            "no-such-mic",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("no audio device named `no-such-mic`")
            && err.contains("pulse")
            && err.contains("sori devices"),
        "{err}"
    );
}
