//! Sori as a Home Assistant voice satellite (`sori run --wyoming-server`). Home Assistant's
//! Wyoming integration connects, asks who Sori is (`describe` → `info`) and says it is ready
//! (`run-satellite`). Sori keeps hearing its wake word on the device and decides the end of the
//! command itself; the command's audio then goes to Home Assistant (`detection`, `run-pipeline`
//! from `asr` to `tts`, `audio-start`/`-chunk`/`-stop`), which answers with the `transcript`,
//! the reply's text (`synthesize`) and its audio, which Sori plays before saying `played`.
//! Timers set through Home Assistant ring on the device; `pause-satellite` mutes it. While
//! Home Assistant is not connected, Sori answers on its own.
//!
//! `Link` is the state shared by the server's connection thread (`server`), the loop's
//! speech-to-text and handler (`bridge`) and the event-bus watcher.

pub mod bridge;
pub mod server;

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::json;

use super::types::{self, AudioFormat};
use super::{Event, write_event};
use crate::audio::Clip;
use crate::pipeline::Announcement;

/// The `Announce` key of Home Assistant's announcements.
const ANNOUNCE_KEY: &str = "homeassistant:announce";

/// Samples per `audio-chunk` sent to Home Assistant (its own satellites send 1024).
const CHUNK: usize = 1024;

/// One Home Assistant connection's writing half; whole events are written under its lock, so
/// the connection thread's `pong`s never interleave with the command's audio.
struct Conn {
    id: u64,
    writer: Arc<Mutex<TcpStream>>,
}

/// What Home Assistant has said about the command in progress.
#[derive(Debug, Default)]
struct Run {
    transcript: Option<String>,
    /// Its speech-to-text language (`transcribe`), or the reply voice's language.
    language: Option<String>,
    reply: Option<String>,
    audio: Option<Clip>,
    error: Option<String>,
    /// The connection closed before the run was over.
    lost: bool,
}

/// Audio being received (between `audio-start` and `audio-stop`).
struct Incoming {
    rate: u32,
    samples: Vec<i16>,
}

/// A timer set through Home Assistant.
#[derive(Debug, Clone)]
struct Timer {
    name: Option<String>,
    total_seconds: u64,
}

#[derive(Default)]
struct Inner {
    conn: Option<Conn>,
    next_conn: u64,
    /// `run-satellite` received and no `pause-satellite` since.
    ready: bool,
    run: Option<Run>,
    incoming: Option<Incoming>,
    /// Home Assistant waits for `played` after its reply is heard…
    played_owed: bool,
    /// …and after the run saying its announcement.
    played_run: Option<u64>,
    /// The wake word that started the current run (from the event bus).
    last_wake: String,
    timers: HashMap<String, Timer>,
}

/// Home Assistant's answer to a command: its words, their language and their audio.
#[derive(Debug, Clone, PartialEq)]
pub struct HaReply {
    pub text: String,
    pub language: Option<String>,
    pub audio: Option<Clip>,
}

/// What Sori says about itself in `info`.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    /// Wake word ids and the phrases they stand for.
    pub wake_words: Vec<(String, String)>,
    pub languages: Vec<String>,
}

pub struct Link {
    inner: Mutex<Inner>,
    changed: Condvar,
    timeout: Duration,
    identity: Identity,
    /// Set while Home Assistant has paused the satellite (its mute switch); the loop mutes.
    muted: Arc<AtomicBool>,
    /// Where timers going off and Home Assistant's announcements go (the loop says them).
    announce: Option<tokio::sync::mpsc::Sender<Announcement>>,
    /// Words for a finished timer: (language, its name) → speech.
    timer_done: TimerWords,
}

/// Says a finished timer in a language, given its name if it has one.
pub type TimerWords = Box<dyn Fn(&str, Option<&str>) -> String + Send + Sync>;

impl Link {
    pub fn new(
        identity: Identity,
        timeout: Duration,
        announce: Option<tokio::sync::mpsc::Sender<Announcement>>,
        timer_words: Option<TimerWords>,
    ) -> Arc<Link> {
        Arc::new(Link {
            inner: Mutex::new(Inner::default()),
            changed: Condvar::new(),
            timeout,
            identity,
            muted: Arc::new(AtomicBool::new(false)),
            announce,
            timer_done: timer_words.unwrap_or_else(|| Box::new(timer_done)),
        })
    }

