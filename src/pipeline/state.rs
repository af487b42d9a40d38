//! The listening loop as a state machine: `step(machine, input) -> (machine, effects)`, pure
//! and deterministic (time is counted in 80 ms audio frames), unit-tested with scripted frames.
//! The actor (`pipeline::actor`) feeds it frames and results and carries out its effects.

use std::collections::VecDeque;

use super::events::EventKind;
use super::{Earcon, Reply};
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
        Settings {
            pre_roll: frames(l.pre_roll_ms),
            trailing: frames(l.trailing_silence_ms).max(1),
            min_speech: frames(l.min_speech_ms),
            max_speech: frames(l.max_speech_ms),
            no_speech: frames(l.no_speech_ms),
            follow_up: frames(l.follow_up_ms),
            refractory: frames(w.refractory_ms) as u64,
            speculate_after: frames(240)
                .min(frames(l.trailing_silence_ms).saturating_sub(1))
                .max(1),
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
    let (mut m, fx) = step_inner(m, input);
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
                match result {
                    Ok(reply) if reply.speech.trim().is_empty() => {
                        earcon(&m, Earcon::Done, &mut fx);
                        end_run(&mut m, run, "answered", &mut fx);
                    }
                    Ok(reply) => {
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
    earcon(m, Earcon::Wake, fx);
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

/// Speech running on this long after the wake word is a command said in one breath.
const ONE_BREATH: usize = 4;
/// Audio kept before a command's first speech frame when there was a pause after the wake word.
const ONSET_KEEP: usize = 4;

fn frame(m: &mut Machine, mut f: Frame, fx: &mut Vec<Effect>) {
    // A confident wake word over Sori's own reply interrupts the reply at once and starts a new run on this very frame.
    if let State::Speaking { run, reply, .. } = &m.state
        && f.wake.as_ref().is_some_and(|d| {
            d.score >= BARGE_IN && !crate::wake::verify::may_say(&reply.speech, &d.name)
        })
        && !m.muted
    {
        let run = *run;
        fx.push(Effect::CutSpeech);
        fx.push(Effect::Emit {
            run,
            kind: EventKind::TtsEnd { cut: true },
        });
        end_run(m, run, "interrupted", fx);
        m.last_wake = None;
        f.playing = false;
    }
    m.frame += 1;
    let state = std::mem::replace(&mut m.state, State::Idle);
    m.state = match state {
        State::Idle => {
            let wake = f
                .wake
                .clone()
                .filter(|_| !m.muted && !f.playing)
                .filter(|_| {
                    m.last_wake
                        .is_none_or(|w| m.frame.saturating_sub(w) > m.settings.refractory)
                });
            push_pre_roll(m, f.samples);
            match wake {
                Some(d) => {
                    m.last_wake = Some(m.frame);
                    let run = m.next_run;
                    m.next_run += 1;
                    fx.push(Effect::Emit {
                        run,
                        kind: EventKind::RunStart { follow_up: false },
                    });
                    let unsure = m.settings.verify && d.score < crate::wake::verify::CONFIDENT;
                    match crate::wake::verify::key_word(&d.name).filter(|_| unsure) {
                        Some(key) => {
                            // Listen on while the check runs; the earcon waits for it.
                            let audio: Vec<i16> = m.pre_roll.iter().flatten().copied().collect();
                            fx.push(Effect::Verify { run, audio, key });
                            m.unverified = Some(d);
                        }
                        None => confirm_wake(m, run, d, fx),
                    }
                    // The end of the wake phrase is in the pre-roll; keep it, whisper copes, and
                    // a command said in one breath is not clipped.
                    listening(run, take_pre_roll(m), f.vad < m.settings.vad_off)
                }
                None => State::Idle,
            }
        }
        State::Listening {
            run,
            mut audio,
            armed,
            waited,
            speech,
            silence,
            started,
            speculation,
        } => {
            audio.extend_from_slice(&f.samples);
            let threshold = if started || !armed {
                m.settings.vad_off
            } else {
                m.settings.vad_on
            };
            let is_speech = f.vad >= threshold && !f.playing;
            if !armed && !started {
                if !is_speech {
                    // The wake phrase ended: the next speech is the command.
                    State::Listening {
                        run,
                        audio,
                        armed: true,
                        waited: waited + 1,
                        speech: 0,
                        silence,
                        started,
                        speculation,
                    }
                } else if waited + 1 >= ONE_BREATH {
                    listen(
                        m,
                        run,
                        audio,
                        waited + 1,
                        speech,
                        silence,
                        started,
                        speculation,
                        true,
                        fx,
                    )
                } else {
                    State::Listening {
                        run,
                        audio,
                        armed,
                        waited: waited + 1,
                        speech,
                        silence,
                        started,
                        speculation,
                    }
                }
            } else {
                let mut audio = audio;
                if is_speech && !started && armed {
                    // A pause after the wake word: the command starts here; drop the wake phrase.
                    let keep = (ONSET_KEEP + 1) * FRAME;
                    if audio.len() > keep {
                        audio.drain(..audio.len() - keep);
                    }
                }
                listen(
                    m,
                    run,
                    audio,
                    waited + 1,
                    speech,
                    silence,
                    started,
                    speculation,
                    is_speech,
                    fx,
                )
            }
        }
        State::FollowUp { run, left } => {
            push_pre_roll(m, f.samples);
            if m.muted {
                end_run(m, run, "stopped", fx);
                State::Idle
            } else if f.vad >= m.settings.vad_on {
                let run2 = m.next_run;
                m.next_run += 1;
                fx.push(Effect::Emit {
                    run,
                    kind: EventKind::RunEnd {
                        outcome: "answered".into(),
                    },
                });
                fx.push(Effect::Emit {
                    run: run2,
                    kind: EventKind::RunStart { follow_up: true },
                });
                let audio = take_pre_roll(m);
                listen(m, run2, audio, 1, 0, 0, false, None, true, fx)
            } else if left <= 1 {
                end_run(m, run, "answered", fx);
                State::Idle
            } else {
                State::FollowUp {
                    run,
                    left: left - 1,
                }
            }
        }
        State::Speaking {
            run,
            reply,
            mut overheard,
            mut overheard_speech,
            mut overheard_silence,
        } => {
            // Wake words are gated while Sori speaks (its own voice must not wake it); only a
            // short stop phrase is listened for.
            if f.vad >= m.settings.vad_on || (overheard_speech > 0 && f.vad >= m.settings.vad_off) {
                overheard_speech += 1;
                overheard_silence = 0;
                overheard.extend_from_slice(&f.samples);
            } else if overheard_speech > 0 {
                overheard_silence += 1;
                overheard.extend_from_slice(&f.samples);
                if overheard_silence >= 3 {
                    if (2..=m.settings.stop_max).contains(&overheard_speech) {
                        fx.push(Effect::CheckStop {
                            run,
                            audio: std::mem::take(&mut overheard),
                        });
                    }
                    overheard.clear();
                    overheard_speech = 0;
                    overheard_silence = 0;
                }
            } else {
                // Between phrases keep the last frames as a lead-in: VAD fires a little late,
                // and "stop" without its "s" is heard as "top".
                overheard.extend_from_slice(&f.samples);
                let keep = STOP_LEAD_FRAMES * f.samples.len();
                if overheard.len() > keep {
                    overheard.drain(..overheard.len() - keep);
                }
            }
            if overheard_speech > m.settings.stop_max {
                overheard.clear();
            }
            State::Speaking {
                run,
                reply,
                overheard,
                overheard_speech,
                overheard_silence,
            }
        }
        s @ (State::Transcribing { .. } | State::Handling { .. }) => {
            push_pre_roll(m, f.samples);
            s
        }
    };
}

/// The start of a new command: the last `pre_roll` frames; the history is then spent.
fn take_pre_roll(m: &mut Machine) -> Vec<i16> {
    let skip = m.pre_roll.len().saturating_sub(m.settings.pre_roll);
    let audio = m.pre_roll.iter().skip(skip).flatten().copied().collect();
    m.pre_roll.clear();
    audio
}

fn push_pre_roll(m: &mut Machine, samples: Vec<i16>) {
    m.pre_roll.push_back(samples);
    while m.pre_roll.len() > m.settings.pre_roll.max(WAKE_HISTORY) {
        m.pre_roll.pop_front();
    }
}

#[allow(clippy::too_many_arguments)]
fn listen(
    m: &mut Machine,
    run: u64,
    audio: Vec<i16>,
    waited: usize,
    mut speech: usize,
    mut silence: usize,
    mut started: bool,
    mut speculation: Option<Speculation>,
    is_speech: bool,
    fx: &mut Vec<Effect>,
) -> State {
    let s = &m.settings;
    if is_speech {
        speech += 1;
        silence = 0;
        speculation = None; // more speech: any speculative transcript is stale
        if !started {
            started = true;
            fx.push(Effect::Emit {
                run,
                kind: EventKind::SpeechStart,
            });
        }
    } else if started {
        silence += 1;
    }
    let speech_ms = speech as u64 * FRAME_MS;
    if !started {
        if waited >= s.no_speech {
            earcon(m, Earcon::Cancel, fx);
            end_run(m, run, "no_speech", fx);
            return State::Idle;
        }
    } else if speech >= s.max_speech {
        return end_speech(run, audio, speech_ms, "cap", fx);
    } else if silence >= s.trailing {
        if speech < s.min_speech.max(1) {
            earcon(m, Earcon::Cancel, fx);
            end_run(m, run, "too_short", fx);
            return State::Idle;
        }
        // Trailing silence is not part of the command.
        let keep = audio
            .len()
            .saturating_sub(silence.saturating_sub(2) * FRAME);
        // A speculation only survives while no speech came after it, so it covers the command.
        match &speculation {
            Some(Speculation {
                result: Some((t, _)),
                ..
            }) => {
                fx.push(Effect::Emit {
                    run,
                    kind: EventKind::SpeechEnd {
                        speech_ms,
                        reason: "silence".into(),
                    },
                });
                return stt_done(m, run, t.clone(), fx);
            }
            Some(Speculation {
                result: None,
                samples,
            }) => {
                fx.push(Effect::Emit {
                    run,
                    kind: EventKind::SpeechEnd {
                        speech_ms,
                        reason: "silence".into(),
                    },
                });
                return State::Transcribing {
                    run,
                    speech_ms,
                    speculation: Some(*samples),
                };
            }
            None => {}
        }
        let mut audio = audio;
        audio.truncate(keep);
        return end_speech(run, audio, speech_ms, "silence", fx);
    } else if silence == s.speculate_after && speech >= s.min_speech.max(1) {
        fx.push(Effect::Transcribe {
            run,
            audio: audio.clone(),
            speculative: true,
        });
        speculation = Some(Speculation {
            samples: audio.len(),
            result: None,
        });
    }
    State::Listening {
        run,
        audio,
        armed: true,
        waited,
        speech,
        silence,
        started,
        speculation,
    }
}

fn end_speech(
    run: u64,
    audio: Vec<i16>,
    speech_ms: u64,
    reason: &str,
    fx: &mut Vec<Effect>,
) -> State {
    fx.push(Effect::Emit {
        run,
        kind: EventKind::SpeechEnd {
            speech_ms,
            reason: reason.into(),
        },
    });
    fx.push(Effect::Transcribe {
        run,
        audio,
        speculative: false,
    });
    State::Transcribing {
        run,
        speech_ms,
        speculation: None,
    }
}

fn stt_done(m: &mut Machine, run: u64, t: Transcript, fx: &mut Vec<Effect>) -> State {
    fx.push(Effect::Emit {
        run,
        kind: EventKind::SttEnd {
            text: t.text.clone(),
            language: t.language.clone(),
            stt_ms: t.stt_ms,
            audio_ms: t.audio_ms,
        },
    });
    if t.text.trim().is_empty() {
        earcon(m, Earcon::Cancel, fx);
        end_run(m, run, "no_speech", fx);
        return State::Idle;
    }
    if is_stop(&t.text) {
        // "Hey Jarvis, stop": nothing to say; the actor also stops any reply or music.
        fx.push(Effect::CutSpeech);
        end_run(m, run, "stopped", fx);
        return State::Idle;
    }
    fx.push(Effect::Handle { run, transcript: t });
    State::Handling { run }
}

fn transcribed(
    m: &mut Machine,
    run: u64,
    speculative: bool,
    result: Result<Transcript, String>,
    complete: bool,
    fx: &mut Vec<Effect>,
) {
    let state = std::mem::replace(&mut m.state, State::Idle);
    m.state = match state {
        State::Listening {
            run: r,
            audio,
            armed,
            waited,
            speech,
            silence,
            started,
            speculation: Some(mut spec),
        } if r == run
            && speculative
            && result
                .as_ref()
                .map_or(true, |t| t.audio_ms == spec.samples as u64 * 1000 / 16_000) =>
        {
            match result {
                // Still silent and the command is complete: answer now instead of waiting out
                // the rest of the trailing silence.
                Ok(t) if complete && silence > 0 => {
                    let speech_ms = speech as u64 * FRAME_MS;
                    fx.push(Effect::Emit {
                        run,
                        kind: EventKind::SpeechEnd {
                            speech_ms,
                            reason: "early".into(),
                        },
                    });
                    stt_done(m, run, t, fx)
                }
                Ok(t) => {
                    spec.result = Some((t, complete));
                    State::Listening {
                        run,
                        audio,
                        armed,
                        waited,
                        speech,
                        silence,
                        started,
                        speculation: Some(spec),
                    }
                }
                Err(_) => State::Listening {
                    run,
                    audio,
                    armed,
                    waited,
                    speech,
                    silence,
                    started,
                    speculation: None,
                },
            }
        }
        // The awaited transcript: the final one, or the speculation of exactly this length (an
        // older speculation, overtaken by more speech, may still arrive first).
        State::Transcribing {
            run: r,
            speculation,
            ..
        } if r == run
            && match speculation {
                None => !speculative,
                Some(n) => {
                    speculative
                        && result
                            .as_ref()
                            .map_or(true, |t| t.audio_ms == n as u64 * 1000 / 16_000)
                }
            } =>
        {
            match result {
                Ok(t) => stt_done(m, run, t, fx),
                Err(message) => {
                    m.state = State::Idle;
                    fail(m, run, "stt", message, fx);
                    std::mem::replace(&mut m.state, State::Idle)
                }
            }
        }
        // A stale result (speech resumed, or a run that ended): ignore it.
        other => other,
    };
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
