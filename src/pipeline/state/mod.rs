//! The listening loop as a state machine: `step(machine, input) -> (machine, effects)`, pure
//! and deterministic (time is counted in 80 ms audio frames), unit-tested with scripted frames.
//! The actor (`pipeline::actor`) feeds it frames and results and carries out its effects.

use std::collections::VecDeque;

use super::events::EventKind;
use super::{Announcement, Earcon, Reply};
use crate::config::{ListenConfig, WakeConfig};
use crate::stt::Transcript;
use crate::wake::{Detection, FRAME};

/// Frame length in milliseconds.
pub const FRAME_MS: u64 = (FRAME as u64 * 1000) / crate::audio::SAMPLE_RATE as u64;

/// Limits, in frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub pre_roll: usize,
    pub trailing: usize,
    pub min_speech: usize,
    pub max_speech: usize,
    pub no_speech: usize,
    pub follow_up: usize,
    pub refractory: u64,
    /// Silence after which the command so far is transcribed speculatively.
    pub speculate_after: usize,
    /// Silence after which a complete speculative command is answered without waiting for the
    /// rest of the trailing silence (shorter pauses are often mid-sentence).
    pub early_after: usize,
    /// Speech frames after which the command's language is identified while the speaker is
    /// still talking (`usize::MAX`: never, the language is fixed).
    pub identify_after: usize,
    /// A stop phrase is short: longer overheard speech is not checked.
    pub stop_max: usize,
    pub earcons: bool,
    /// Confirm pretrained wake words by transcribing them (`wake.verify`).
    pub verify: bool,
    /// VAD probability that starts speech, and the lower one that keeps it going (Silero's own
    /// hysteresis), so quiet word endings ("…is it") are not taken for silence.
    pub vad_on: f32,
    pub vad_off: f32,
}

/// Audio kept before a wake detection for the second-stage check (2 s: the phrase and a margin).
const WAKE_HISTORY: usize = 25;

fn frames(ms: u32) -> usize {
    (ms as u64).div_ceil(FRAME_MS) as usize
}

impl Settings {
    pub fn new(l: &ListenConfig, w: &WakeConfig) -> Settings {
        // The frame in which the voice stops already holds half a frame of silence on average,
        // and Silero's probability falls a few tens of ms after the voice: whole silent frames
        // for all of `trailing_silence_ms` waited about 90 ms longer than it says (733 ms after
        // the true end for 600).
        let trailing = frames(l.trailing_silence_ms.saturating_sub(FRAME_MS as u32 / 2)).max(1);
        Settings {
            pre_roll: frames(l.pre_roll_ms),
            trailing,
            min_speech: frames(l.min_speech_ms),
            max_speech: frames(l.max_speech_ms),
            no_speech: frames(l.no_speech_ms),
            follow_up: frames(l.follow_up_ms),
            refractory: frames(w.refractory_ms) as u64,
            // The first silent frame: whisper is the slowest stage, so it starts as soon as the
            // speaker may have finished; a pause that turns out to be mid-sentence stops it.
            // Silero's release (about 90 ms of real silence before a frame counts as silent) and
            // the frame itself leave a word's quiet ending in the audio.
            speculate_after: 1,
            early_after: frames(240).min(trailing.saturating_sub(1)).max(1),
            // Whisper's language detection is a full encoder pass: done during the speech, it
            // is not on the path from the end of speech to the answer. The audio then also
            // holds the pre-roll (about 1 s in all), enough to tell English from Korean; when
            // whisper is unsure, the whole command is identified at the end instead.
            identify_after: frames(400),
            stop_max: frames(2000),
            earcons: l.earcons,
            verify: w.verify,
            vad_on: l.vad_threshold,
            vad_off: (l.vad_threshold - 0.15).max(0.05),
        }
    }
}

/// One analysed frame of microphone audio.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub samples: Vec<i16>,
    /// Voice activity: the VAD's speech probability, 0-1.
    pub vad: f32,
    /// The probability of the frame's last VAD window (`vad` is the frame's highest): below
    /// `vad_off` in a speech frame, the speaker has probably stopped inside the frame.
    pub vad_tail: f32,
    pub wake: Option<Detection>,
    /// Sori was playing a sound (earcon) during this frame: its own sound is neither a wake
    /// word nor the start of a command.
    pub playing: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Frame(Frame),
    /// The transcript of `Effect::Transcribe`; `complete` when the command is recognisable as
    /// it stands (an intent matched), so a speculative one may answer before the silence ends.
    Transcribed {
        run: u64,
        speculative: bool,
        result: Result<Transcript, String>,
        complete: bool,
    },
    Handled {
        run: u64,
        result: Result<Reply, String>,
    },
    /// The reply finished playing (`cut`: interrupted).
    Spoken {
        run: u64,
        cut: bool,
    },
    /// Transcript of speech overheard while Sori was speaking (`Effect::CheckStop`).
    Overheard {
        run: u64,
        text: String,
    },
    /// The second-stage check of a wake word: `heard` is what whisper made of it.
    Verified {
        run: u64,
        ok: bool,
        heard: String,
    },
    Mute(bool),
    /// A timer or alarm went off: said as soon as the loop is idle.
    Announce(Announcement),
    /// A typed command (the local API's `/ask`): a run without audio, started when idle.
    Text(TextCommand),
}

