//! `sori doctor`: checks everything the loop needs, one line each, with the fix for failures.

use std::time::Instant;

use serde::Serialize;

use crate::config::Config;
use crate::models::{self, fetch};
use crate::wake::WakeWord;

mod audio;
use audio::{check_input, check_output};

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// What to do about a failure.
    pub fix: String,
}

fn ok(name: &str, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok: true,
        detail: detail.into(),
        fix: String::new(),
    }
}

fn bad(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok: false,
        detail: detail.into(),
        fix: fix.into(),
    }
}

/// Runs every check. `config_origin` says where the config came from; `warnings` are its
/// unknown keys. `listen_secs` of microphone audio are measured for the level.
pub fn run(
    cfg: &Config,
    config_origin: &str,
    warnings: &[String],
    listen_secs: f32,
    play: bool,
) -> Vec<Check> {
    let mut out = Vec::new();
    out.push(if warnings.is_empty() {
        ok("config", config_origin)
    } else {
        bad(
            "config",
            format!("{config_origin}: {}", warnings.join("; ")),
            "fix or remove the keys named (see assets/config.example.toml)",
        )
    });
    out.extend(check_models(cfg));
    out.push(check_onnx(cfg));
    out.push(check_wake(cfg));
    out.push(check_stt(cfg));
    if !cfg.stt.remote.is_empty() {
        out.push(check_remote(
            "remote stt",
            (&cfg.stt.remote, "asr", cfg.stt.remote_timeout_ms),
            "commands are transcribed on this device until it answers",
            "start the Wyoming server, or check stt.remote (host, port, firewall)",
        ));
    }
    if !cfg.wake.remote.is_empty() {
        out.push(check_remote(
            "remote wake",
            (&cfg.wake.remote, "wake", cfg.wake.remote_timeout_ms),
            "the wake word is heard on this device until it answers",
            "start the Wyoming server, or check wake.remote (host, port, firewall)",
        ));
    }
    out.push(check_espeak());
    out.extend(check_voices(cfg));
    out.extend(check_skills(cfg));
    out.push(check_state(cfg));
    out.push(check_location(cfg));
    out.push(check_music(cfg));
    out.push(check_messaging(cfg));
    out.push(check_input(cfg, listen_secs));
    out.push(check_output(cfg, play));
    out
}

fn check_models(cfg: &Config) -> Vec<Check> {
    let dir = cfg.models_dir();
    let manifest = match models::Manifest::embedded() {
        Ok(m) => m,
        Err(e) => return vec![bad("models", e.to_string(), "reinstall sori")],
    };
    let status = fetch::status(&manifest, &dir);
    let missing: Vec<String> = status
        .iter()
        .filter(|(_, s)| *s == fetch::Status::Missing)
        .map(|(m, _)| m.path.clone())
        .collect();
    let corrupt: Vec<String> = status
        .iter()
        .filter(|(_, s)| matches!(s, fetch::Status::Corrupt(_)))
        .map(|(m, _)| m.path.clone())
        .collect();
    let mut v = Vec::new();
    if missing.is_empty() && corrupt.is_empty() {
        v.push(ok(
            "models",
            format!(
                "{} files verified (sha256) in {}",
                status.len(),
                dir.display()
            ),
        ));
    }
    if !missing.is_empty() {
        v.push(bad(
            "models",
            format!("missing in {}: {}", dir.display(), missing.join(", ")),
            "run `sori models fetch`",
        ));
    }
    if !corrupt.is_empty() {
        v.push(bad(
            "models",
            format!("damaged (checksum mismatch): {}", corrupt.join(", ")),
            "run `sori models fetch --force`",
        ));
    }
    v
}

fn check_onnx(cfg: &Config) -> Check {
    match crate::onnx::init(&cfg.models_dir()) {
        Ok(_) => ok(
            "onnxruntime",
            format!(
                "{} loaded",
                crate::onnx::library_path(&cfg.models_dir()).display()
            ),
        ),
        Err(e) => bad(
            "onnxruntime",
            e.to_string(),
            "run `sori models fetch --only onnxruntime`",
        ),
    }
}

fn check_wake(cfg: &Config) -> Check {
    let t = Instant::now();
    let mut w = match crate::wake::load(cfg) {
        Ok(w) => w,
        Err(e) => {
            return bad(
                "wake word",
                e.to_string(),
                "check wake.words, or run `sori models fetch`",
            );
        }
    };
    let frame = vec![0i16; crate::wake::FRAME];
    let vad = crate::vad::SileroVad::load(&cfg.models_dir());
    match (w.process(&frame), vad) {
        (Ok(_), Ok(_)) => ok(
            "wake word",
            format!(
                "{} + Silero VAD loaded in {} ms",
                cfg.wake.words.join(", "),
                t.elapsed().as_millis()
            ),
        ),
        (Err(e), _) => bad(
            "wake word",
            e.to_string(),
            "run `sori models fetch --force`",
        ),
        (_, Err(e)) => bad("vad", e.to_string(), "run `sori models fetch --only vad`"),
    }
}