    /// The flag the loop ORs into its mute state.
    pub fn mute_flag(&self) -> Arc<AtomicBool> {
        self.muted.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Home Assistant is connected and has asked Sori to run.
    pub fn is_ready(&self) -> bool {
        let i = self.lock();
        i.ready && i.conn.is_some()
    }

    /// A new connection replaces the old one (Home Assistant reconnects after a restart).
    pub(super) fn connected(&self, stream: &TcpStream) -> std::io::Result<u64> {
        let writer = stream.try_clone()?;
        writer.set_write_timeout(Some(self.timeout))?;
        let mut i = self.lock();
        if let Some(old) = i.conn.take()
            && let Ok(w) = old.writer.lock()
        {
            let _ = w.shutdown(std::net::Shutdown::Both);
        }
        i.next_conn += 1;
        let id = i.next_conn;
        i.conn = Some(Conn {
            id,
            writer: Arc::new(Mutex::new(writer)),
        });
        i.ready = false;
        Ok(id)
    }

    /// The connection `id` ended: a run waiting on it falls back to the device, and a mute
    /// Home Assistant set is lifted (it pauses before it goes away, and Sori answers alone now).
    pub(super) fn disconnected(&self, id: u64) {
        let mut i = self.lock();
        if i.conn.as_ref().is_some_and(|c| c.id == id) {
            i.conn = None;
            i.ready = false;
            i.incoming = None;
            if let Some(r) = &mut i.run {
                r.lost = true;
            }
            self.muted.store(false, Ordering::Relaxed);
            tracing::info!("Home Assistant disconnected; Sori answers on its own until it is back");
            self.changed.notify_all();
        }
    }

    /// Writes events to the current connection; false (and the connection dropped) if it fails.
    fn send(&self, events: &[Event]) -> bool {
        let conn = self.lock().conn.as_ref().map(|c| (c.id, c.writer.clone()));
        let Some((id, writer)) = conn else {
            return false;
        };
        let result = writer.lock().map_err(|_| ()).and_then(|mut w| {
            events
                .iter()
                .try_for_each(|e| write_event(&mut *w, e))
                .map_err(|e| tracing::warn!("writing to Home Assistant failed: {e}"))
        });
        if result.is_err() {
            if let Ok(w) = writer.lock() {
                let _ = w.shutdown(std::net::Shutdown::Both);
            }
            self.disconnected(id);
        }
        result.is_ok()
    }

    /// The `info` answer to `describe`.
    pub fn info(&self) -> Event {
        let id = &self.identity;
        let attribution = json!({"name": "Sori", "url": "https://github.com/sori-voice/sori"});
        let version = env!("CARGO_PKG_VERSION");
        let models: Vec<_> = id
            .wake_words
            .iter()
            .map(|(name, phrase)| {
                json!({"name": name, "attribution": attribution, "installed": true,
                       "description": phrase, "version": version,
                       "languages": id.languages, "phrase": phrase})
            })
            .collect();
        Event::new("info").with_data(json!({
            "wake": [{"name": "sori", "attribution": attribution, "installed": true,
                      "description": "Sori's wake words, heard on the device", "version": version,
                      "models": models}],
            "satellite": {"name": id.name, "attribution": attribution, "installed": true,
                          "description": "Sori voice assistant", "version": version,
                          "area": null, "has_vad": true,
                          "active_wake_words": id.wake_words.iter().map(|w| &w.0).collect::<Vec<_>>(),
                          "max_active_wake_words": id.wake_words.len(),
                          "supports_trigger": false},
        }))
    }

    /// Handles one event from Home Assistant; returns the events to answer with.
    pub(super) fn on_event(&self, e: &Event) -> Vec<Event> {
        let mut i = self.lock();
        let mut answer = Vec::new();
        match e.kind.as_str() {
            "describe" => answer.push(self.info()),
            "ping" => answer
                .push(Event::new("pong").with_data(json!({"text": e.data.get("text").cloned()}))),
            "run-satellite" => {
                if !i.ready {
                    tracing::info!(
                        "Home Assistant is ready: commands after the wake word go to its pipeline"
                    );
                }
                i.ready = true;
                self.muted.store(false, Ordering::Relaxed);
            }
            "pause-satellite" => {
                tracing::info!("Home Assistant paused the satellite: muted until it resumes");
                i.ready = false;
                self.muted.store(true, Ordering::Relaxed);
                if let Some(r) = &mut i.run {
                    r.lost = true;
                }
            }
            "transcribe" => {
                if let Some(r) = &mut i.run {
                    r.language = e.str("language").map(str::to_string);
                }
            }
            "transcript" => {
                if let Some(r) = &mut i.run {
                    r.transcript = Some(e.str("text").unwrap_or_default().to_string());
                }
            }
            "synthesize" => {
                if let Some(r) = &mut i.run {
                    r.reply = Some(e.str("text").unwrap_or_default().to_string());
                    if let Some(l) = e.data.get("voice").and_then(|v| v["language"].as_str()) {
                        r.language = Some(l.to_string());
                    }
                }
            }
            "audio-start" => {
                let rate = AudioFormat::of(e).map_or(22_050, |f| f.rate);
                i.incoming = Some(Incoming {
                    rate,
                    samples: Vec::new(),
                });
            }
            "audio-chunk" => {
                if let Some((f, samples)) = types::chunk_samples(e) {
                    let inc = i.incoming.get_or_insert(Incoming {
                        rate: f.rate,
                        samples: Vec::new(),
                    });
                    inc.samples.extend_from_slice(&samples);
                }
            }
            "audio-stop" => {
                if let Some(inc) = i.incoming.take() {
                    let clip = Clip {
                        sample_rate: inc.rate,
                        samples: inc.samples,
                    };
                    match &mut i.run {
                        Some(r) if r.transcript.is_some() || r.reply.is_some() => {
                            r.audio = Some(clip)
                        }
                        _ => {
                            // Audio outside a command: an announcement (Home Assistant's
                            // `assist_satellite.announce`), acknowledged once its run plays it.
                            self.say(Announcement {
                                key: ANNOUNCE_KEY.into(),
                                speech: String::new(),
                                language: String::new(),
                                ring: false,
                                chime: false,
                                audio: Some(Arc::new(clip)),
                            });
                        }
                    }
                }
            }
            "error" => {
                let text = e.str("text").unwrap_or("an error").to_string();
                let code = e.str("code").unwrap_or_default();
                tracing::warn!(code, "Home Assistant: {text}");
                if let Some(r) = &mut i.run {
                    r.error = Some(text);
                }
            }
            "timer-started" => {
                let id = e.str("id").unwrap_or_default().to_string();
                let t = Timer {
                    name: e.str("name").map(str::to_string),
                    total_seconds: e.u64("total_seconds").unwrap_or(0),
                };
                tracing::info!(id, name = ?t.name, seconds = t.total_seconds, "Home Assistant started a timer");
                i.timers.insert(id, t);
            }
            "timer-updated" => {
                if let Some(t) = i.timers.get_mut(e.str("id").unwrap_or_default()) {
                    t.total_seconds = e.u64("total_seconds").unwrap_or(t.total_seconds);
                }
            }
            "timer-cancelled" => {
                i.timers.remove(e.str("id").unwrap_or_default());
            }
            "timer-finished" => {
                let id = e.str("id").unwrap_or_default().to_string();
                let timer = i.timers.remove(&id);
                let lang = self
                    .identity
                    .languages
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "en".into());
                let name = timer.as_ref().and_then(|t| t.name.as_deref());
                tracing::info!(id, ?name, "Home Assistant's timer finished");
                self.say(Announcement {
                    key: format!("homeassistant:timer:{id}"),
                    speech: (self.timer_done)(&lang, name),
                    language: lang,
                    ring: true,
                    chime: false,
                    audio: None,
                });
            }
            // Home Assistant's VAD and wake events: Sori decides these on the device.
            "voice-started" | "voice-stopped" | "detection" | "detect" | "pong" => {}
            other => tracing::debug!(event = other, "ignored an event from Home Assistant"),
        }
        self.changed.notify_all();
        answer
    }

