//! Transcripts: speculative ones taken during the trailing silence, the final one, and what
//! the handler is then asked.

use super::*;
pub(super) fn stt_done(m: &mut Machine, run: u64, t: Transcript, fx: &mut Vec<Effect>) -> State {
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

pub(super) fn transcribed(
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
                Ok(t) if complete && silence >= m.settings.early_after => {
                    let speech_ms = speech as u64 * FRAME_MS;
                    speech_end(run, speech_ms, "early", fx);
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
