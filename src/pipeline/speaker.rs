//! The speaker thread: plays earcons and replies at the mixer's speech volume. Replies stream:
//! the synthesis thread (`tts::stream`) makes the next sentence while this one plays, and a
//! stop (the stop phrase, a new wake word) cuts playback within ~10 ms and drops the rest of
//! the reply, even while a sentence is still being synthesised.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc as std_mpsc};
use std::time::Duration;

use tokio::sync::mpsc;

use super::actor::{Msg, Playback};
use super::events::EventKind;
use super::state::Input;
use super::{Earcon, Reply};
use crate::audio::mixer::Mixer;
use crate::audio::{AudioSink, Clip, earcon};
use crate::tts::stream::Synth;

pub(super) enum SpeakJob {
    Earcon(Earcon),
    Reply { run: u64, reply: Reply },
}

/// How often a stop is checked while waiting for the next sentence.
const STOP_POLL: Duration = Duration::from_millis(20);

pub(super) fn spawn_speaker(
    mut sink: Box<dyn AudioSink>,
    synth: Synth,
    mixer: Mixer,
    stop: Arc<AtomicBool>,
    playing: Arc<Playback>,
    tx: mpsc::Sender<Msg>,
) -> std_mpsc::Sender<SpeakJob> {
    let (jobs, rx) = std_mpsc::channel::<SpeakJob>();
    std::thread::Builder::new()
        .name("sori-speak".into())
        .spawn(move || {
            let earcons: Vec<(Earcon, Clip)> =
                [Earcon::Wake, Earcon::Done, Earcon::Cancel, Earcon::Error]
                    .into_iter()
                    .map(|e| (e, earcon::render(e)))
                    .collect();
            let never = AtomicBool::new(false);
            while let Ok(job) = rx.recv() {
                playing.begin();
                let spoken = match job {
                    SpeakJob::Earcon(e) => {
                        let mut clip = earcons
                            .iter()
                            .find(|(k, _)| *k == e)
                            .expect("all rendered")
                            .1
                            .clone();
                        mixer.apply_speech_gain(&mut clip.samples);
                        if let Err(err) = sink.play_until(&clip, &never) {
                            tracing::warn!("could not play the {e:?} earcon: {err}");
                        }
                        None
                    }
                    SpeakJob::Reply { run, reply } => Some(Input::Spoken {
                        run,
                        cut: speak(&mut *sink, &synth, &mixer, &stop, run, &reply, &tx),
                    }),
                };
                // Marked before the machine hears of it, so the listener's gate is already set.
                playing.end();
                if let Some(input) = spoken
                    && tx.blocking_send(Msg::Input(input)).is_err()
                {
                    return;
                }
            }
        })
        .expect("spawning the speaker thread");
    jobs
}

/// Plays one reply sentence by sentence; true if it was cut short.
fn speak(
    sink: &mut dyn AudioSink,
    synth: &Synth,
    mixer: &Mixer,
    stop: &AtomicBool,
    run: u64,
    reply: &Reply,
    tx: &mpsc::Sender<Msg>,
) -> bool {
    let publish = |kind| {
        let _ = tx.blocking_send(Msg::Publish { run, kind });
    };
    let pieces = synth.speak(&reply.speech, &reply.language);
    let mut first = true;
    loop {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        let mut clip = match pieces.recv_timeout(STOP_POLL) {
            Ok(Ok(clip)) => clip,
            Ok(Err(e)) => {
                publish(EventKind::Error {
                    stage: "tts".into(),
                    message: e.to_string(),
                });
                return false;
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return false,
        };
        if first {
            first = false;
            publish(EventKind::TtsStart);
        }
        mixer.apply_speech_gain(&mut clip.samples);
        match sink.play_until(&clip, stop) {
            Ok(true) => {}
            Ok(false) => return true,
            Err(e) => {
                publish(EventKind::Error {
                    stage: "audio".into(),
                    message: e.to_string(),
                });
                return false;
            }
        }
    }
}
