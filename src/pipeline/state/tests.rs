//! `step` driven by scripted frames: every path of the loop, deterministically.

use super::*;

pub(super) fn settings() -> Settings {
    let mut s = Settings::new(&ListenConfig::default(), &WakeConfig::default());
    s.earcons = true;
    s.verify = false;
    s
}

pub(super) fn frame(speech: bool, wake: bool) -> Input {
    Input::Frame(Frame {
        samples: vec![0; FRAME],
        vad: if speech { 0.9 } else { 0.02 },
        vad_tail: if speech { 0.9 } else { 0.02 },
        wake: wake.then(|| Detection {
            name: "hey_jarvis".into(),
            score: 0.9,
        }),
        playing: false,
    })
}
pub(super) fn speech() -> Input {
    frame(true, false)
}
pub(super) fn silence() -> Input {
    frame(false, false)
}
pub(super) fn wake() -> Input {
    frame(false, true)
}
/// A borderline detection, below the second stage's `CONFIDENT`.
pub(super) fn weak_wake() -> Input {
    Input::Frame(Frame {
        samples: vec![0; FRAME],
        vad: 0.02,
        vad_tail: 0.02,
        wake: Some(Detection {
            name: "hey_jarvis".into(),
            score: 0.55,
        }),
        playing: false,
    })
}

pub(super) fn transcript(text: &str, audio_ms: u64) -> Transcript {
    Transcript {
        text: text.into(),
        language: "en".into(),
        audio_ms,
        stt_ms: 100,
    }
}

/// Feeds inputs, collecting every effect.
pub(super) fn feed(
    mut m: Machine,
    inputs: impl IntoIterator<Item = Input>,
) -> (Machine, Vec<Effect>) {
    let mut all = Vec::new();
    for i in inputs {
        let (next, fx) = step(m, i);
        m = next;
        all.extend(fx);
    }
    (m, all)
}

pub(super) fn kinds(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Emit { kind, .. } => {
                let v = serde_json::to_value(kind).unwrap();
                Some(v["type"].as_str().unwrap().to_string())
            }
            _ => None,
        })
        .collect()
}

pub(super) fn outcome(fx: &[Effect]) -> Option<String> {
    fx.iter().rev().find_map(|e| match e {
        Effect::Emit {
            kind: EventKind::RunEnd { outcome },
            ..
        } => Some(outcome.clone()),
        _ => None,
    })
}

pub(super) fn n<T: Clone>(x: T, k: usize) -> Vec<T> {
    vec![x; k]
}

#[test]
fn wake_speech_silence_runs_to_the_end() {
    let s = settings();
    let m = Machine::new(s.clone(), false);
    let mut script = vec![silence(), silence(), wake()];
    script.extend(n(silence(), 3));
    script.extend(n(speech(), 10));
    script.extend(n(silence(), s.trailing));
    let (m, fx) = feed(m, script);
    assert_eq!(
        kinds(&fx),
        ["RunStart", "WakeDetected", "SpeechStart", "SpeechEnd"]
    );
    assert!(fx.contains(&Effect::Earcon(Earcon::Wake)));
    // A speculative transcription was started during the trailing silence and covers the
    // command, so the machine waits for it rather than transcribing again.
    let spec: Vec<&Effect> = fx
        .iter()
        .filter(|e| matches!(e, Effect::Transcribe { .. }))
        .collect();
    assert_eq!(spec.len(), 1);
    let Effect::Transcribe {
        audio,
        speculative: true,
        ..
    } = spec[0]
    else {
        panic!("{spec:?}")
    };
    assert!(
        matches!(
            m.state,
            State::Transcribing {
                speculation: Some(_),
                ..
            }
        ),
        "{:?}",
        m.state
    );
    // The command audio starts shortly before the speech, not with the wake word.
    let frames = audio.len() / FRAME;
    assert!(
        (10..=10 + 5 + s.speculate_after).contains(&frames),
        "{frames} frames"
    );

    let audio_ms = audio.len() as u64 * 1000 / 16_000;
    let (m, fx) = feed(
        m,
        [Input::Transcribed {
            run: 1,
            speculative: true,
            result: Ok(transcript("what time is it", audio_ms)),
            complete: false,
        }],
    );
    assert_eq!(kinds(&fx), ["SttEnd"]);
    assert!(matches!(fx.last(), Some(Effect::Handle { run: 1, .. })));
    let reply = Reply {
        speech: "It is noon.".into(),
        language: "en".into(),
        ..Default::default()
    };
    let (m, fx) = feed(
        m,
        [Input::Handled {
            run: 1,
            result: Ok(reply.clone()),
        }],
    );
    assert_eq!(fx, [Effect::Speak { run: 1, reply }]);
    let (m, fx) = feed(m, [Input::Spoken { run: 1, cut: false }]);
    assert_eq!(kinds(&fx), ["TtsEnd", "RunEnd"]);
    assert_eq!(outcome(&fx).as_deref(), Some("answered"));
    assert_eq!(m.state, State::Idle);
}