    fn say(&self, a: Announcement) {
        if let Some(tx) = &self.announce
            && tx.try_send(a).is_err()
        {
            tracing::warn!("an announcement from Home Assistant was dropped: the loop is busy");
        }
    }

    /// Sends a command to Home Assistant's pipeline and waits for its transcript.
    /// `Ok(None)`: Home Assistant is not connected (answer on the device).
    ///
    /// # Errors
    /// Home Assistant answered with an error (it heard nothing, say).
    pub fn converse(&self, audio: &[i16]) -> Result<Option<(String, Option<String>)>, String> {
        let wake = {
            let mut i = self.lock();
            if !(i.ready && i.conn.is_some()) {
                return Ok(None);
            }
            i.run = Some(Run::default());
            i.incoming = None;
            if i.last_wake.is_empty() {
                self.identity
                    .wake_words
                    .first()
                    .map(|w| w.0.clone())
                    .unwrap_or_default()
            } else {
                i.last_wake.clone()
            }
        };
        let mut events = vec![
            types::detection(&wake, None),
            Event::new("run-pipeline").with_data(json!({
                "start_stage": "asr", "end_stage": "tts",
                "wake_word_name": wake, "restart_on_end": false})),
            types::audio_start(types::MIC),
        ];
        events.extend(
            audio
                .chunks(CHUNK)
                .map(|c| types::audio_chunk(types::MIC, c)),
        );
        events.push(types::audio_stop());
        if !self.send(&events) {
            self.lock().run = None;
            return Ok(None);
        }
        let i = self.wait(|r| r.transcript.is_some() || r.error.is_some() || r.lost);
        let Some(r) = i.run.as_ref() else {
            return Ok(None);
        };
        if let Some(e) = &r.error {
            return Err(format!("Home Assistant: {e}"));
        }
        match &r.transcript {
            Some(t) => Ok(Some((t.clone(), r.language.clone()))),
            None => {
                tracing::warn!(
                    lost = r.lost,
                    "no transcript from Home Assistant; answering on the device"
                );
                drop(i);
                self.lock().run = None;
                Ok(None)
            }
        }
    }

