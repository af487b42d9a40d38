//! Frames of microphone audio: waiting for the wake word, recording a command until the
//! trailing silence, following up after a question, and overhearing a stop while speaking.

use super::loudness::Levels;
use super::*;
/// Speech running on this long after the wake word is a command said in one breath.
const ONE_BREATH: usize = 4;
/// Audio kept before a command's first speech frame when there was a pause after the wake word.
const ONSET_KEEP: usize = 4;

pub(super) fn frame(m: &mut Machine, mut f: Frame, fx: &mut Vec<Effect>) {
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
            let ends_inside = is_speech && f.vad_tail < m.settings.vad_off;
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
                        (true, false),
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
                    (is_speech, ends_inside),
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
                listen(m, run2, audio, 1, 0, 0, false, None, (true, false), fx)
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
    (is_speech, vad_ends): (bool, bool),
    fx: &mut Vec<Effect>,
) -> State {
    // Speech frames are measured against the command's loudest window; the frame is the end
    // of `audio` on every path here (the pre-roll is at least 300 ms).
    let levels = is_speech.then(|| Levels::of(&audio[audio.len().saturating_sub(FRAME)..]));
    if let Some(l) = levels {
        if !started {
            m.peak = 0.0;
        }
        m.peak = m.peak.max(l.loudest);
    }
    // The voice stopped inside the frame: its last VAD window let go, or its level dropped.
    let ends_inside = levels.is_some_and(|l| vad_ends || l.ends_quiet(m.peak));
    let s = &m.settings;
    if is_speech {
        speech += 1;
        silence = 0;
        if speech == s.identify_after {
            fx.push(Effect::Identify {
                run,
                audio: audio.clone(),
            });
        }
        // More speech: any speculative transcript is stale; stop one still running. A frame
        // the VAD still calls speech but with no window near the command's level is its lag
        // after the voice stopped, not more speech.
        if levels.is_some_and(|l| !l.quiet(m.peak))
            && let Some(Speculation { result: None, .. }) = speculation.take()
        {
            fx.push(Effect::DropSpeculation { run });
        }
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
                speech_end(run, speech_ms, "silence", fx);
                return stt_done(m, run, t.clone(), fx);
            }
            Some(Speculation {
                result: None,
                samples,
            }) => {
                speech_end(run, speech_ms, "silence", fx);
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
    } else if silence >= s.early_after
        && let Some(Speculation {
            result: Some((t, true)),
            ..
        }) = &speculation
    {
        // A complete command transcribed while the pause was still short: answer now.
        speech_end(run, speech_ms, "early", fx);
        return stt_done(m, run, t.clone(), fx);
    } else if speculation.is_none()
        && speech >= s.min_speech.max(1)
        && (silence == s.speculate_after || (s.speculate_after == 1 && ends_inside))
    {
        // Whisper is the slowest stage: it starts as soon as the speaker may have finished,
        // which the frame's last VAD window often tells a frame (80 ms) before a whole silent
        // frame does; more speech makes the speculation stale and stops it.
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

/// `SpeechEnd`: the command is over (`reason`: silence, early, cap).
pub(super) fn speech_end(run: u64, speech_ms: u64, reason: &str, fx: &mut Vec<Effect>) {
    fx.push(Effect::Emit {
        run,
        kind: EventKind::SpeechEnd {
            speech_ms,
            reason: reason.into(),
        },
    });
}

fn end_speech(
    run: u64,
    audio: Vec<i16>,
    speech_ms: u64,
    reason: &str,
    fx: &mut Vec<Effect>,
) -> State {
    speech_end(run, speech_ms, reason, fx);
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
