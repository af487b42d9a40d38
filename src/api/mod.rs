//! The local API and dashboard, served by `sori run` (axum, on 127.0.0.1 by default):
//!
//! - `GET /` the dashboard; `GET /api/status` what Sori is doing, volume, mute, mic level;
//! - `GET /api/events` a WebSocket of pipeline events, as JSON, the same as `--events` writes;
//! - `POST /api/ask {"text", "lang"?, "speak"?}` a typed command, run through the loop like a
//!   spoken one (its events appear on the WebSocket); answers with the reply;
//! - `POST /api/say {"text", "lang"?}` Sori says something, when it is free;
//! - `GET /api/runs?limit=N` the last runs, with transcripts and per-stage timings;
//! - `POST /api/mute {"muted"}`, `POST /api/volume {"level"?, "muted"?}`.
//!
//! With a token configured (required off loopback) every request carries it; a missing or
//! wrong one gets 401.

mod routes;
pub mod runs;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc;

use crate::audio::mixer::Mixer;
use crate::config::Config;
use crate::pipeline::Announcement;
use crate::pipeline::events::{EventKind, Listener};
use crate::pipeline::state::TextCommand;
use crate::store::Store;

/// What the daemon shares with the API.
#[derive(Clone)]
pub struct Api {
    pub cfg: Arc<Config>,
    /// The loop's events (held weakly: an open connection must not keep the loop's bus alive).
    pub events: Listener,
    pub commands: mpsc::Sender<TextCommand>,
    pub announce: mpsc::Sender<Announcement>,
    pub mixer: Mixer,
    pub db: Arc<Mutex<Store>>,
    /// The microphone's level, 0-1 (f32 bits), written by the loop for every frame.
    pub level: Arc<AtomicU32>,
    pub live: Arc<Mutex<Live>>,
    pub started: Instant,
    pub next_tag: Arc<std::sync::atomic::AtomicU64>,
}

/// What the loop is doing, as the last events tell.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Live {
    /// `idle`, `listening`, `transcribing`, `thinking`, `speaking`.
    pub state: &'static str,
    /// The current run (0: none).
    pub run: u64,
    pub muted: bool,
}

impl Live {
    fn follow(&mut self, run: u64, kind: &EventKind) {
        let state = match kind {
            EventKind::RunStart { .. } => "listening",
            EventKind::SpeechEnd { .. } => "transcribing",
            EventKind::SttEnd { .. } | EventKind::Text { .. } => "thinking",
            EventKind::TtsStart | EventKind::Announce { .. } => "speaking",
            EventKind::RunEnd { .. } => "idle",
            EventKind::Muted { muted } => {
                self.muted = *muted;
                return;
            }
            _ => return,
        };
        self.state = state;
        self.run = if state == "idle" { 0 } else { run };
    }
}

impl Api {
    pub fn level(&self) -> f32 {
        f32::from_bits(self.level.load(Ordering::Relaxed))
    }
}

/// Records the microphone level of a frame (peak, 0-1) for the API.
pub fn set_level(level: &AtomicU32, samples: &[i16]) {
    let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    level.store((f32::from(peak) / 32768.0).to_bits(), Ordering::Relaxed);
}

/// Follows the bus: keeps `live` current and writes each finished run to the history.
pub fn spawn_followers(api: &Api) {
    let Some(mut rx) = api.events.subscribe() else {
        return;
    };
    let (live, db, keep) = (api.live.clone(), api.db.clone(), api.cfg.api.history);
    tokio::spawn(async move {
        let mut rec = runs::Recorder::default();
        loop {
            let e = match rx.recv().await {
                Ok(e) => e,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "run history fell behind the events");
                    continue;
                }
                Err(_) => return,
            };
            if let Ok(mut l) = live.lock() {
                l.follow(e.run, &e.kind);
            }
            if let Some(run) = rec.event(&e) {
                let db = db.clone();
                tokio::task::spawn_blocking(move || {
                    let saved = db
                        .lock()
                        .map_err(|_| "state database lock poisoned".to_string())
                        .and_then(|mut d| {
                            runs::save(d.conn(), &run, keep).map_err(|e| e.to_string())
                        });
                    if let Err(e) = saved {
                        tracing::warn!("run {} not kept in the history: {e}", run.run);
                    }
                });
            }
        }
    });
}

/// Serves the API until `shutdown` resolves.
///
/// # Errors
/// The address cannot be bound (in use, not local).
pub async fn serve(
    api: Api,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = api
        .cfg
        .api
        .addr()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "API and dashboard on http://{}/",
        listener.local_addr().unwrap_or(addr)
    );
    spawn_followers(&api);
    axum::serve(listener, routes::router(api))
        .with_graceful_shutdown(shutdown)
        .await
}