#[test]
fn no_speech_after_the_wake_word_times_out() {
    let s = settings();
    let (m, fx) = feed(Machine::new(s.clone(), false), [wake()]);
    assert_eq!(kinds(&fx), ["RunStart", "WakeDetected"]);
    let (m, fx) = feed(m, n(silence(), s.no_speech - 1));
    assert!(kinds(&fx).is_empty(), "ended too early: {fx:?}");
    let (m, fx) = feed(m, [silence()]);
    assert_eq!(outcome(&fx).as_deref(), Some("no_speech"));
    assert!(fx.contains(&Effect::Earcon(Earcon::Cancel)));
    assert_eq!(m.state, State::Idle);
}

#[test]
fn endless_speech_is_cut_at_the_cap() {
    let s = settings();
    let (m, _) = feed(Machine::new(s.clone(), false), [wake(), silence()]);
    let (m, fx) = feed(m, n(speech(), s.max_speech - 1));
    assert_eq!(kinds(&fx), ["SpeechStart"]);
    let (m, fx) = feed(m, [speech()]);
    assert_eq!(
        fx[0],
        Effect::Emit {
            run: 1,
            kind: EventKind::SpeechEnd {
                speech_ms: s.max_speech as u64 * FRAME_MS,
                reason: "cap".into()
            }
        }
    );
    assert!(matches!(
        &fx[1],
        Effect::Transcribe {
            speculative: false,
            ..
        }
    ));
    assert!(matches!(m.state, State::Transcribing { .. }));
    // Whatever else is heard, it stays bounded: no frame restarts listening.
    let (m, fx) = feed(m, n(speech(), 50));
    assert!(fx.is_empty());
    assert!(matches!(m.state, State::Transcribing { .. }));
}

#[test]
fn a_cough_is_too_short() {
    let s = settings();
    let mut script = vec![wake(), silence(), speech()];
    script.extend(n(silence(), s.trailing));
    let (m, fx) = feed(Machine::new(s, false), script);
    assert_eq!(outcome(&fx).as_deref(), Some("too_short"));
    assert_eq!(m.state, State::Idle);
}

fn speaking(s: &Settings, expects_answer: bool) -> Machine {
    let mut script = vec![wake(), silence()];
    script.extend(n(speech(), 8));
    script.extend(n(silence(), s.trailing));
    let (m, fx) = feed(Machine::new(s.clone(), false), script);
    let Some(Effect::Transcribe { audio, .. }) =
        fx.iter().find(|e| matches!(e, Effect::Transcribe { .. }))
    else {
        panic!("{fx:?}")
    };
    let audio_ms = audio.len() as u64 * 1000 / 16_000;
    let (m, _) = feed(
        m,
        [Input::Transcribed {
            run: 1,
            speculative: true,
            result: Ok(transcript("hello", audio_ms)),
            complete: false,
        }],
    );
    assert!(
        matches!(m.state, State::Handling { run: 1 }),
        "{:?}",
        m.state
    );
    let reply = Reply {
        speech: "Send it?".into(),
        language: "en".into(),
        expects_answer,
        ..Default::default()
    };
    let (m, fx) = feed(
        m,
        [Input::Handled {
            run: 1,
            result: Ok(reply),
        }],
    );
    assert!(matches!(fx[0], Effect::Speak { .. }));
    m
}

