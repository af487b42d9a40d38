//! The actor: runs the state machine against the real world. A listener thread (`listener`)
//! reads the microphone (or a file), runs VAD and the wake word per 80 ms frame and sends
//! frames here; whisper, the handler and the speaker each have their own thread, so the async
//! runtime is never blocked. Results come back as `Input`s; effects go out to the threads.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::Handler;
use super::events::{Bus, EventKind};
use super::listener::{Playback, listen};
use super::speaker::{SpeakJob, spawn_speaker};
use super::state::{self, Effect, Frame, Input, Machine, Settings, State};
use super::stt_worker::{SttJob, spawn_stt};
use crate::audio::mixer::Mixer;
use crate::audio::{AudioError, AudioSink, AudioSource};
use crate::stt::Stt;
use crate::tts::Tts;
use crate::tts::stream::Synth;
use crate::vad::Vad;
use crate::wake::WakeWord;

/// Reopens the input after a device failure.
pub type Reopen = Box<dyn FnMut() -> Result<Box<dyn AudioSource>, AudioError> + Send>;

/// Everything the loop runs on.
pub struct Parts {
    pub source: Box<dyn AudioSource>,
    /// How to reopen the source after it fails (a device); `None` for files.
    pub reopen: Option<Reopen>,
    pub sink: Box<dyn AudioSink>,
    pub wake: Box<dyn WakeWord>,
    pub vad: Box<dyn Vad>,
    pub stt: Box<dyn Stt>,
    pub tts: Box<dyn Tts>,
    /// Volumes and ducking (shared with skills and `sori volume`).
    pub mixer: Mixer,
    pub handler: Box<dyn Handler>,
    /// The music player skills' music actions go to; `None`: music actions are logged only.
    pub player: Option<crate::music::SharedPlayer>,
    /// Timers and alarms going off (`pipeline::reminders`); `None`: none.
    pub announcements: Option<mpsc::Receiver<super::Announcement>>,
    /// Typed commands (the local API).
    pub commands: Option<mpsc::Receiver<super::state::TextCommand>>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A finite input (a file): stop once it has ended and the last run is over.
    pub finite: bool,
    /// Feed a finite input in real time (as a microphone would) rather than as fast as possible.
    pub realtime: bool,
    /// `sori mute` writes this file; it is checked about once a second.
    pub mute_file: Option<PathBuf>,
    /// How long a timer or alarm rings unless stopped (`alarms.ring_seconds`).
    pub ring_ms: u64,
    /// Where the microphone's level goes, frame by frame (the local API's meter).
    pub level: Option<Arc<std::sync::atomic::AtomicU32>>,
    /// Muted from elsewhere as well (Home Assistant pausing the satellite), checked with the
    /// mute file.
    pub remote_mute: Option<Arc<AtomicBool>>,
}

/// What the run did, for `sori run --input` and tests.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub runs: u64,
    pub frames: u64,
}

pub(super) enum Msg {
    Frame {
        frame: Frame,
        eof: bool,
    },
    Input(Input),
    Publish {
        run: u64,
        kind: EventKind,
    },
    /// The input failed for good.
    Fatal(String),
}

/// How long shutdown waits for the speaker and whisper threads to finish.
const WORKERS_GRACE: Duration = Duration::from_secs(5);