    /// Waits until the current run satisfies `done`, or the timeout.
    fn wait(&self, done: impl Fn(&Run) -> bool) -> MutexGuard<'_, Inner> {
        let deadline = Instant::now() + self.timeout;
        let mut i = self.lock();
        loop {
            if i.run.as_ref().is_none_or(&done) {
                return i;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return i;
            }
            i = self
                .changed
                .wait_timeout(i, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Home Assistant's reply to the command `converse` sent: its words and their audio.
    /// `None` when no Home Assistant run is in progress (the device answers).
    pub fn reply(&self) -> Option<Result<HaReply, String>> {
        self.lock().run.as_ref()?.transcript.as_ref()?;
        let mut i = self.wait(|r| r.audio.is_some() || r.error.is_some() || r.lost);
        let r = i.run.take()?;
        if let Some(e) = r.error {
            return Some(Err(format!("Home Assistant: {e}")));
        }
        match r.reply {
            Some(text) => {
                if r.audio.is_some() {
                    i.played_owed = true;
                } else {
                    tracing::warn!(
                        "Home Assistant's reply came without audio; Sori says it itself"
                    );
                }
                Some(Ok(HaReply {
                    text,
                    language: r.language,
                    audio: r.audio,
                }))
            }
            None => Some(Err(if r.lost {
                "Home Assistant went away before it answered".into()
            } else {
                "Home Assistant did not answer in time".into()
            })),
        }
    }

    /// Follows the loop's events: which wake word started a run, which run says an
    /// announcement, and when a reply or announcement from Home Assistant has been played.
    pub fn on_loop_event(&self, e: &crate::pipeline::events::Event) {
        use crate::pipeline::events::EventKind as K;
        let mut i = self.lock();
        let played = match &e.kind {
            K::WakeDetected { name, .. } => {
                i.last_wake = name.clone();
                false
            }
            K::Announce { key, .. } if key == ANNOUNCE_KEY => {
                i.played_run = Some(e.run);
                false
            }
            K::TtsEnd { .. } | K::RunEnd { .. } => {
                if matches!(e.kind, K::RunEnd { .. }) {
                    i.run = None;
                }
                let owed = std::mem::take(&mut i.played_owed);
                let announced = i.played_run == Some(e.run);
                if announced {
                    i.played_run = None;
                }
                owed || announced
            }
            _ => false,
        };
        drop(i);
        if played {
            self.send(&[Event::new("played")]);
        }
    }
}

/// "Your timer is done" when no response data is at hand.
fn timer_done(lang: &str, name: Option<&str>) -> String {
    match (lang, name) {
        ("ko", Some(n)) => format!("{n} 타이머가 끝났어요."),
        ("ko", None) => "타이머가 끝났어요.".into(),
        (_, Some(n)) => format!("Your {n} timer is done."),
        (_, None) => "Your timer is done.".into(),
    }
}

#[cfg(test)]
mod tests;