#[test]
fn stop_phrase_while_speaking_cuts_the_reply() {
    let s = settings();
    let m = speaking(&s, false);
    // Sori's own speech heard by the microphone, scoring a weak wake word: gated.
    let (m, fx) = feed(m, [weak_wake(), speech(), speech()]);
    assert!(fx.is_empty(), "{fx:?}");
    let (m, fx) = feed(m, n(silence(), 3));
    let Some(Effect::CheckStop { run: 1, audio }) = fx.first() else {
        panic!("{fx:?}")
    };
    assert!(audio.len() >= 2 * FRAME);
    // Not a stop phrase: nothing happens.
    let (m, fx) = feed(
        m,
        [Input::Overheard {
            run: 1,
            text: "send it to mom".into(),
        }],
    );
    assert!(fx.is_empty());
    let (m, fx) = feed(
        m,
        [Input::Overheard {
            run: 1,
            text: "Stop!".into(),
        }],
    );
    assert_eq!(kinds(&fx), ["StopHeard"]);
    assert_eq!(fx[1], Effect::CutSpeech);
    let (m, fx) = feed(m, [Input::Spoken { run: 1, cut: true }]);
    assert_eq!(outcome(&fx).as_deref(), Some("stopped"));
    assert_eq!(m.state, State::Idle);
}

#[test]
fn a_confident_wake_word_interrupts_the_reply_and_starts_a_new_run() {
    let s = settings();
    let m = speaking(&s, false);
    let strong = Input::Frame(Frame {
        samples: vec![0; FRAME],
        vad: 0.9,
        vad_tail: 0.9,
        wake: Some(Detection {
            name: "hey_jarvis".into(),
            score: 0.98,
        }),
        playing: true,
    });
    let (m, fx) = feed(m, [strong]);
    assert_eq!(fx[0], Effect::CutSpeech, "{fx:?}");
    assert_eq!(
        kinds(&fx),
        ["TtsEnd", "RunEnd", "RunStart", "WakeDetected"],
        "{fx:?}"
    );
    assert_eq!(outcome(&fx).as_deref(), Some("interrupted"));
    assert!(
        matches!(m.state, State::Listening { run: 2, .. }),
        "{:?}",
        m.state
    );
    // The old reply's playback ending later changes nothing.
    let (m, fx) = feed(m, [Input::Spoken { run: 1, cut: true }]);
    assert!(
        fx.is_empty() && matches!(m.state, State::Listening { run: 2, .. }),
        "{fx:?}"
    );
}

#[test]
fn a_reply_that_says_the_wake_word_does_not_interrupt_itself() {
    let s = settings();
    let mut m = speaking(&s, false);
    if let State::Speaking { reply, .. } = &mut m.state {
        reply.speech = "You said: repeat after me, hey Jarvis.".into();
    }
    let strong = Input::Frame(Frame {
        samples: vec![0; FRAME],
        vad: 0.9,
        vad_tail: 0.9,
        wake: Some(Detection {
            name: "hey_jarvis".into(),
            score: 0.99,
        }),
        playing: true,
    });
    let (m, fx) = feed(m, [strong]);
    assert!(!fx.contains(&Effect::CutSpeech), "{fx:?}");
    assert!(
        matches!(m.state, State::Speaking { run: 1, .. }),
        "{:?}",
        m.state
    );
}

