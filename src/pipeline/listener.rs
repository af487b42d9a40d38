//! The listener thread: reads the microphone (or a file) frame by frame, runs the wake word
//! on every frame and the VAD while a run needs it, gates both while Sori's own sound plays,
//! and hands each analysed frame to the actor. A vanished device is reported and reopened.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc as std_mpsc};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::actor::{Msg, Reopen};
use super::events::EventKind;
use super::state::{self, Frame};
use crate::audio::AudioSource;
use crate::vad::Vad;
use crate::wake::{FRAME, WakeWord};

/// When Sori last made a sound, shared by the speaker and the listener: the microphone hears
/// Sori's own sound while it plays and for a while after (device buffers, the room's echo, and
/// the wake word model's 1.3 s window), so the listener gates itself on this. Time is counted
/// in audio frames, so file runs at any speed behave like the microphone.
pub(super) struct Playback {
    /// Frames the listener has read.
    frame: AtomicU64,
    /// Frame at which playback last ended; `u64::MAX` while playing; 0 never played.
    ended: AtomicU64,
}

/// Frames fed to the VAD to warm it up when it starts (0.48 s).
const VAD_WARMUP: usize = 6;

/// After Sori's own sound ends, VAD ignores this many frames (earcon tails, 160 ms)…
const VAD_TAIL: u64 = 2;
/// …and the wake word this many (1.3 s): its classifier looks back that far.
const WAKE_TAIL: u64 = 16;

impl Playback {
    pub(super) fn new() -> Playback {
        Playback {
            frame: AtomicU64::new(1),
            ended: AtomicU64::new(0),
        }
    }
    pub(super) fn tick(&self) {
        self.frame.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn begin(&self) {
        self.ended.store(u64::MAX, Ordering::Relaxed);
    }
    pub(super) fn end(&self) {
        self.ended
            .store(self.frame.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    pub(super) fn is_playing(&self) -> bool {
        self.ended.load(Ordering::Relaxed) == u64::MAX
    }
    /// True while playing or within `tail` frames after.
    pub(super) fn within(&self, tail: u64) -> bool {
        let e = self.ended.load(Ordering::Relaxed);
        e == u64::MAX || (e > 0 && self.frame.load(Ordering::Relaxed) <= e + tail)
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn listen(
    mut source: Box<dyn AudioSource>,
    mut reopen: Option<Reopen>,
    mut wake: Box<dyn WakeWord>,
    mut vad: Box<dyn Vad>,
    tx: mpsc::Sender<Msg>,
    quit: Arc<AtomicBool>,
    playing: Arc<Playback>,
    ack: Option<std_mpsc::Receiver<()>>,
    pace: bool,
    vad_on: Arc<AtomicBool>,
) {
    let mut samples = vec![0i16; FRAME];
    let mut recent: std::collections::VecDeque<Vec<i16>> =
        std::collections::VecDeque::with_capacity(VAD_WARMUP);
    let mut vad_was_on = false;
    let mut eof = false;
    let started = Instant::now();
    let mut n: u64 = 0;
    let mut dropped = 0;
    while !quit.load(Ordering::Relaxed) {
        if eof {
            samples.fill(0);
        } else {
            match source.read_frame(&mut samples) {
                Ok(more) => eof = !more,
                Err(e) => {
                    let Some(reopen) = reopen.as_mut() else {
                        let _ = tx.blocking_send(Msg::Fatal(e.to_string()));
                        return;
                    };
                    // A vanished or busy device: say so, then keep trying (a USB mic replugged).
                    // The failed stream goes now, not at the next successful open: with the
                    // sound server gone its ALSA thread can spin on errors until dropped.
                    drop(std::mem::replace(
                        &mut source,
                        Box::new(crate::audio::null::NullSource::new()),
                    ));
                    let _ = tx.blocking_send(Msg::Publish {
                        run: 0,
                        kind: EventKind::Error {
                            stage: "audio".into(),
                            message: format!("{e}; retrying"),
                        },
                    });
                    loop {
                        if quit.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(Duration::from_secs(2));
                        match reopen() {
                            Ok(s) => {
                                tracing::info!(input = %s.describe(), "audio input reopened");
                                source = s;
                                break;
                            }
                            Err(e) => tracing::debug!("reopen failed: {e}"),
                        }
                    }
                    continue;
                }
            }
        }
        if source.dropped_samples() > dropped {
            tracing::warn!(
                total = source.dropped_samples(),
                "audio input overflowed: Sori fell behind and dropped audio"
            );
            dropped = source.dropped_samples();
        }
        let mut detection = wake.process(&samples).unwrap_or_else(|e| {
            tracing::warn!("wake word failed: {e}");
            None
        });
        if let Some(d) = &detection
            && playing.within(WAKE_TAIL)
            && !(playing.is_playing() && d.score >= state::BARGE_IN)
        {
            tracing::info!(name = %d.name, score = d.score, "wake word heard while Sori was playing sound: ignored as its own voice");
            detection = None;
        }
        // Idle needs only the wake word: the VAD runs from a detection until the actor is idle
        // again, warmed up on the last frames so its state is current when it starts.
        if detection.is_some() {
            vad_on.store(true, Ordering::Relaxed);
        }
        let prob = if vad_on.load(Ordering::Relaxed) {
            if !vad_was_on {
                vad.reset();
                for f in &recent {
                    let _ = vad.process(f);
                }
            }
            vad.process(&samples).unwrap_or_else(|e| {
                tracing::warn!("VAD failed: {e}");
                0.0
            })
        } else {
            0.0
        };
        vad_was_on = vad_on.load(Ordering::Relaxed);
        if recent.len() == VAD_WARMUP {
            recent.pop_front();
        }
        recent.push_back(samples.clone());
        let gated = playing.within(VAD_TAIL);
        tracing::trace!(prob, gated, "frame");
        let frame = Frame {
            samples: samples.clone(),
            vad: prob,
            vad_tail: if prob > 0.0 { vad.tail() } else { 0.0 },
            wake: detection,
            playing: gated,
        };
        if tx.blocking_send(Msg::Frame { frame, eof }).is_err() {
            return;
        }
        n += 1;
        playing.tick();
        if let Some(ack) = &ack {
            if ack.recv().is_err() {
                return;
            }
        } else if pace {
            let due = started + Duration::from_millis(n * state::FRAME_MS);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }
}