/// A command given as text instead of speech.
#[derive(Debug, Clone, PartialEq)]
pub struct TextCommand {
    pub text: String,
    /// `en`, `ko`; empty: from the text's script.
    pub language: String,
    /// Say the reply on the speaker (false: only the events and the API's answer carry it).
    pub speak: bool,
    /// The caller's tag, echoed in the `Text` event so it can find its run.
    pub tag: String,
}

/// What waits for the loop to be idle.
#[derive(Debug, Clone, PartialEq)]
pub enum Queued {
    Announce(Announcement),
    Text(TextCommand),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Emit {
        run: u64,
        kind: EventKind,
    },
    Earcon(Earcon),
    Transcribe {
        run: u64,
        audio: Vec<i16>,
        speculative: bool,
    },
    /// Identify the language of the command so far (its first words), so the transcription
    /// at the end runs in that language without detecting it again.
    Identify {
        run: u64,
        audio: Vec<i16>,
    },
    /// More speech came: the speculative transcription in progress for `run` is stale.
    DropSpeculation {
        run: u64,
    },
    Handle {
        run: u64,
        transcript: Transcript,
    },
    Speak {
        run: u64,
        reply: Reply,
    },
    /// Stop reply speech now.
    CutSpeech,
    /// Transcribe a short overheard segment to see if it is a stop phrase.
    CheckStop {
        run: u64,
        audio: Vec<i16>,
    },
    /// Confirm a wake word: transcribe `audio` and look for `key`.
    Verify {
        run: u64,
        audio: Vec<i16>,
        key: &'static str,
    },
}

/// A speculative transcript taken during the trailing silence, valid while no new speech came.
#[derive(Debug, Clone, PartialEq)]
pub struct Speculation {
    /// Length of the audio it covers.
    pub samples: usize,
    pub result: Option<(Transcript, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Idle,
    /// Recording a command. `waited` counts frames since the run began (for `no_speech`).
    Listening {
        run: u64,
        audio: Vec<i16>,
        /// False while the wake phrase itself is still being spoken: its tail is not the command.
        armed: bool,
        waited: usize,
        speech: usize,
        silence: usize,
        started: bool,
        speculation: Option<Speculation>,
    },
    /// Waiting for the transcript; `speculation` (its length in samples) when the speculation
    /// taken during the silence covers the whole command, so its result is the answer.
    Transcribing {
        run: u64,
        speech_ms: u64,
        speculation: Option<usize>,
    },
    Handling {
        run: u64,
    },
    Speaking {
        run: u64,
        reply: Reply,
        overheard: Vec<i16>,
        overheard_speech: usize,
        overheard_silence: usize,
    },
    /// After a question: waiting for speech without the wake word.
    FollowUp {
        run: u64,
        left: usize,
    },
}

/// The whole machine: current state plus what persists across runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub state: State,
    pub settings: Settings,
    pub muted: bool,
    /// Frames seen since start (the clock).
    pub frame: u64,
    pub last_wake: Option<u64>,
    pub next_run: u64,
    /// Recent frames: the last `pre_roll` start the next command; all of them (2 s) hold the
    /// wake phrase for the second-stage check.
    pub pre_roll: VecDeque<Vec<i16>>,
    /// A wake word waiting for its second-stage check; its run is listening meanwhile.
    pub unverified: Option<Detection>,
    /// The run's events held back until the check confirms the wake word, so they always
    /// follow `WakeDetected`.
    pub deferred: Vec<EventKind>,
    /// Announcements and typed commands waiting for the current conversation to end.
    pub queued: VecDeque<Queued>,
    /// A typed command's run whose reply is not to be spoken.
    pub quiet_run: Option<u64>,
    /// The power of the command's loudest 32 ms window so far, which its end is measured
    /// against (`loudness`).
    pub peak: f32,
}

impl Machine {
    pub fn new(settings: Settings, muted: bool) -> Machine {
        Machine {
            state: State::Idle,
            settings,
            muted,
            frame: 0,
            last_wake: None,
            next_run: 1,
            pre_roll: VecDeque::new(),
            unverified: None,
            deferred: Vec::new(),
            queued: VecDeque::new(),
            quiet_run: None,
            peak: 0.0,
        }
    }