#[test]
fn long_overheard_speech_is_not_checked_for_stop() {
    let s = settings();
    let m = speaking(&s, false);
    let mut script = n(speech(), s.stop_max + 5);
    script.extend(n(silence(), 3));
    let (_, fx) = feed(m, script);
    assert!(fx.is_empty(), "{fx:?}");
}

#[test]
fn second_wake_inside_the_refractory_window_is_ignored() {
    let mut s = settings();
    s.refractory = 30;
    let mut script = vec![wake(), silence(), speech()];
    script.extend(n(silence(), s.trailing)); // too short: back to idle after ~10 frames
    let (m, fx) = feed(Machine::new(s.clone(), false), script);
    assert_eq!(outcome(&fx).as_deref(), Some("too_short"));
    let (m, fx) = feed(m, [wake()]);
    assert!(
        fx.is_empty(),
        "wake inside the refractory window started a run: {fx:?}"
    );
    let (m, _) = feed(m, n(silence(), 30));
    let (_, fx) = feed(m, [wake()]);
    assert_eq!(kinds(&fx), ["RunStart", "WakeDetected"]);
}

#[test]
fn wake_words_heard_while_sori_plays_a_sound_are_gated() {
    let s = settings();
    let playing = Input::Frame(Frame {
        samples: vec![0; FRAME],
        vad: 0.9,
        vad_tail: 0.9,
        wake: Some(Detection {
            name: "hey_jarvis".into(),
            score: 0.9,
        }),
        playing: true,
    });
    let (_, fx) = feed(Machine::new(s, false), [playing]);
    assert!(fx.is_empty());
}

#[test]
fn muted_ignores_the_wake_word_and_reports_it() {
    let s = settings();
    let (m, fx) = feed(Machine::new(s, false), [Input::Mute(true)]);
    assert_eq!(kinds(&fx), ["Muted"]);
    let (m, fx) = feed(m, [wake(), wake()]);
    assert!(fx.is_empty());
    let (m, fx) = feed(m, [Input::Mute(false), silence()]);
    assert_eq!(kinds(&fx), ["Muted"]);
    let (_, fx) = feed(m, [wake()]);
    assert_eq!(kinds(&fx), ["RunStart", "WakeDetected"]);
}

#[test]
fn a_question_opens_a_follow_up_window() {
    let s = settings();
    let m = speaking(&s, true);
    let (m, fx) = feed(m, [Input::Spoken { run: 1, cut: false }]);
    assert_eq!(kinds(&fx), ["TtsEnd"]);
    assert!(matches!(m.state, State::FollowUp { .. }));
    // The answer needs no wake word.
    let (m, fx) = feed(m, [silence(), speech()]);
    assert_eq!(kinds(&fx), ["RunEnd", "RunStart", "SpeechStart"]);
    assert!(matches!(
        fx[1],
        Effect::Emit {
            run: 2,
            kind: EventKind::RunStart { follow_up: true }
        }
    ));
    assert!(matches!(m.state, State::Listening { run: 2, .. }));

    // No answer: the window closes.
    let m = speaking(&s, true);
    let (m, _) = feed(m, [Input::Spoken { run: 1, cut: false }]);
    let (m, fx) = feed(m, n(silence(), s.follow_up));
    assert_eq!(outcome(&fx).as_deref(), Some("answered"));
    assert_eq!(m.state, State::Idle);
}

#[test]
fn one_breath_commands_are_kept_whole() {
    let s = settings();
    // Wake fires while still speaking and speech runs straight on into the command.
    let mut script = vec![frame(true, true)];
    script.extend(n(speech(), 12));
    script.extend(n(silence(), s.trailing));
    let (_, fx) = feed(Machine::new(s, false), script);
    assert!(
        kinds(&fx).contains(&"SpeechEnd".to_string()),
        "{:?}",
        kinds(&fx)
    );
}

