//! Speaking on the real device path (headless PulseAudio): `sori say` reaches the speaker,
//! music on the mixer's music channel ducks and comes back, and "stop" cuts a long reply.

mod common;

use std::num::NonZero;
use std::path::Path;
use std::time::Duration;

use common::daemon::*;
use common::pulse::Pulse;
use common::*;

/// RMS of each 100 ms window.
fn rms_windows(rate: u32, s: &[f32]) -> Vec<f32> {
    s.chunks((rate / 10) as usize)
        .map(|w| (w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32).sqrt())
        .collect()
}

#[test]
fn say_is_heard_on_the_speaker_at_full_length() {
    require_models();
    let _one = one_transcriber_at_a_time();
    let pulse = Pulse::start();
    let dir = tempfile::tempdir().unwrap();
    let text = "Good evening. The kitchen timer has five minutes left.";
    // The same words into a file: the length the speaker must carry.
    let file = dir.path().join("said.wav");
    run_ok(sori().args(["say", "--output"]).arg(&file).arg(text));
    let (rate, reference) = library::wav_with_rate(&file);
    let said_ms = reference.len() as u64 * 1000 / u64::from(rate);

    let heard = dir.path().join("heard.wav");
    let rec = pulse.record_speaker(&heard);
    let state = dir.path().join("state");
    run_ok(sori().env("PULSE_SERVER", &pulse.server).args([
        "--set",
        &format!("state.dir=\"{}\"", state.display()),
        "say",
        text,
    ]));
    rec.stop();
    let (rate, s) = library::wav_with_rate(&heard);
    let loud: Vec<usize> = rms_windows(rate, &s)
        .iter()
        .enumerate()
        .filter(|(_, r)| **r > 0.01)
        .map(|(i, _)| i)
        .collect();
    let (first, last) = (
        *loud.first().expect("nothing reached the speaker"),
        *loud.last().unwrap(),
    );
    let heard_ms = (last - first + 1) as u64 * 100;
    assert!(
        heard_ms.abs_diff(said_ms) < said_ms / 4,
        "heard {heard_ms} ms of speech, said {said_ms} ms"
    );
    // At the default volume (80: gain 0.64) speech is well above the noise floor.
    let peak = s.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak > 0.2, "peak level {peak}");
    let (t, _) = library::heard_at_speaker(&heard);
    assert!(wer(text, &t) <= 0.25, "{t:?}");
}

