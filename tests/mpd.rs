//! The MPD backend against a real `mpd` (Debian package) started here on loopback with a
//! temporary music directory and a null output: voice commands in both languages drive it, and
//! MPD's own `status` and `currentsong` say what happened.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::library;
use sori::music::Command as PlayerCommand;

struct Mpd {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Mpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one command to MPD and returns its `key: value` lines.
fn ask_mpd(port: u16, cmd: &str) -> Vec<(String, String)> {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    (&s).write_all(format!("{cmd}\n").as_bytes()).unwrap();
    let mut out = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l == "OK" {
            return out;
        }
        assert!(!l.starts_with("ACK"), "{cmd}: {l}");
        if let Some((k, v)) = l.split_once(": ") {
            out.push((k.to_string(), v.to_string()));
        }
    }
}

fn get(pairs: &[(String, String)], k: &str) -> Option<String> {
    pairs.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone())
}

fn start_mpd(music: &Path) -> Mpd {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let conf = dir.path().join("mpd.conf");
    std::fs::write(
        &conf,
        format!(
            "music_directory \"{}\"\ndb_file \"{}\"\nbind_to_address \"127.0.0.1\"\nport \"{port}\"\n\
             audio_output {{\n  type \"null\"\n  name \"test\"\n}}\n",
            music.display(),
            dir.path().join("db").display()
        ),
    )
    .unwrap();
    let child = Command::new("mpd")
        .args(["--no-daemon", "--stderr"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mpd is not installed: run scripts/deps.sh --test");
    let mpd = Mpd {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "mpd did not start within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    mpd
}

fn config(port: u16, state: &Path) -> sori::config::Config {
    let mut cfg = sori::config::Config::default();
    cfg.music.backend = "mpd".into();
    cfg.music.mpd.port = port;
    cfg.state.dir = state.display().to_string();
    cfg
}

#[test]
fn voice_commands_drive_a_real_mpd() {
    let lib = tempfile::tempdir().unwrap();
    library::standard(lib.path(), 30.0);
    let mpd = start_mpd(lib.path());
    let state = tempfile::tempdir().unwrap();
    let cfg = config(mpd.port, state.path());
    let (mut brain, problems) = sori::skill::load::from_config(&cfg).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    brain.responses.fixed = true;
    let player: sori::music::SharedPlayer =
        std::sync::Arc::new(sori::music::mpd::Mpd::new(cfg.music.mpd.clone()));
    let mut say = |text: &str| {
        let out = brain.ask(text, None);
        if let Some(a) = &out.action {
            if let Some(c) = PlayerCommand::from_action(a) {
                player.command(c).unwrap();
            }
        }
        out
    };

    // MPD's database starts empty: updating by voice fills it (MPD scans in the background).
    let out = say("update the music library");
    assert_eq!(out.intent.as_deref(), Some("SoriUpdateLibrary"));
    common::wait_until("MPD to index the songs", || {
        get(&ask_mpd(mpd.port, "stats"), "songs").as_deref() == Some("4")
    });
    let out = say("play blue sky");
    assert_eq!(out.reply, "Playing Blue Sky by The Tones.", "{out:?}");
    let st = ask_mpd(mpd.port, "status");
    assert_eq!(get(&st, "state").as_deref(), Some("play"), "{st:?}");
    let song = ask_mpd(mpd.port, "currentsong");
    assert_eq!(get(&song, "Title").as_deref(), Some("Blue Sky"), "{song:?}");
    // The song plays on into the rest of its album.
    assert_eq!(get(&st, "playlistlength").as_deref(), Some("2"), "{st:?}");

    assert_eq!(
        say("what's playing").reply,
        "This is Blue Sky by The Tones."
    );
    say("pause");
    assert_eq!(
        get(&ask_mpd(mpd.port, "status"), "state").as_deref(),
        Some("pause")
    );
    assert_eq!(say("what's playing").reply, "Blue Sky is paused.");
    say("resume");
    assert_eq!(
        get(&ask_mpd(mpd.port, "status"), "state").as_deref(),
        Some("play")
    );
    say("next song");
    assert_eq!(
        get(&ask_mpd(mpd.port, "currentsong"), "Title").as_deref(),
        Some("Night Drive")
    );
    say("previous song");
    assert_eq!(
        get(&ask_mpd(mpd.port, "currentsong"), "Title").as_deref(),
        Some("Blue Sky")
    );

    // Korean, a misheard name, an artist, shuffle, stop.
    let out = say("밤편지 틀어 줘");
    assert_eq!(out.reply, "아이유의 밤편지 틀어 드릴게요.", "{out:?}");
    assert_eq!(
        get(&ask_mpd(mpd.port, "currentsong"), "Title").as_deref(),
        Some("밤편지")
    );
    let out = say("play rainy pianos");
    assert_eq!(out.reply, "Playing Rainy Piano by Mina Park.", "{out:?}");
    let out = say("shuffle the tones");
    assert_eq!(out.reply, "Shuffling The Tones.", "{out:?}");
    let st = ask_mpd(mpd.port, "status");
    assert_eq!(get(&st, "random").as_deref(), Some("1"), "{st:?}");
    assert_eq!(get(&st, "playlistlength").as_deref(), Some("2"), "{st:?}");
    say("음악 멈춰");
    assert_eq!(
        get(&ask_mpd(mpd.port, "status"), "state").as_deref(),
        Some("pause")
    );

    // `sori ask` drives the same server from a shell.
    let out = common::run_ok(
        common::sori()
            .args(["ask", "--set", "music.backend=\"mpd\""])
            .args(["--set", &format!("music.mpd.port={}", mpd.port)])
            .args([
                "--set",
                &format!("state.dir=\"{}\"", state.path().display()),
            ])
            .arg("play night drive"),
    );
    let reply = String::from_utf8_lossy(&out.stdout);
    assert!(reply.contains("Night Drive by The Tones."), "{reply}");
    assert_eq!(
        get(&ask_mpd(mpd.port, "currentsong"), "Title").as_deref(),
        Some("Night Drive")
    );
    assert_eq!(
        get(&ask_mpd(mpd.port, "status"), "state").as_deref(),
        Some("play")
    );
}

#[test]
fn an_unreachable_mpd_is_a_spoken_error_not_a_hang() {
    let state = tempfile::tempdir().unwrap();
    let cfg = config(common::free_port(), state.path());
    let (mut brain, _) = sori::skill::load::from_config(&cfg).unwrap();
    brain.responses.fixed = true;
    let started = Instant::now();
    let out = brain.ask("play blue sky", None);
    assert_eq!(
        out.reply, "Sorry, I couldn't reach the music player.",
        "{out:?}"
    );
    assert!(out.action.is_none());
    assert!(started.elapsed() < Duration::from_secs(10));
}
