//! `sori run`: builds the loop's parts from the config and runs it until SIGTERM/Ctrl-C (or the
//! end of an input file), writing events to a JSON-lines file if asked.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::audio::{self, AudioError};
use crate::config::Config;
use crate::pipeline::Handler;
use crate::pipeline::actor::{self, Options, Parts, Reopen, Summary};
use crate::pipeline::events::Bus;
use crate::pipeline::state::Settings;

/// How `sori run` was asked to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Read this WAV as if it came from the microphone, instead of the configured input.
    pub input: Option<PathBuf>,
    /// Write everything Sori plays to this WAV instead of the configured output.
    pub output: Option<PathBuf>,
    /// Append every event as a JSON line to this file.
    pub events: Option<PathBuf>,
    /// With `input`: as fast as possible instead of in real time.
    pub fast: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error(transparent)]
    Wake(#[from] crate::wake::WakeError),
    #[error(transparent)]
    Onnx(#[from] crate::onnx::OnnxError),
    #[error(transparent)]
    Stt(#[from] crate::stt::SttError),
    #[error("{path}: {source}")]
    Events {
        path: String,
        source: std::io::Error,
    },
    #[error("the audio input failed: {0}")]
    Input(String),
    #[error("{0}")]
    Clock(String),
}

/// The file `sori mute` writes in the state directory.
pub fn mute_file(cfg: &Config) -> PathBuf {
    cfg.state_dir().join("muted")
}

/// Sets the persistent mute flag that a running daemon picks up within a second.
///
/// # Errors
/// The state directory is not writable.
pub fn set_mute(cfg: &Config, on: bool) -> std::io::Result<()> {
    let f = mute_file(cfg);
    if let Some(d) = f.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(f, if on { "1\n" } else { "0\n" })
}

/// Whether Sori is muted now: the `sori mute` file if present, else `listen.muted`.
pub fn is_muted(cfg: &Config) -> bool {
    actor::read_mute(&mute_file(cfg)).unwrap_or(cfg.listen.muted)
}

fn open_input(
    cfg: &Config,
    input: Option<&Path>,
) -> Result<(Box<dyn audio::AudioSource>, Option<Reopen>), AudioError> {
    if let Some(f) = input {
        return Ok((Box::new(audio::wav::WavSource::open(f)?), None));
    }
    let source = audio::open_source(&cfg.audio)?;
    let reopen: Option<Reopen> = if cfg.audio.input == "cpal" {
        let a = cfg.audio.clone();
        Some(Box::new(move || audio::open_source(&a)))
    } else {
        None
    };
    Ok((source, reopen))
}

/// Loads every model, opens the audio and runs the loop until `shutdown` resolves.
///
/// # Errors
/// Missing models or devices (each error says how to fix it), or an input that fails for good.
pub async fn run(
    cfg: &Config,
    opts: &RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<Summary, DaemonError> {
    let models = cfg.models_dir();
    // Load everything before touching the audio, so a missing model fails fast and clearly.
    let started = std::time::Instant::now();
    let wake = crate::wake::load_engine(cfg)?;
    let vad = crate::vad::SileroVad::load(&models)?;
    let cfg2 = cfg.clone();
    let mut stt = tokio::task::spawn_blocking(move || crate::load_stt_engine(&cfg2))
        .await
        .map_err(|e| DaemonError::Input(e.to_string()))??;
    // Whisper's warm-up left its working memory allocated; free it before the voice loads and
    // warms up, or the two add up to the daemon's highest memory of all (the wake word
    // re-creates it while the command is being spoken).
    stt.rest();
    let mut voices =
        crate::tts::Voices::from_config(cfg).map_err(|e| DaemonError::Input(e.to_string()))?;
    // Loaded now so the first reply does not wait for its voice; a voice that cannot load has
    // been logged and its language speaks with espeak-ng.
    for lang in cfg.tts.voices.keys() {
        let _ = voices.preload(lang);
    }
    tracing::info!(ms = started.elapsed().as_millis() as u64, voices = %voices.describe(), "models loaded");

    let (source, reopen) = open_input(cfg, opts.input.as_deref())?;
    let sink: Box<dyn audio::AudioSink> = match &opts.output {
        Some(f) => Box::new(audio::wav::WavSink::create(f)?),
        None => audio::open_sink(&cfg.audio)?,
    };
    tracing::info!(input = %source.describe(), output = %sink.describe(), wake = %cfg.wake.words.join(","), "listening");

    let bus = Bus::new();
    let writer = match &opts.events {
        Some(path) => Some(events_writer(&bus, path)?),
        None => None,
    };
    let mixer = audio::mixer::Mixer::from_config(cfg);
    let (db, problems) =
        crate::skill::load::open_db(cfg).map_err(|e| DaemonError::Input(e.to_string()))?;
    let player = crate::music::open_player(cfg, db.clone(), &mixer);
    if cfg.music.backend == "local" && cfg.music.scan_on_start && !cfg.music.dirs.is_empty() {
        scan_music(cfg);
    }
    let backends = crate::messaging::Backends::from_config(cfg);
    let inbox = backends.matrix().map(|mx| {
        std::sync::Arc::new(crate::messaging::matrix_inbox::MatrixInbox::new(
            mx,
            db.clone(),
            &cfg.messaging.contacts,
        ))
    });
    let clock = crate::pipeline::reminders::clock_from_env().map_err(DaemonError::Clock)?;
    let (mut brain, problems) = crate::skill::load::from_config_with(
        cfg,
        db.clone(),
        crate::skill::builtin::Services {
            player: Some(player.clone()),
            // Delivers what is queued, including what a previous run left.
            outbox: Some(crate::messaging::worker::Outbox::spawn(
                db.clone(),
                backends,
            )),
            inbox: inbox.clone(),
            offline: false,
        },
        problems,
    )
    .map_err(|e| DaemonError::Input(e.to_string()))?;
    brain.set_clock_ms(clock.clone());
    // A broken external skill is logged (by the loader) and left out; the rest keep working.
    if !problems.is_empty() {
        tracing::warn!(count = problems.len(), "some skills were not loaded");
    }
    tracing::info!(skills = %brain.registry.ids().join(","), "skills ready");
    // Loading left freed buffers behind (model files read whole, intent data parsed); glibc
    // would keep them resident for the daemon's whole life.
    crate::memory::give_back();
    let (announce, announcements) = tokio::sync::mpsc::channel(16);
    // Timers and alarms: checked now (one that ended while Sori was off is announced at
    // start-up), then whenever the next one is due.
    if let Some(db) = brain.db.clone() {
        let changed = db.lock().map(|d| d.changed()).unwrap_or_default();
        let reminders =
            crate::skill::reminders::Reminders::new(db, brain.responses.clone(), brain.zone);
        tokio::spawn(crate::pipeline::reminders::run(
            reminders,
            clock,
            changed,
            announce.clone(),
        ));
    }
    // Incoming Matrix messages: stored as they arrive, announced with a chime if wanted.
    if let Some(inbox) = inbox {
        let responses = brain.responses.clone();
        let contacts = cfg.messaging.contacts.clone();
        let announce = announce.clone();
        let on = cfg.messaging.matrix.announce;
        inbox.spawn(Box::new(move |new| {
            if let Some(a) = on
                .then(|| crate::skill::messaging::announcement(&responses, &contacts, new))
                .flatten()
                && announce.blocking_send(a).is_err()
            {
                tracing::debug!("the loop has stopped; announcement dropped");
            }
        }));
    }
    let announcements = Some(announcements);
    let (commands_tx, commands) = tokio::sync::mpsc::channel(8);
    let level = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    // The local API and dashboard (not for file runs, which are tests and debugging).
    let api_task = (cfg.api.enabled && opts.input.is_none()).then(|| {
        let api = crate::api::Api {
            cfg: std::sync::Arc::new(cfg.clone()),
            events: bus.listener(),
            commands: commands_tx,
            announce: announce.clone(),
            mixer: mixer.clone(),
            db: db.clone(),
            level: level.clone(),
            live: std::sync::Arc::new(std::sync::Mutex::new(crate::api::Live {
                state: "idle",
                run: 0,
                muted: is_muted(cfg),
            })),
            started: std::time::Instant::now(),
            next_tag: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1)),
        };
        tokio::spawn(async move {
            if let Err(e) = crate::api::serve(api, std::future::pending()).await {
                tracing::error!("the local API is not available: {e} (api.bind)");
            }
        })
    });
    let responses = brain.responses.clone();
    let mut handler: Box<dyn Handler> = Box::new(brain);
    let mut stt = stt;
    let mut remote_mute = None;
    let mut zeroconf = None;
    if let Some(addr) = cfg
        .satellite
        .addr()
        .map_err(|e| DaemonError::Input(e.to_string()))?
    {
        let link = satellite_link(cfg, announce.clone(), responses);
        let bound = crate::wyoming::satellite::server::serve(link.clone(), addr, &bus)
            .map_err(|e| DaemonError::Input(format!("satellite.listen = {addr}: {e}")))?;
        // Kept for the life of the loop; dropping it withdraws the announcement.
        zeroconf = (cfg.satellite.zeroconf && !bound.ip().is_loopback())
            .then(
                || match crate::wyoming::zeroconf::announce(&cfg.satellite.display_name(), bound) {
                    Ok(z) => Some(z),
                    Err(e) => {
                        tracing::warn!("zeroconf: Home Assistant will not discover Sori by itself ({e}); add it by address");
                        None
                    }
                },
            )
            .flatten();
        stt = Box::new(crate::wyoming::satellite::bridge::SatelliteStt::new(
            link.clone(),
            stt,
        ));
        handler = Box::new(crate::wyoming::satellite::bridge::SatelliteHandler::new(
            link.clone(),
            handler,
        ));
        remote_mute = Some(link.mute_flag());
    }
    let parts = Parts {
        source,
        reopen,
        sink,
        wake,
        vad: Box::new(vad),
        stt,
        tts: Box::new(voices),
        mixer,
        handler,
        player: Some(player),
        announcements,
        commands: Some(commands),
    };
    let options = Options {
        finite: opts.input.is_some(),
        realtime: !opts.fast,
        mute_file: Some(mute_file(cfg)),
        ring_ms: u64::from(cfg.alarms.ring_seconds) * 1000,
        level: Some(level),
        remote_mute: remote_mute.clone(),
    };
    let mut settings = Settings::new(&cfg.listen, &cfg.wake);
    if cfg.stt.language != "auto" {
        settings.identify_after = usize::MAX;
    }
    if remote_mute.is_some() {
        // A speculative transcript would start a Home Assistant pipeline (and its actions)
        // for a command that may not be over: satellites wait for the trailing silence.
        settings.speculate_after = usize::MAX;
    }
    let result = actor::run(
        parts,
        settings,
        is_muted(cfg),
        bus.clone(),
        options,
        shutdown,
    )
    .await;
    if let Some(t) = api_task {
        t.abort();
    }
    drop(zeroconf);
    drop(bus);
    if let Some(w) = writer {
        let _ = w.await;
    }
    result.map_err(DaemonError::Input)
}

/// The satellite's shared state: who Sori is (name, wake words, languages) and how it says
/// a Home Assistant timer is done (the timers skill's own words).
fn satellite_link(
    cfg: &Config,
    announce: tokio::sync::mpsc::Sender<crate::pipeline::Announcement>,
    responses: crate::skill::responses::Responses,
) -> std::sync::Arc<crate::wyoming::satellite::Link> {
    let languages = if cfg.stt.language == "auto" {
        vec!["en".to_string(), "ko".to_string()]
    } else {
        vec![cfg.stt.language.clone()]
    };
    let identity = crate::wyoming::satellite::Identity {
        name: cfg.satellite.display_name(),
        wake_words: cfg
            .wake
            .words
            .iter()
            .map(|w| (w.clone(), w.replace('_', " ")))
            .collect(),
        languages,
    };
    let words: crate::wyoming::satellite::TimerWords = Box::new(move |lang, name| {
        let ko = lang == "ko";
        let label = match (name, ko) {
            (Some(n), true) => format!("{n} 타이머"),
            (Some(n), false) => format!("{n} timer"),
            (None, true) => "타이머".into(),
            (None, false) => "timer".into(),
        };
        responses
            .render(
                if ko { "ko" } else { "en" },
                "SoriTimerDone",
                "done",
                &[("label", label.clone())],
                true,
            )
            .unwrap_or(label)
    });
    crate::wyoming::satellite::Link::new(
        identity,
        std::time::Duration::from_millis(u64::from(cfg.satellite.timeout_ms)),
        Some(announce),
        Some(words),
    )
}

/// Brings the music library up to date in the background (only changed files are read); the
/// music skill picks up new names on its next sentence.
/// The scan has its own connection, so the brain and the reminder task are never kept waiting
/// on the shared one.
fn scan_music(cfg: &Config) {
    let dirs = cfg.music.dir_paths();
    let state = cfg.state_dir();
    let _ = std::thread::Builder::new()
        .name("sori-music-scan".into())
        .spawn(move || {
            let mut db = match crate::store::Store::open(&state) {
                Ok(db) => db,
                Err(e) => return tracing::warn!("music library not scanned: {e}"),
            };
            match crate::music::library::scan(db.conn(), &dirs, |_, _| {}) {
                Ok(r) => tracing::info!(
                    added = r.added,
                    updated = r.updated,
                    removed = r.removed,
                    unchanged = r.unchanged,
                    failed = r.failed.len(),
                    "music library scanned"
                ),
                Err(e) => tracing::warn!("music library not scanned: {e}"),
            }
        });
}

fn events_writer(bus: &Bus, path: &Path) -> Result<tokio::task::JoinHandle<()>, DaemonError> {
    let err = |source| DaemonError::Events {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(err)?);
    let mut rx = bus.subscribe();
    Ok(tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let _ = serde_json::to_writer(&mut file, &e);
                    let _ = file.write_all(b"\n");
                    let _ = file.flush();
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!("events file fell behind; {n} events lost")
                }
                Err(RecvError::Closed) => break,
            }
        }
    }))
}