#[test]
fn music_ducks_while_sori_is_busy_and_comes_back() {
    use sori::audio::AudioSink;
    use sori::audio::mixer::Mixer;
    let pulse = Pulse::start();
    // This test binary talks to its own server; no other test in it uses the environment.
    unsafe { std::env::set_var("PULSE_SERVER", &pulse.server) };
    let dir = tempfile::tempdir().unwrap();
    let sink = sori::audio::rodio_sink::RodioSink::open("").unwrap();
    let mixer = Mixer::new(None, 100, 0.2);
    mixer.attach_music(
        sink.music_channel()
            .expect("the speaker has a music channel"),
    );
    let heard = dir.path().join("heard.wav");
    let rec = pulse.record_speaker(&heard);
    // Six seconds of a 440 Hz tone as "music".
    let tone: Vec<f32> = (0..48_000 * 6)
        .map(|i| 0.5 * (i as f32 * 440.0 * std::f32::consts::TAU / 48_000.0).sin())
        .collect();
    let music = mixer.music().unwrap();
    music.player.append(rodio::buffer::SamplesBuffer::new(
        NonZero::<u16>::MIN,
        NonZero::new(48_000).unwrap(),
        tone,
    ));
    // The device stream can start a second late: time from when the music really plays.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while music.player.get_pos() < Duration::from_millis(200) {
        assert!(
            std::time::Instant::now() < deadline,
            "the music never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    mixer.duck(true);
    std::thread::sleep(Duration::from_millis(1500));
    mixer.duck(false);
    std::thread::sleep(Duration::from_millis(1500));
    rec.stop();
    drop(sink);
    let (rate, s) = library::wav_with_rate(&heard);
    let w = rms_windows(rate, &s);
    let max = w.iter().fold(0.0f32, |m, x| m.max(*x));
    assert!(max > 0.1, "no music reached the speaker (max RMS {max})");
    // Each window is loud (L), ducked to about 0.2 (d) or other (edges, silence).
    let (classes, squeezed) = library::duck_classes(&w, 0.8, 0.12..0.3);
    assert_eq!(squeezed, "LdL", "windows: {classes}");
    assert!(
        classes.matches('d').count() >= 10,
        "ducked for too short: {classes}"
    );
}

/// Starts `sori run`, asks for something with a long answer, and plays `interrupt` into the
/// microphone while the answer is spoken. Returns the events once `runs` runs have ended.
fn interrupt_a_long_reply(
    interrupt: impl FnOnce(&Path) -> std::path::PathBuf,
    runs: usize,
) -> Vec<serde_json::Value> {
    require_models();
    let _one = one_transcriber_at_a_time();
    let pulse = Pulse::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (w, c) = (d.join("w.wav"), d.join("c.wav"));
    run_ok(sori().args(["say", "--output"]).arg(&w).arg("Hey Jarvis!"));
    // "Repeat after me" makes Sori say a long sentence back: a long reply to interrupt. In
    // Piper's voice: whisper base sometimes hears espeak-ng's "repeat" as "Pete" through the
    // sound server, and then there is nothing to interrupt.
    run_ok(sori().args(["say", "--output"]).arg(&c).arg(
        "Repeat after me: once upon a time a little red fox lived in the forest near the river and liked to sing.",
    ));
    let u = d.join("u.wav");
    splice(&[&w, &c], 500, 22_050, &u);
    let cut_in = interrupt(d);
    let ev_path = d.join("events.jsonl");
    let state = format!("state.dir=\"{}\"", d.join("state").display());
    let (mut child, log) = start_daemon(
        &pulse,
        &ev_path,
        &["--set", "log.level=\"info,sori=debug\"", "--set", &state],
    );
    pulse.speak_into_mic(&u);
    wait_events(&ev_path, "TtsStart", 1, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(800));
    pulse.speak_into_mic(&cut_in);
    let ev = wait_events(&ev_path, "RunEnd", runs, Duration::from_secs(60));
    let status = terminate(&mut child);
    std::thread::sleep(Duration::from_millis(200));
    let lines: Vec<String> = log.try_iter().collect();
    eprintln!("{}", lines.join("\n"));
    assert!(status.success(), "sori exited with {status}");
    let first_end = ev
        .iter()
        .find(|e| e["type"] == "TtsEnd" && e["run"] == 1)
        .unwrap_or_else(|| panic!("{ev:#?}"));
    assert_eq!(
        first_end["cut"], true,
        "the reply played to its end: {ev:#?}"
    );
    ev
}

#[test]
fn stop_cuts_a_long_reply() {
    let ev = interrupt_a_long_reply(
        |d| {
            let stop = d.join("stop.wav");
            espeak("stop", "en-us", &stop);
            stop
        },
        1,
    );
    assert_eq!(of_type(&ev, "RunEnd")[0]["outcome"], "stopped", "{ev:#?}");
    // Cut soon after the stop was recognised (events carry wall-clock milliseconds).
    let heard = of_type(&ev, "StopHeard")[0]["time_ms"].as_u64().unwrap();
    let cut = of_type(&ev, "TtsEnd")[0]["time_ms"].as_u64().unwrap();
    eprintln!("stop heard → speech cut: {} ms", cut.saturating_sub(heard));
}

#[test]
fn a_new_wake_word_interrupts_a_long_reply() {
    let ev = interrupt_a_long_reply(
        |d| {
            // A clear "hey jarvis" (Piper's voice scores 0.99) followed by a new command.
            let (w, c, u) = (d.join("w2.wav"), d.join("c2.wav"), d.join("u2.wav"));
            run_ok(sori().args(["say", "--output"]).arg(&w).arg("Hey Jarvis!"));
            run_ok(
                sori()
                    .args(["say", "--output"])
                    .arg(&c)
                    .arg("What is the weather like today?"),
            );
            splice(&[&w, &c], 400, 22_050, &u);
            u
        },
        2,
    );
    let ends = of_type(&ev, "RunEnd");
    assert_eq!(ends[0]["run"], 1);
    assert_eq!(ends[0]["outcome"], "interrupted", "{ev:#?}");
    let second: Vec<&str> = ev
        .iter()
        .filter(|e| e["run"] == 2)
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(second[..2], ["RunStart", "WakeDetected"], "{ev:#?}");
    let stt = ev
        .iter()
        .find(|e| e["type"] == "SttEnd" && e["run"] == 2)
        .unwrap_or_else(|| panic!("{ev:#?}"));
    assert!(
        wer(
            "what is the weather like today",
            stt["text"].as_str().unwrap()
        ) <= 0.35,
        "{stt}"
    );
}

#[test]
fn a_speaker_that_goes_away_mid_reply_is_an_error_not_a_hang() {
    require_models();
    let pulse = Pulse::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut child = sori()
        .env("PULSE_SERVER", &pulse.server)
        .args([
            "--set",
            &format!("state.dir=\"{}\"", state.display()),
            "say",
            "Here is the forecast for the whole week. Monday will be sunny and warm. Tuesday \
             brings clouds in the afternoon. Wednesday will be rainy with a strong wind.",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr as it comes: ALSA reports each failed poll, and a full pipe would block.
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
        err
    });
    std::thread::sleep(Duration::from_millis(2500));
    // The sound server goes away mid-reply, as a USB speaker does when it is unplugged: the
    // stream takes no more audio.
    drop(pulse);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("`sori say` still waits for a speaker that has gone");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let err = reader.join().unwrap();
    assert!(!status.success(), "{err}");
    assert!(
        err.contains("stopped taking audio") || err.contains("audio device error"),
        "the error should say what happened: {err}"
    );
}

#[test]
fn the_daemon_speaks_again_once_a_lost_speaker_is_back() {
    require_models();
    let _one = one_transcriber_at_a_time();
    let mut pulse = Pulse::start();
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let port = free_port();
    let (mut child, _log) = start_daemon(
        &pulse,
        &events,
        &[
            "--set",
            &format!("state.dir=\"{}\"", dir.path().join("state").display()),
            "--set",
            &format!("api.bind=\"127.0.0.1:{port}\""),
        ],
    );
    // The speaker goes away and comes back, as a USB speaker unplugged and plugged in again:
    // the sound server restarts, and every stream the daemon had on it is dead.
    pulse.restart();
    let heard = dir.path().join("heard.wav");
    let rec = pulse.record_speaker(&heard);
    let text = "Dinner is ready. Please come to the table.";
    sori::net::install_tls_provider();
    let said = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/say"))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "text": text }).to_string())
        .send()
        .unwrap();
    assert_eq!(said.status().as_u16(), 202);
    let ev = wait_events(&events, "RunEnd", 1, Duration::from_secs(60));
    rec.stop();
    // The microphone went away too (run 0: outside any run); the reply's run must have none.
    let errors: Vec<_> = of_type(&ev, "Error")
        .into_iter()
        .filter(|e| e["run"] != 0)
        .collect();
    assert!(
        errors.is_empty(),
        "the first reply after the speaker came back failed: {errors:?}"
    );
    let (rate, s) = library::wav_with_rate(&heard);
    let loud_ms = rms_windows(rate, &s).iter().filter(|r| **r > 0.01).count() as u64 * 100;
    assert!(
        loud_ms >= 1500,
        "only {loud_ms} ms of speech reached the speaker that came back"
    );
    let (t, _) = library::heard_at_speaker(&heard);
    assert!(wer(text, &t) <= 0.35, "{t:?}");

    // Now the sound server goes for good. The daemon waits for it without burning the CPU: a
    // failed stream's ALSA thread spins on errors until the stream is dropped.
    drop(pulse);
    std::thread::sleep(Duration::from_secs(4));
    let cpu = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let f: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        // utime and stime, in clock ticks (100 per second).
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    };
    let before = cpu(child.id());
    std::thread::sleep(Duration::from_secs(5));
    let used = cpu(child.id()) - before;
    assert!(
        used < 150,
        "the daemon used {used} ticks of CPU in 5 s while the sound server was gone"
    );
    assert!(terminate(&mut child).success());
}
