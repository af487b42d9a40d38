//! The event vocabulary every stage publishes (after Home Assistant's assist pipeline), and the
//! broadcast bus logs, earcons, `--events` files, the API and benchmarks subscribe to.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::broadcast;

/// What happened. Serialized as `{"type": "WakeDetected", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum EventKind {
    /// A run began: after a wake word, or listening for a follow-up answer.
    RunStart {
        follow_up: bool,
    },
    WakeDetected {
        name: String,
        score: f32,
    },
    /// The second stage did not confirm a wake word candidate (`heard`: its transcript).
    WakeRejected {
        name: String,
        score: f32,
        heard: String,
    },
    SpeechStart,
    /// The command ended: `silence` (trailing silence), `early` (a complete command was
    /// recognised during the trailing silence), or `cap` (the length limit).
    SpeechEnd {
        speech_ms: u64,
        reason: String,
    },
    SttEnd {
        text: String,
        language: String,
        stt_ms: u64,
        audio_ms: u64,
    },
    IntentEnd {
        intent: Option<String>,
    },
    SkillEnd {
        speech: String,
        expects_answer: bool,
    },
    TtsStart,
    /// Reply audio finished; `cut` when a stop phrase or shutdown interrupted it.
    TtsEnd {
        cut: bool,
    },
    /// A typed command started this run (the local API); `tag` is the caller's.
    Text {
        text: String,
        language: String,
        tag: String,
    },
    /// Sori speaks on its own: a timer or alarm went off (`key`: `timer:3`).
    Announce {
        key: String,
        speech: String,
    },
    /// A stop phrase was heard while Sori was speaking.
    StopHeard {
        text: String,
    },
    /// `answered`, `no_speech`, `too_short`, `stopped`, `rejected`, `error`.
    RunEnd {
        outcome: String,
    },
    Muted {
        muted: bool,
    },
    Error {
        stage: String,
        message: String,
    },
}

/// One event with its run and when it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// The run it belongs to (0: outside any run, e.g. `Muted`).
    pub run: u64,
    /// Position in the audio stream, ms since Sori started listening: deterministic, and what
    /// endpoint latency is measured in.
    pub audio_ms: u64,
    /// Monotonic wall time since start, ms: what processing latency is measured in.
    pub time_ms: u64,
    /// Unix time, ms.
    pub unix_ms: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// A cheap, clonable publisher.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Event>,
    start: Instant,
}

impl Bus {
    pub fn new() -> Bus {
        Bus {
            tx: broadcast::channel(1024).0,
            start: Instant::now(),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// A way to subscribe later that does not keep the bus open: the events log ends when
    /// the loop's bus is dropped, whatever listeners (API connections) remain.
    pub fn listener(&self) -> Listener {
        Listener(self.tx.downgrade())
    }

    /// Stamps and publishes; also logs it.
    pub fn publish(&self, run: u64, audio_ms: u64, kind: EventKind) {
        let event = Event {
            run,
            audio_ms,
            time_ms: self.start.elapsed().as_millis() as u64,
            unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            kind,
        };
        match &event.kind {
            EventKind::Error { stage, message } => tracing::warn!(run, stage, "{message}"),
            k => tracing::info!(
                run,
                audio_ms,
                "{}",
                serde_json::to_string(k).unwrap_or_default()
            ),
        }
        // No subscribers is fine.
        let _ = self.tx.send(event);
    }
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}

/// Subscribes to a bus while it is open (see [`Bus::listener`]).
#[derive(Clone)]
pub struct Listener(broadcast::WeakSender<Event>);

impl Listener {
    /// `None` once the loop has stopped.
    pub fn subscribe(&self) -> Option<broadcast::Receiver<Event>> {
        self.0.upgrade().map(|tx| tx.subscribe())
    }
}