/// Runs the loop until `shutdown` resolves (or a finite input is done).
///
/// # Errors
/// Only if the input fails and cannot be reopened.
pub async fn run(
    parts: Parts,
    settings: Settings,
    muted: bool,
    bus: Bus,
    opts: Options,
    shutdown: impl Future<Output = ()>,
) -> Result<Summary, String> {
    let Parts {
        source,
        reopen,
        sink,
        wake,
        vad,
        stt,
        tts,
        mixer,
        handler,
        player,
        mut announcements,
        mut commands,
    } = parts;
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    let quit = Arc::new(AtomicBool::new(false));
    // Lockstep for fast file runs: the listener waits for an ack per frame, and acks are held
    // while Sori is busy, so a file behaves like a microphone with infinitely fast processing.
    let (ack_tx, ack_rx) = std_mpsc::channel::<()>();
    let lockstep = opts.finite && !opts.realtime;
    let playing = Arc::new(Playback::new());
    // Set by the actor while the state needs voice activity (not while idle: saves CPU).
    let vad_on = Arc::new(AtomicBool::new(false));
    let listener = {
        let (tx, quit, playing, vad_on) =
            (tx.clone(), quit.clone(), playing.clone(), vad_on.clone());
        let realtime = opts.realtime || !opts.finite;
        std::thread::Builder::new()
            .name("sori-listen".into())
            .spawn(move || {
                listen(
                    source,
                    reopen,
                    wake,
                    vad,
                    tx,
                    quit,
                    playing,
                    lockstep.then_some(ack_rx),
                    realtime && opts.finite,
                    vad_on,
                )
            })
            .map_err(|e| e.to_string())?
    };
    let handler: Arc<Mutex<Box<dyn Handler>>> = Arc::new(Mutex::new(handler));
    let (stt_tx, stt_abort, stt_thread) = spawn_stt(stt, handler.clone(), tx.clone());
    let stop = Arc::new(AtomicBool::new(false));
    if let Some(music) = sink.music_channel() {
        mixer.attach_music(music);
    }
    let (speak_tx, speak_thread) = spawn_speaker(
        sink,
        Synth::spawn(tts),
        mixer.clone(),
        stop.clone(),
        playing.clone(),
        tx.clone(),
        if opts.ring_ms == 0 {
            300_000
        } else {
            opts.ring_ms
        },
    );
    let events = bus.clone();

    let mut m = Machine::new(settings, muted);
    if muted {
        events.publish(0, 0, EventKind::Muted { muted: true });
    }
    let mut eof = false;
    let mut ack_owed = false;
    let mut last_mute_check = Instant::now();
    let mut summary = Summary::default();
    tokio::pin!(shutdown);
    let result = loop {
        let msg = tokio::select! {
            _ = &mut shutdown => break Ok(()),
            msg = rx.recv() => match msg { Some(m) => m, None => break Ok(()) },
            a = next_announcement(&mut announcements) => match a {
                Some(a) => {
                    tracing::info!(key = %a.key, "announcing");
                    Msg::Input(Input::Announce(a))
                }
                None => {
                    announcements = None;
                    continue;
                }
            },
            c = next_of(&mut commands) => match c {
                Some(c) => Msg::Input(Input::Text(c)),
                None => {
                    commands = None;
                    continue;
                }
            },
        };
        let input = match msg {
            Msg::Frame { frame, eof: e } => {
                if let Some(l) = &opts.level {
                    crate::api::set_level(l, &frame.samples);
                }
                eof |= e;
                summary.frames += 1;
                ack_owed = lockstep;
                Input::Frame(frame)
            }
            Msg::Input(i) => {
                if let Input::Transcribed {
                    speculative,
                    result: Ok(t),
                    ..
                } = &i
                {
                    tracing::debug!(
                        speculative,
                        audio_ms = t.audio_ms,
                        stt_ms = t.stt_ms,
                        "transcript ready"
                    );
                }
                i
            }
            Msg::Publish { run, kind } => {
                events.publish(run, m.audio_ms(), kind);
                continue;
            }
            Msg::Fatal(e) => break Err(e),
        };
        // A clear wake word passes the listener's gate while Sori speaks; the machine decides.
        let barge_in = match (&input, &m.state) {
            (Input::Frame(f), State::Speaking { run, .. }) => f.wake.clone().map(|d| (d, *run)),
            _ => None,
        };
        let (next, effects) = state::step(m, input);
        m = next;
        if let Some((d, run)) = barge_in
            && matches!(m.state, State::Speaking { run: r, .. } if r == run)
        {
            tracing::info!(name = %d.name, score = d.score, "wake word heard in Sori's own reply: ignored as its own voice");
        }
        for fx in effects {
            match fx {
                Effect::Emit { run, kind } => {
                    if matches!(kind, EventKind::RunStart { .. }) {
                        summary.runs += 1;
                        // A spoken command is coming: whisper gets ready while it is said.
                        if matches!(m.state, State::Listening { .. }) {
                            let _ = stt_tx.send(SttJob::Prepare);
                        }
                    }
                    if matches!(kind, EventKind::RunEnd { .. }) {
                        let _ = stt_tx.send(SttJob::Rest);
                    }
                    events.publish(run, m.audio_ms(), kind);
                }
                Effect::Earcon(e) => {
                    let _ = speak_tx.send(SpeakJob::Earcon(e));
                }
                Effect::Transcribe {
                    run,
                    audio,
                    speculative,
                } => {
                    tracing::debug!(run, speculative, ms = audio.len() / 16, "transcribing");
                    let _ = stt_tx.send(SttJob::Command {
                        run,
                        audio,
                        speculation: speculative.then(|| stt_abort.issue()),
                    });
                }
                Effect::DropSpeculation { run } => stt_abort.stale(run),
                Effect::Identify { run, audio } => {
                    let _ = stt_tx.send(SttJob::Identify { run, audio });
                }
                Effect::Verify { run, audio, key } => {
                    let _ = stt_tx.send(SttJob::Verify { run, audio, key });
                }
                Effect::CheckStop { run, audio } => {
                    let _ = stt_tx.send(SttJob::StopCheck { run, audio });
                }
                Effect::Handle { run, transcript } => {
                    // The command is transcribed: whisper's working memory goes back while
                    // the reply is made and spoken (a stop check re-creates it).
                    let _ = stt_tx.send(SttJob::Rest);
                    let (handler, tx, mixer, player) =
                        (handler.clone(), tx.clone(), mixer.clone(), player.clone());
                    tokio::task::spawn_blocking(move || {
                        let result = handler
                            .lock()
                            .map_err(|_| "handler panicked".to_string())
                            .and_then(|mut h| h.handle(&transcript));
                        if let Ok(r) = &result {
                            if let Some(a) = &r.action {
                                perform(a, &mixer, player.as_deref());
                            }
                            let _ = tx.blocking_send(Msg::Publish {
                                run,
                                kind: EventKind::IntentEnd {
                                    intent: r.intent.clone(),
                                },
                            });
                            let _ = tx.blocking_send(Msg::Publish {
                                run,
                                kind: EventKind::SkillEnd {
                                    speech: r.speech.clone(),
                                    expects_answer: r.expects_answer,
                                },
                            });
                        }
                        let _ = tx.blocking_send(Msg::Input(Input::Handled { run, result }));
                    });
                }
                Effect::Speak { run, reply } => {
                    stop.store(false, Ordering::Relaxed);
                    let _ = speak_tx.send(SpeakJob::Reply { run, reply });
                }
                Effect::CutSpeech => stop.store(true, Ordering::Relaxed),
            }
        }
        if let Some(f) = &opts.mute_file
            && last_mute_check.elapsed() > Duration::from_millis(800)
        {
            last_mute_check = Instant::now();
            mixer.refresh();
            let remote = opts
                .remote_mute
                .as_ref()
                .is_some_and(|r| r.load(Ordering::Relaxed));
            let on = read_mute(f).unwrap_or(muted) || remote;
            if on != m.muted {
                let (next, effects) = state::step(m, Input::Mute(on));
                m = next;
                for fx in effects {
                    if let Effect::Emit { run, kind } = fx {
                        events.publish(run, m.audio_ms(), kind);
                    }
                }
            }
        }
        // Music ducks from the wake word until the run is over (listening, thinking, speaking).
        mixer.duck(!matches!(m.state, State::Idle));
        vad_on.store(
            !matches!(
                m.state,
                State::Idle | State::Transcribing { .. } | State::Handling { .. }
            ),
            Ordering::Relaxed,
        );
        let busy = m.unverified.is_some()
            || matches!(
                m.state,
                State::Transcribing { .. } | State::Handling { .. } | State::Speaking { .. }
            );
        if ack_owed && !busy {
            ack_owed = false;
            let _ = ack_tx.send(());
        }
        if eof && matches!(m.state, State::Idle) && !playing.is_playing() {
            break Ok(());
        }
    };
    quit.store(true, Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    drop(ack_tx);
    drop(speak_tx);
    drop(stt_tx);
    stt_abort.all();
    // The listener notices `quit` within a frame; a wedged device read is abandoned, not awaited.
    let _ = tokio::task::spawn_blocking(move || listener.join()).await;
    // The speaker (its device and voices) and whisper are released before the process exits:
    // the engines' libraries tear down at exit and crash under a thread still using them.
    let workers = tokio::task::spawn_blocking(move || {
        let _ = speak_thread.join();
        let _ = stt_thread.join();
    });
    if tokio::time::timeout(WORKERS_GRACE, workers).await.is_err() {
        tracing::warn!(
            "the speaker or whisper did not stop within {WORKERS_GRACE:?}; exiting anyway"
        );
    }
    result.map(|()| summary)
}

/// The next announcement; never resolves without a channel.
async fn next_announcement(
    rx: &mut Option<mpsc::Receiver<super::Announcement>>,
) -> Option<super::Announcement> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_of<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// `sori mute` state: "1"/"0" in the file; absent means "as configured".
pub fn read_mute(path: &std::path::Path) -> Option<bool> {
    std::fs::read_to_string(path).ok().map(|s| s.trim() == "1")
}

/// Carries out what a skill asked for: volume on the mixer, music on the player (in a
/// blocking task: an MPD server answers over the network).
fn perform(
    action: &crate::skill::Action,
    mixer: &Mixer,
    player: Option<&dyn crate::music::Player>,
) {
    if let Some(change) = action.volume_change() {
        match mixer.change(change) {
            Ok(v) => tracing::info!(level = v.level, muted = v.muted, "volume changed by voice"),
            Err(e) => tracing::warn!(error = %e, "volume changed but not saved"),
        }
        return;
    }
    match (crate::music::Command::from_action(action), player) {
        (Some(c), Some(p)) => {
            if let Err(e) = p.command(c) {
                tracing::warn!("music: {e}");
            }
        }
        (Some(_), None) => tracing::info!(action = ?action, "no music player here"),
        (None, _) => tracing::info!(action = ?action, "action"),
    }
}