#[test]
fn stop_phrases() {
    for t in [
        "stop",
        "Stop.",
        "STOP!",
        "stop it",
        "그만",
        "그만해.",
        " 멈춰 ",
    ] {
        assert!(is_stop(t), "{t}");
    }
    for t in [
        "stop the music in the kitchen",
        "don't stop",
        "",
        "그만 보내",
    ] {
        assert!(!is_stop(t), "{t}");
    }
}

/// The second stage's answer for run 1.
fn verified(ok: bool, heard: &str) -> Input {
    Input::Verified {
        run: 1,
        ok,
        heard: heard.into(),
    }
}

#[test]
fn the_second_stage_confirms_or_rejects_a_wake_word() {
    let mut s = settings();
    s.verify = true;
    // Confirmed: WakeDetected comes with the check, then the speech that began meanwhile; the
    // chime only if the command has not begun (it would be gated out as Sori's own sound).
    let (_, fx) = feed(Machine::new(s.clone(), false), [wake()]);
    assert_eq!(
        kinds(&fx),
        ["RunStart", "WakeDetected"],
        "a confident detection needs no check"
    );
    let (m, fx) = feed(Machine::new(s.clone(), false), [silence(), weak_wake()]);
    assert_eq!(kinds(&fx), ["RunStart"]);
    let Some(Effect::Verify {
        run: 1,
        audio,
        key: "jarvis",
    }) = fx.iter().find(|e| matches!(e, Effect::Verify { .. }))
    else {
        panic!("{fx:?}")
    };
    assert_eq!(
        audio.len(),
        2 * FRAME,
        "the check gets the frames before the detection"
    );
    let (m, fx) = feed(m, [silence(), speech(), speech()]);
    assert!(kinds(&fx).is_empty(), "{fx:?}");
    let (m, fx) = feed(m, [verified(true, "Hey Jarvis.")]);
    assert_eq!(kinds(&fx), ["WakeDetected", "SpeechStart"]);
    assert!(!fx.contains(&Effect::Earcon(Earcon::Wake)), "{fx:?}");
    assert!(matches!(m.state, State::Listening { started: true, .. }));
    let (m, _) = feed(Machine::new(s.clone(), false), [weak_wake(), silence()]);
    let (_, fx) = feed(m, [verified(true, "Hey Jarvis.")]);
    assert_eq!(kinds(&fx), ["WakeDetected"]);
    assert!(fx.contains(&Effect::Earcon(Earcon::Wake)), "{fx:?}");

    // Rejected: the run ends quietly, and later results for it are ignored.
    let (m, _) = feed(Machine::new(s.clone(), false), [weak_wake(), speech()]);
    let (m, fx) = feed(m, [verified(false, "Texas.")]);
    assert_eq!(kinds(&fx), ["WakeRejected", "RunEnd"]);
    assert_eq!(outcome(&fx).as_deref(), Some("rejected"));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Earcon(_))),
        "no chime for a rejected wake"
    );
    assert_eq!(m.state, State::Idle);
    let (_, fx) = feed(
        m,
        [Input::Transcribed {
            run: 1,
            speculative: false,
            result: Ok(transcript("x", 0)),
            complete: false,
        }],
    );
    assert!(fx.is_empty());
}

#[test]
fn quiet_word_endings_keep_the_command_going() {
    let s = settings();
    let quiet = || {
        Input::Frame(Frame {
            samples: vec![0; FRAME],
            vad: 0.4,
            vad_tail: 0.4,
            wake: None,
            playing: false,
        })
    };
    let (m, _) = feed(Machine::new(s.clone(), false), [wake(), silence()]);
    // Quiet sound does not start a command…
    let (m, fx) = feed(m, [quiet(), quiet()]);
    assert!(kinds(&fx).is_empty(), "{fx:?}");
    // …but once speech started it does not end it.
    let mut script = n(speech(), 5);
    script.extend(n(quiet(), s.trailing + 2));
    let (m, fx) = feed(m, script);
    assert_eq!(kinds(&fx), ["SpeechStart"]);
    assert!(matches!(m.state, State::Listening { silence: 0, .. }));
}