fn check_stt(cfg: &Config) -> Check {
    let t = Instant::now();
    match crate::load_stt(cfg) {
        Ok(_) => ok(
            "speech to text",
            format!(
                "whisper `{}` loaded in {} ms (language {})",
                cfg.stt.model,
                t.elapsed().as_millis(),
                cfg.stt.language
            ),
        ),
        Err(e) => bad(
            "speech to text",
            e.to_string(),
            "run `sori models fetch --only whisper`",
        ),
    }
}

fn check_espeak() -> Check {
    match std::process::Command::new("espeak-ng")
        .arg("--version")
        .output()
    {
        Ok(o) if o.status.success() => ok(
            "text to speech",
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
        ),
        _ => bad(
            "text to speech",
            "espeak-ng not found",
            "install it: `sudo apt-get install espeak-ng`",
        ),
    }
}

/// Each configured voice loads and speaks a word.
/// A Wyoming server Sori offloads to: (address, service, timeout in ms).
fn check_remote(
    name: &str,
    (uri, service, ms): (&str, &str, u32),
    meanwhile: &str,
    fix: &str,
) -> Check {
    let timeout = std::time::Duration::from_millis(u64::from(ms));
    match crate::wyoming::client::probe(uri, service, timeout) {
        Ok(d) => ok(name, d),
        Err(e) => bad(name, format!("{e}; {meanwhile}"), fix),
    }
}

fn check_voices(cfg: &Config) -> Vec<Check> {
    use crate::tts::Tts;
    let mut voices = match crate::tts::Voices::from_config(cfg) {
        Ok(v) => v,
        Err(e) => {
            return vec![bad(
                "voices",
                e.to_string(),
                "fix [tts.voices] (see assets/config.example.toml)",
            )];
        }
    };
    cfg.tts
        .voices
        .keys()
        .map(|lang| {
            let name = format!("voice {lang}");
            if let crate::tts::voices::VoiceSpec::Remote { addr, .. } = voices.spec(lang) {
                return check_remote(
                    &name,
                    (&addr.to_string(), "tts", cfg.tts.remote_timeout_ms),
                    &format!("replies in `{lang}` use Sori's own voice until it answers"),
                    &format!("start the Wyoming server, or check tts.voices.{lang}"),
                );
            }
            let t = Instant::now();
            if let Err(e) = voices.preload(lang) {
                return bad(
                    &name,
                    format!("{e}; replies in `{lang}` fall back to espeak-ng"),
                    "run `sori models fetch --only piper`, or set another voice in [tts.voices]",
                );
            }
            let word = if lang == "ko" {
                "안녕하세요"
            } else {
                "hello"
            };
            match voices.synthesize(word, lang) {
                Ok(c) if !c.samples.is_empty() => ok(
                    &name,
                    format!(
                        "{} ready in {} ms",
                        voices.spec(lang),
                        t.elapsed().as_millis()
                    ),
                ),
                Ok(_) => bad(
                    &name,
                    "the voice produced no audio",
                    "try another voice in [tts.voices]",
                ),
                Err(e) => bad(
                    &name,
                    e.to_string(),
                    "install espeak-ng: `sudo apt-get install espeak-ng`",
                ),
            }
        })
        .collect()
}

/// Loads every skill and asks each language a question through the real recogniser.
fn check_skills(cfg: &Config) -> Vec<Check> {
    let (mut brain, problems) = match crate::skill::load::from_config(cfg) {
        Ok(b) => b,
        Err(e) => {
            return vec![bad(
                "skills",
                e.to_string(),
                "reinstall Sori: its built-in data is damaged",
            )];
        }
    };
    let mut out = Vec::new();
    let understood = [("en", "what time is it"), ("ko", "지금 몇 시야")]
        .iter()
        .all(|(lang, q)| brain.ask(q, Some(lang)).intent.is_some());
    let ids = brain.registry.ids().join(", ");
    out.push(if understood {
        ok("skills", format!("{ids}; English and Korean understood"))
    } else {
        bad(
            "skills",
            format!("{ids}; a test question was not understood"),
            "report a bug",
        )
    });
    for p in problems {
        out.push(bad(
            "skill",
            p,
            "fix the file and line named (see docs/skills.md), or remove it from skills.dirs",
        ));
    }
    if cfg.skills.home_assistant {
        out.push(if brain.fallback.is_empty() {
            bad(
                "home assistant intents",
                "not installed: only Sori's own sentences are understood",
                "run `sori models fetch --only intents`, or set skills.home_assistant = false",
            )
        } else {
            let n: usize = brain
                .fallback
                .iter()
                .map(|s| s.grammar.sentences.len())
                .sum();
            ok(
                "home assistant intents",
                format!("{n} templates for the intents Sori serves"),
            )
        });
    }
    out
}

/// Not a failure when unset (a named place still works), but said, with the fix.
fn check_location(cfg: &Config) -> Check {
    let l = &cfg.location;
    let zone = if l.timezone.is_empty() {
        "system time zone".to_string()
    } else {
        l.timezone.clone()
    };
    let detail = match (l.name.as_str(), l.has_coordinates()) {
        ("", false) => format!(
            "not set: weather and sunrise/sunset only for places named in the question ({zone}); set location.name = \"Your city\""
        ),
        (n, false) => format!("{n} (looked up by name on first use; {zone})"),
        (n, true) => format!("{n} at {:.3}, {:.3} ({zone})", l.latitude, l.longitude),
    };
    ok("location", detail)
}

