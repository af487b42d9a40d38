//! The speaker thread: plays earcons and replies at the mixer's speech volume. Replies stream:
//! the synthesis thread (`tts::stream`) makes the next sentence while this one plays, and a
//! stop (the stop phrase, a new wake word) cuts playback within ~10 ms and drops the rest of
//! the reply, even while a sentence is still being synthesised.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc as std_mpsc};
use std::time::Duration;

use tokio::sync::mpsc;

use super::actor::Msg;
use super::events::EventKind;
use super::listener::Playback;
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

/// Silence between repetitions of a ringing announcement.
const RING_PAUSE_MS: u64 = 1500;

pub(super) fn spawn_speaker(
    mut sink: Box<dyn AudioSink>,
    synth: Synth,
    mixer: Mixer,
    stop: Arc<AtomicBool>,
    playing: Arc<Playback>,
    tx: mpsc::Sender<Msg>,
    ring_ms: u64,
) -> (std_mpsc::Sender<SpeakJob>, std::thread::JoinHandle<()>) {
    let (jobs, rx) = std_mpsc::channel::<SpeakJob>();
    let thread = std::thread::Builder::new()
        .name("sori-speak".into())
        .spawn(move || {
            let earcons: Vec<(Earcon, Clip)> = [
                Earcon::Wake,
                Earcon::Done,
                Earcon::Cancel,
                Earcon::Error,
                Earcon::Alarm,
                Earcon::Message,
            ]
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
                    SpeakJob::Reply { run, reply } if reply.ring => {
                        let alarm = &earcons
                            .iter()
                            .find(|(k, _)| *k == Earcon::Alarm)
                            .expect("all rendered")
                            .1;
                        let cut = ring(
                            &mut *sink, &synth, &mixer, &stop, run, &reply, &tx, alarm, ring_ms,
                        );
                        Some(Input::Spoken { run, cut })
                    }
                    SpeakJob::Reply { run, reply } => Some(Input::Spoken {
                        cut: chime(&mut *sink, &mixer, &earcons, &stop, &reply)
                            || speak(&mut *sink, &synth, &mixer, &stop, run, &reply, &tx).0,
                        run,
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
    (jobs, thread)
}

/// The message chime before an announced message, if the reply asks for it; true if a stop
/// cut it (the words are then skipped too).
fn chime(
    sink: &mut dyn AudioSink,
    mixer: &Mixer,
    earcons: &[(Earcon, Clip)],
    stop: &AtomicBool,
    reply: &Reply,
) -> bool {
    if !reply.chime {
        return false;
    }
    let Some((_, clip)) = earcons.iter().find(|(k, _)| *k == Earcon::Message) else {
        return false;
    };
    let mut clip = clip.clone();
    mixer.apply_speech_gain(&mut clip.samples);
    match sink.play_until(&clip, stop) {
        Ok(done) => !done,
        Err(e) => {
            tracing::warn!("could not play the message chime: {e}");
            false
        }
    }
}

/// A timer or alarm going off: the alarm sound, the words, a pause, again, until stopped or
/// `ring_ms` of it has played. Counted in audio played, not wall time, so a file output rings
/// exactly as long as a speaker would. True if it was stopped.
#[allow(clippy::too_many_arguments)]
fn ring(
    sink: &mut dyn AudioSink,
    synth: &Synth,
    mixer: &Mixer,
    stop: &AtomicBool,
    run: u64,
    reply: &Reply,
    tx: &mpsc::Sender<Msg>,
    alarm: &Clip,
    ring_ms: u64,
) -> bool {
    let pause = Clip {
        sample_rate: alarm.sample_rate,
        samples: vec![0; (alarm.sample_rate as u64 * RING_PAUSE_MS / 1000) as usize],
    };
    let mut played = 0;
    while played < ring_ms {
        for _ in 0..2 {
            let mut clip = alarm.clone();
            mixer.apply_speech_gain(&mut clip.samples);
            match sink.play_until(&clip, stop) {
                Ok(true) => played += clip.duration_ms(),
                Ok(false) => return true,
                Err(e) => {
                    tracing::warn!("could not play the alarm sound: {e}");
                    return false;
                }
            }
        }
        let (cut, ms) = speak(sink, synth, mixer, stop, run, reply, tx);
        if cut {
            return true;
        }
        played += ms;
        match sink.play_until(&pause, stop) {
            Ok(true) => played += RING_PAUSE_MS,
            Ok(false) => return true,
            Err(_) => return false,
        }
    }
    false
}

/// Plays one reply as its clips come (sentences, or slices of them): (cut short, ms played).
fn speak(
    sink: &mut dyn AudioSink,
    synth: &Synth,
    mixer: &Mixer,
    stop: &AtomicBool,
    run: u64,
    reply: &Reply,
    tx: &mpsc::Sender<Msg>,
) -> (bool, u64) {
    let publish = |kind| {
        let _ = tx.blocking_send(Msg::Publish { run, kind });
    };
    if let Some(audio) = &reply.audio {
        publish(EventKind::TtsStart);
        let mut clip = (**audio).clone();
        mixer.apply_speech_gain(&mut clip.samples);
        return match sink.play_until(&clip, stop) {
            Ok(true) => (false, clip.duration_ms()),
            Ok(false) => (true, 0),
            Err(e) => {
                publish(EventKind::Error {
                    stage: "audio".into(),
                    message: e.to_string(),
                });
                (false, 0)
            }
        };
    }
    let pieces = synth.speak(&reply.speech, &reply.language);
    let mut first = true;
    let mut played = 0;
    loop {
        if stop.load(Ordering::Relaxed) {
            return (true, played);
        }
        let mut clip = match pieces.recv_timeout(STOP_POLL) {
            Ok(Ok(clip)) => clip,
            Ok(Err(e)) => {
                publish(EventKind::Error {
                    stage: "tts".into(),
                    message: e.to_string(),
                });
                return (false, played);
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                return match sink.drain_until(stop) {
                    Ok(done) => (!done, played),
                    Err(e) => {
                        publish(EventKind::Error {
                            stage: "audio".into(),
                            message: e.to_string(),
                        });
                        (false, played)
                    }
                };
            }
        };
        if first {
            first = false;
            publish(EventKind::TtsStart);
        }
        mixer.apply_speech_gain(&mut clip.samples);
        // Queued behind the clip before it: a sentence streamed in slices plays seamlessly.
        match sink.queue_until(&clip, stop) {
            Ok(true) => played += clip.duration_ms(),
            Ok(false) => return (true, played),
            Err(e) => {
                publish(EventKind::Error {
                    stage: "audio".into(),
                    message: e.to_string(),
                });
                return (false, played);
            }
        }
    }
}
