//! `sori setup`, the guided first run: answered on stdin through the real audio path (headless
//! PulseAudio: a chime and the 3 s recording played back at the speaker), and scripted with
//! flags. Places are looked up on a local server speaking Open-Meteo's geocoding format; the
//! written config must keep the example's comments, load as `sori run` loads it, and pass
//! `sori doctor`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use common::pulse::Pulse;

fn geocoder() -> common::http::Server {
    common::http::serve(|target| {
        let q = target.to_lowercase();
        let file = if q.contains("name=springfield") {
            "geocoding_springfield_en.json"
        } else if q.contains("name=busan") {
            "geocoding_busan_en.json"
        } else {
            "geocoding_none.json"
        };
        let body =
            std::fs::read_to_string(common::repo().join("tests/weather").join(file)).unwrap();
        ("200 OK", body)
    })
}

/// No microphone or speaker: the scripted runs choose no devices and test none.
const NULL_AUDIO: [&str; 4] = [
    "--set",
    "audio.input=\"null\"",
    "--set",
    "audio.output=\"null\"",
];

fn search_url(geo: &common::http::Server) -> String {
    format!("{}/v1/search", geo.url)
}

fn setup(home: &Path, geocoding_url: &str) -> Command {
    let mut c = common::sori();
    c.env("HOME", home).arg("setup").args([
        "--set",
        &format!("weather.geocoding_url=\"{geocoding_url}\""),
    ]);
    c
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The active (uncommented) lines of a config.
fn active(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect()
}

#[test]
fn answered_at_the_terminal_through_the_speaker_and_microphone() {
    common::require_models();
    let d = tempfile::tempdir().unwrap();
    let geo = geocoder();
    let pulse = Pulse::start();
    let music = d.path().join("Music");
    common::library::standard(&music, 1.0);
    // An SMTP server only has to accept connections for doctor's reachability check.
    let smtp = TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp_port = smtp.local_addr().unwrap().port();
    let said = d.path().join("said.wav");
    common::espeak("testing one two three", "en-us", &said);
    let heard = d.path().join("heard.wav");
    let rec = pulse.record_speaker(&heard);

    let config = d.path().join("config.toml");
    let mut child = setup(d.path(), &search_url(&geo))
        .env("PULSE_SERVER", &pulse.server)
        .arg("--output")
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let answers = [
        "3",           // both languages
        "pulse",       // speaker, by the start of its name
        "y",           // heard the chime
        "pulse",       // microphone
        "y",           // heard the recording
        "alexa",       // wake word
        "Springfield", // city: three of them
        "2",           // Massachusetts
        "",            // its time zone
        "",            // ~/Music, the default
        "",            // add a contact: yes, the default while there are none
        "Mom",
        "엄마, Mother",
        "1", // email
        "mom@example.com",
        "127.0.0.1",
        &smtp_port.to_string(),
        "",                 // no user name
        "sori@example.com", // sender
        "",                 // no password: SORI_SMTP_PASSWORD
        "n",                // no more contacts
    ];
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all((answers.join("\n") + "\n").as_bytes())
        .unwrap();
    drop(stdin);
    // Speak into the microphone once the recording starts.
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(out).lines() {
            let line = line.unwrap();
            if line.contains("Recording 3 s") {
                tx.send(()).unwrap();
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let recording = rx.recv_timeout(Duration::from_secs(120));
    if recording.is_ok() {
        pulse.speak_into_mic(&said);
    } else {
        let _ = child.kill();
    }
    // Someone keeps talking in the room, so doctor's microphone check hears something.
    let talking = Arc::new(AtomicBool::new(true));
    let talker = {
        let (talking, server, said) = (talking.clone(), pulse.server.clone(), said.clone());
        std::thread::spawn(move || {
            while talking.load(Ordering::Relaxed) {
                let _ = Command::new("paplay")
                    .env("PULSE_SERVER", &server)
                    .args(["-d", "micfeed"])
                    .arg(&said)
                    .status();
            }
        })
    };
    let status = child.wait().unwrap();
    talking.store(false, Ordering::Relaxed);
    talker.join().unwrap();
    let text = reader.join().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        recording.is_ok(),
        "setup never started recording:\n{text}\n{err}"
    );
    rec.stop();
    assert!(status.success(), "setup failed:\n{text}\n{err}");

    // What the installer saw: the devices listed, the level, the places to choose from.
    assert!(text.contains("Speaker (where Sori talks"), "{text}");
    assert!(text.contains(") pulse"), "devices listed: {text}");
    let level: f32 = text
        .lines()
        .find(|l| l.contains("level ["))
        .and_then(|l| l.split("] peak ").nth(1))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no level shown: {text}"));
    assert!(
        level > -30.0,
        "the microphone heard the speech at {level} dBFS"
    );
    assert!(
        text.contains(
            "2) Springfield, Massachusetts, United States (42.10, -72.59; America/New_York)"
        ),
        "{text}"
    );
    assert!(text.contains(": 4 audio files"), "{text}");
    assert!(text.contains("ok   models"), "doctor ran: {text}");
    assert!(text.contains("All good."), "{text}");

    // What the speaker played: the chime, then the recording of the speech.
    let (said_back, chime) = common::library::heard_at_speaker(&heard);
    assert!(chime > 0.01, "no chime at the speaker ({chime})");
    assert!(
        said_back.contains("testing"),
        "the recording was not played back: {said_back}"
    );

    // The config: the example's comments, the answers in their place.
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.starts_with("# Sori configuration."));
    assert!(written.contains("# Capture device name as `sori devices` prints it"));
    let lines = active(&written);
    for want in [
        "language = \"auto\"",
        "output_device = \"pulse\"",
        "input_device = \"pulse\"",
        "words = [\"alexa\"]",
        "name = \"Springfield\"",
        "latitude = 42.1015",
        "longitude = -72.5898",
        "timezone = \"America/New_York\"",
        "smtp_host = \"127.0.0.1\"",
        "from = \"sori@example.com\"",
        "Mom = { aliases = [\"엄마\", \"Mother\"], backend = \"email\", address = \"mom@example.com\" }",
    ] {
        // An end-of-line comment from the example may follow the value.
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "{want} missing from:\n{}",
            lines.join("\n")
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("dirs = [") && l.contains("Music"))
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&config).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "a new config is private");
    drop(smtp);
}