    /// Stream position of the current frame's end, ms.
    pub fn audio_ms(&self) -> u64 {
        self.frame * FRAME_MS
    }
}

pub use super::stop::{STOP_PHRASES, is_stop};

/// A wake word this sure (sure enough to need no second check) interrupts Sori's own reply,
/// unless the reply itself says it (`verify::may_say`). Weaker detections while Sori speaks are
/// taken for its own voice (there is no echo cancellation) and ignored. Detections fire as soon
/// as they cross this, so it cannot be higher.
pub const BARGE_IN: f32 = crate::wake::verify::CONFIDENT;

/// Frames kept before overheard speech starts (240 ms).
const STOP_LEAD_FRAMES: usize = 3;

/// Advances the machine by one input.
pub fn step(m: Machine, input: Input) -> (Machine, Vec<Effect>) {
    let (mut m, mut fx) = step_inner(m, input);
    if matches!(m.state, State::Idle)
        && let Some(q) = m.queued.pop_front()
    {
        match q {
            Queued::Announce(a) => announce(&mut m, a, &mut fx),
            Queued::Text(t) => text_run(&mut m, t, &mut fx),
        }
    }
    if m.unverified.is_none() {
        return (m, fx);
    }
    let run = run_of(&m.state);
    let mut out = Vec::with_capacity(fx.len());
    for e in fx {
        match e {
            Effect::Emit { run: r, kind }
                if r == run && !matches!(kind, EventKind::RunStart { .. }) =>
            {
                m.deferred.push(kind)
            }
            other => out.push(other),
        }
    }
    (m, out)
}

fn step_inner(mut m: Machine, input: Input) -> (Machine, Vec<Effect>) {
    let mut fx = Vec::new();
    match input {
        // Queued; `step` starts it once the loop is idle.
        Input::Announce(a) => m.queued.push_back(Queued::Announce(a)),
        Input::Text(t) => m.queued.push_back(Queued::Text(t)),
        Input::Frame(f) => frame(&mut m, f, &mut fx),
        Input::Mute(on) => {
            if m.muted != on {
                m.muted = on;
                fx.push(Effect::Emit {
                    run: 0,
                    kind: EventKind::Muted { muted: on },
                });
                if on && matches!(m.state, State::Listening { .. } | State::FollowUp { .. }) {
                    let run = run_of(&m.state);
                    end_run(&mut m, run, "stopped", &mut fx);
                }
            }
        }
        Input::Transcribed {
            run,
            speculative,
            result,
            complete,
        } => transcribed(&mut m, run, speculative, result, complete, &mut fx),
        Input::Handled { run, result } => {
            if matches!(m.state, State::Handling { run: r } if r == run) {
                let quiet = m.quiet_run.take() == Some(run);
                match result {
                    Ok(_) if quiet => end_run(&mut m, run, "answered", &mut fx),
                    Ok(reply) if reply.speech.trim().is_empty() => {
                        earcon(&m, Earcon::Done, &mut fx);
                        end_run(&mut m, run, "answered", &mut fx);
                    }
                    Ok(reply) => speak(&mut m, run, reply, &mut fx),
                    Err(message) => fail(&mut m, run, "skill", message, &mut fx),
                }
            }
        }
        Input::Spoken { run, cut } => {
            if let State::Speaking { run: r, reply, .. } = &m.state
                && *r == run
            {
                let follow = reply.expects_answer && !cut && m.settings.follow_up > 0 && !m.muted;
                fx.push(Effect::Emit {
                    run,
                    kind: EventKind::TtsEnd { cut },
                });
                if follow {
                    // The answer's pre-roll must come from after the reply, not before it.
                    m.pre_roll.clear();
                    m.state = State::FollowUp {
                        run,
                        left: m.settings.follow_up,
                    };
                } else {
                    end_run(
                        &mut m,
                        run,
                        if cut { "stopped" } else { "answered" },
                        &mut fx,
                    );
                }
            }
        }
        Input::Verified { run, ok, heard } => {
            if run_of(&m.state) == run
                && let Some(d) = m.unverified.take()
            {
                if ok {
                    confirm_wake(&mut m, run, d, &mut fx);
                } else {
                    tracing::info!(name = %d.name, score = d.score, heard = %heard, "wake word not confirmed by the second stage");
                    fx.push(Effect::Emit {
                        run,
                        kind: EventKind::WakeRejected {
                            name: d.name,
                            score: d.score,
                            heard,
                        },
                    });
                    end_run(&mut m, run, "rejected", &mut fx);
                }
            }
        }
        Input::Overheard { run, text } => {
            if matches!(m.state, State::Speaking { run: r, .. } if r == run) && is_stop(&text) {
                fx.push(Effect::Emit {
                    run,
                    kind: EventKind::StopHeard { text },
                });
                fx.push(Effect::CutSpeech);
            }
        }
    }
    (m, fx)
}