/// MPD reachable, or the music folders there and indexed.
fn check_music(cfg: &Config) -> Check {
    let m = &cfg.music;
    if m.backend == "mpd" {
        return match crate::music::mpd::Conn::open(&m.mpd).and_then(|mut c| c.run("stats")) {
            Ok(stats) => {
                let songs = stats
                    .iter()
                    .find(|(k, _)| k == "songs")
                    .map_or("?", |(_, v)| v.as_str());
                ok(
                    "music",
                    format!("MPD at {}:{}, {songs} songs", m.mpd.host, m.mpd.port),
                )
            }
            Err(e) => bad(
                "music",
                e.to_string(),
                "start MPD (`systemctl start mpd`), or fix music.mpd.host/port/password",
            ),
        };
    }
    if m.dirs.is_empty() {
        return ok(
            "music",
            "no music folders; set music.dirs = [\"/path/to/Music\"] to play your own",
        );
    }
    if let Some(d) = m.dir_paths().into_iter().find(|d| !d.is_dir()) {
        return bad(
            "music",
            format!("{} is not a directory", d.display()),
            "fix music.dirs, or mount the drive the music is on",
        );
    }
    let count = crate::store::Store::open(&cfg.state_dir())
        .ok()
        .and_then(|mut s| crate::music::library::count(s.conn()).ok())
        .unwrap_or(0);
    let stations = if m.stations.is_empty() {
        String::new()
    } else {
        format!(", {} radio stations", m.stations.len())
    };
    if count == 0 {
        return ok(
            "music",
            format!(
                "{} folders, not scanned yet (`sori music scan`){stations}",
                m.dirs.len()
            ),
        );
    }
    ok(
        "music",
        format!(
            "{count} tracks indexed in {} folders{stations}",
            m.dirs.len()
        ),
    )
}

/// Contacts, the SMTP server reachable, and messages still waiting in the outbox.
fn check_messaging(cfg: &Config) -> Check {
    let m = &cfg.messaging;
    if m.contacts.is_empty() {
        return ok(
            "messaging",
            "no contacts; add them to [messaging.contacts] to send messages",
        );
    }
    let e = &m.email;
    if m.contacts.values().any(|c| c.backend == "email") {
        let addr = format!("{}:{}", e.smtp_host, e.smtp_port);
        let reachable = std::net::ToSocketAddrs::to_socket_addrs(&addr)
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|a| {
                std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(3)).is_ok()
            });
        if !reachable {
            return bad(
                "messaging",
                format!(
                    "cannot reach the SMTP server {addr}; email messages will wait in the outbox"
                ),
                "check messaging.email.smtp_host/smtp_port and the network",
            );
        }
    }
    if m.contacts.values().any(|c| c.backend == "matrix") && !m.matrix.homeserver.is_empty() {
        let url = format!(
            "{}/_matrix/client/versions",
            m.matrix.homeserver.trim_end_matches('/')
        );
        crate::net::install_tls_provider();
        let up = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .ok()
            .and_then(|c| c.get(&url).send().ok())
            .is_some_and(|r| r.status().is_success());
        if !up {
            return bad(
                "messaging",
                format!(
                    "cannot reach the Matrix homeserver {}; messages will wait in the outbox and none can be read",
                    m.matrix.homeserver
                ),
                "check messaging.matrix.homeserver and the network",
            );
        }
    }
    let (waiting, unread) = crate::store::Store::open(&cfg.state_dir())
        .ok()
        .map(|mut s| {
            let w = crate::messaging::outbox::due(s.conn(), i64::MAX).map_or(0, |v| v.len());
            (
                w,
                crate::messaging::inbox::count_unread(s.conn()).unwrap_or(0),
            )
        })
        .unwrap_or_default();
    let mut line = format!("{} contacts", m.contacts.len());
    if waiting > 0 {
        line.push_str(&format!(
            ", {waiting} messages waiting to be sent (`sori outbox list`)"
        ));
    }
    if unread > 0 {
        line.push_str(&format!(", {unread} unread messages"));
    }
    ok("messaging", line)
}

fn check_state(cfg: &Config) -> Check {
    let dir = cfg.state_dir();
    let probe = dir.join(".doctor");
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&probe, b"ok")) {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            if let Err(e) = crate::store::Store::open(&dir) {
                return bad(
                    "state",
                    e.to_string(),
                    "move the damaged sori.db away (timers in it are lost), or fix state.dir",
                );
            }
            let muted = crate::daemon::is_muted(cfg);
            ok(
                "state",
                format!(
                    "{} writable, {} ok{}",
                    dir.display(),
                    crate::store::FILE,
                    if muted {
                        "; MUTED (`sori mute off`)"
                    } else {
                        ""
                    }
                ),
            )
        }
        Err(e) => bad(
            "state",
            format!("{}: {e}", dir.display()),
            "set state.dir to a writable directory, or run as the service user",
        ),
    }
}