#[test]
fn scripted_with_flags_and_run_again_keeping_the_users_edits() {
    common::require_models();
    let d = tempfile::tempdir().unwrap();
    let geo = geocoder();
    let config = d.path().join("sori.toml");
    let music = d.path().join("songs");
    std::fs::create_dir_all(&music).unwrap();
    let run = |extra: &[&str]| {
        setup(d.path(), &search_url(&geo))
            .args(["--yes", "--no-audio-test", "--output"])
            .arg(&config)
            .args(NULL_AUDIO)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[
        "--language",
        "ko",
        "--wake-word",
        "hey_mycroft",
        "--city",
        "Busan",
        "--music",
        music.to_str().unwrap(),
        "--contact",
        "Jisoo|지수=webhook:http://127.0.0.1:9/hook",
        "--write",
        "persona.name=Bori",
        "--write",
        "alarms.ring_seconds=60",
    ]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let first = std::fs::read_to_string(&config).unwrap();
    let lines = active(&first);
    for want in [
        "language = \"ko\"",
        "words = [\"hey_mycroft\"]",
        "name = \"Busan\"",
        "latitude = 35.1017",
        "timezone = \"Asia/Seoul\"",
        "name = \"Bori\"",
        "ring_seconds = 60",
        "jisoo = { url = \"http://127.0.0.1:9/hook\", template = '{\"to\": \"{contact}\", \"text\": \"{body}\"}' }",
        "Jisoo = { aliases = [\"지수\"], backend = \"webhook\", address = \"jisoo\" }",
    ] {
        assert!(
            lines.contains(&want),
            "{want} missing from:\n{}",
            lines.join("\n")
        );
    }
    // Every active key sits under the comment that explains it.
    assert!(first.contains("# Spoken language: \"auto\" detects it per utterance; \"en\", \"ko\", … fix it (faster, more robust).\nlanguage = \"ko\""));
    assert!(stdout(&out).contains("ok   config"), "{}", stdout(&out));
    // The config works: Sori answers by the name it was given.
    let ask = common::run_ok(common::sori().arg("--config").arg(&config).args([
        "ask",
        "--lang",
        "en",
        "what's your name",
    ]));
    assert!(stdout(&ask).contains("Bori"), "{}", stdout(&ask));

    // The installer edits the file by hand, then runs setup again for another place.
    let edited = first.replace(
        "# Sori configuration.",
        "# Sori configuration.\n# kitchen speaker",
    );
    std::fs::write(&config, &edited).unwrap();
    let out = run(&["--city", "Springfield", "--timezone", "America/Chicago"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("the old file is"), "{}", stdout(&out));
    let again = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        std::fs::read_to_string(config.with_extension("toml.bak")).unwrap(),
        edited
    );
    assert!(again.contains("# kitchen speaker"));
    let lines = active(&again);
    assert!(lines.contains(&"name = \"Bori\""), "kept: {lines:?}");
    assert!(
        lines.contains(&"words = [\"hey_mycroft\"]"),
        "kept as the default"
    );
    assert!(lines.contains(&"language = \"ko\""), "kept as the default");
    assert!(
        lines.contains(&"latitude = 37.2153"),
        "Springfield, Missouri: {lines:?}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("timezone =")).count(),
        1
    );
    assert!(lines.contains(&"timezone = \"America/Chicago\""));
}

#[test]
fn bad_answers_get_clear_errors_and_nothing_is_written() {
    let d = tempfile::tempdir().unwrap();
    let geo = geocoder();
    let config = d.path().join("sori.toml");
    let run = |extra: &[&str]| {
        setup(d.path(), &search_url(&geo))
            .args(["--yes", "--no-audio-test", "--no-doctor", "--output"])
            .arg(&config)
            .args(NULL_AUDIO)
            .args(extra)
            .output()
            .unwrap()
    };
    for (flags, says) in [
        (
            &["--wake-word", "hey_nobody"][..],
            "sori wakeword record hey_nobody",
        ),
        (&["--city", "Atlantis"], "No place called `Atlantis` found"),
        (&["--timezone", "seoul"], "did you mean Asia/Seoul?"),
        // An email contact needs its server.
        (&["--contact", "Mom=email:mom@example.com"], "SMTP server"),
        (&["--contact", "Mom=fax:123"], "unknown way `fax`"),
    ] {
        let out = run(flags);
        assert!(!out.status.success(), "{flags:?}");
        assert!(stderr(&out).contains(says), "{flags:?}: {}", stderr(&out));
    }
    assert!(!config.exists(), "nothing written on an error");

    // With no answers on stdin and no --yes, it says how to run it.
    let out = setup(d.path(), &search_url(&geo))
        .args(["--output"])
        .arg(&config)
        .args(NULL_AUDIO)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));

    // The geocoder unreachable: the name is kept for Sori to look up later.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/v1/search", dead.local_addr().unwrap());
    drop(dead);
    let out = setup(d.path(), &dead_url)
        .args(["--yes", "--no-audio-test", "--no-doctor", "--output"])
        .arg(&config)
        .args(NULL_AUDIO)
        .args(["--city", "Busan", "--timezone", "Asia/Seoul"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Keeping the name only"),
        "{}",
        stdout(&out)
    );
    let lines = std::fs::read_to_string(&config).unwrap();
    let lines = active(&lines);
    assert!(lines.contains(&"name = \"Busan\""));
    assert!(
        !lines.iter().any(|l| l.starts_with("latitude")),
        "{lines:?}"
    );
}