/// Starts a run that speaks an announcement. It is a reply like any other: a stop phrase or a
/// confident wake word cuts it. Muting the microphone does not silence it.
fn announce(m: &mut Machine, a: Announcement, fx: &mut Vec<Effect>) {
    let run = m.next_run;
    m.next_run += 1;
    fx.push(Effect::Emit {
        run,
        kind: EventKind::RunStart { follow_up: false },
    });
    fx.push(Effect::Emit {
        run,
        kind: EventKind::Announce {
            key: a.key,
            speech: a.speech.clone(),
        },
    });
    let reply = Reply {
        speech: a.speech,
        language: a.language,
        ring: a.ring,
        chime: a.chime,
        audio: a.audio,
        ..Reply::default()
    };
    speak(m, run, reply, fx);
}

/// Starts a run for a typed command: straight to understanding, no audio, no earcons.
fn text_run(m: &mut Machine, t: TextCommand, fx: &mut Vec<Effect>) {
    let run = m.next_run;
    m.next_run += 1;
    let language = if t.language.is_empty() {
        crate::lang::detect(&t.text).to_string()
    } else {
        t.language
    };
    fx.push(Effect::Emit {
        run,
        kind: EventKind::RunStart { follow_up: false },
    });
    fx.push(Effect::Emit {
        run,
        kind: EventKind::Text {
            text: t.text.clone(),
            language: language.clone(),
            tag: t.tag,
        },
    });
    if !t.speak {
        m.quiet_run = Some(run);
    }
    let transcript = Transcript {
        text: t.text,
        language,
        audio_ms: 0,
        stt_ms: 0,
    };
    fx.push(Effect::Handle { run, transcript });
    m.state = State::Handling { run };
}

/// Says `reply`, listening meanwhile for a stop phrase.
fn speak(m: &mut Machine, run: u64, reply: Reply, fx: &mut Vec<Effect>) {
    fx.push(Effect::Speak {
        run,
        reply: reply.clone(),
    });
    m.state = State::Speaking {
        run,
        reply,
        overheard: Vec::new(),
        overheard_speech: 0,
        overheard_silence: 0,
    };
}

fn run_of(s: &State) -> u64 {
    match s {
        State::Idle => 0,
        State::Listening { run, .. }
        | State::Transcribing { run, .. }
        | State::Handling { run }
        | State::Speaking { run, .. }
        | State::FollowUp { run, .. } => *run,
    }
}

fn earcon(m: &Machine, e: Earcon, fx: &mut Vec<Effect>) {
    if m.settings.earcons {
        fx.push(Effect::Earcon(e));
    }
}

fn end_run(m: &mut Machine, run: u64, outcome: &str, fx: &mut Vec<Effect>) {
    fx.push(Effect::Emit {
        run,
        kind: EventKind::RunEnd {
            outcome: outcome.into(),
        },
    });
    m.state = State::Idle;
    m.unverified = None;
    m.deferred.clear();
}

/// The wake word counts: announce it, chime, and release the events held back meanwhile.
fn confirm_wake(m: &mut Machine, run: u64, d: Detection, fx: &mut Vec<Effect>) {
    fx.push(Effect::Emit {
        run,
        kind: EventKind::WakeDetected {
            name: d.name,
            score: d.score,
        },
    });
    // A check that ends after the command has begun (whisper slow on a busy CPU) gets no
    // chime: it would play over the speaker's words, and the gate on Sori's own sound takes
    // what it covers for silence, so a command could end early on its first words.
    if !matches!(m.state, State::Listening { started: true, .. }) {
        earcon(m, Earcon::Wake, fx);
    }
    fx.extend(m.deferred.drain(..).map(|kind| Effect::Emit { run, kind }));
}

fn fail(m: &mut Machine, run: u64, stage: &str, message: String, fx: &mut Vec<Effect>) {
    fx.push(Effect::Emit {
        run,
        kind: EventKind::Error {
            stage: stage.into(),
            message,
        },
    });
    earcon(m, Earcon::Error, fx);
    end_run(m, run, "error", fx);
}

fn listening(run: u64, audio: Vec<i16>, armed: bool) -> State {
    State::Listening {
        run,
        audio,
        armed,
        waited: 0,
        speech: 0,
        silence: 0,
        started: false,
        speculation: None,
    }
}

mod frame;
mod loudness;
mod transcript;

use frame::{frame, speech_end};
use transcript::{stt_done, transcribed};

#[cfg(test)]
mod announce_tests;
#[cfg(test)]
mod speculation_tests;
#[cfg(test)]
mod tests;
