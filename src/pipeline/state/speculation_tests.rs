//! Work done before the command ends, through `step`: the language identified from the first
//! words; speculative transcripts started early in the trailing silence, answered early when
//! complete, dropped (and stopped) when the speaker goes on.

use super::tests::{feed, kinds, n, settings, silence, speech, transcript, wake};
use super::*;

/// A run with ten frames of speech, paused until the speculation starts: the machine and the
/// length of the audio the speculation covers, in ms.
fn speculating(s: &Settings) -> (Machine, u64) {
    let mut script = vec![wake(), silence()];
    script.extend(n(speech(), 10));
    script.extend(n(silence(), s.speculate_after));
    let (m, fx) = feed(Machine::new(s.clone(), false), script);
    let Some(Effect::Transcribe {
        audio,
        speculative: true,
        ..
    }) = fx.iter().find(|e| matches!(e, Effect::Transcribe { .. }))
    else {
        panic!("no speculation: {fx:?}")
    };
    (m, audio.len() as u64 * 1000 / 16_000)
}

/// The speculative transcript of run 1.
fn speculated(text: &str, audio_ms: u64, complete: bool) -> Input {
    Input::Transcribed {
        run: 1,
        speculative: true,
        result: Ok(transcript(text, audio_ms)),
        complete,
    }
}

#[test]
fn a_complete_speculative_command_answers_before_the_silence_ends() {
    let s = settings();
    let (m, audio_ms) = speculating(&s);
    let (m, fx) = feed(m, n(silence(), s.early_after - s.speculate_after));
    assert!(fx.is_empty());
    let (m, fx) = feed(m, [speculated("what time is it", audio_ms, true)]);
    assert_eq!(kinds(&fx), ["SpeechEnd", "SttEnd"]);
    assert!(
        matches!(&fx[0], Effect::Emit { kind: EventKind::SpeechEnd { reason, .. }, .. } if reason == "early")
    );
    assert!(matches!(m.state, State::Handling { run: 1 }));
}

#[test]
fn a_complete_command_waits_out_a_short_pause_before_answering() {
    // The transcript is ready as soon as the speculation starts ("what's the weather" … "in Busan"
    // may follow): it is kept, and answered once the pause is long enough.
    let s = settings();
    assert!(s.speculate_after < s.early_after && s.early_after < s.trailing);
    let (m, audio_ms) = speculating(&s);
    let (m, fx) = feed(m, [speculated("what's the weather", audio_ms, true)]);
    assert!(fx.is_empty(), "answered after a short pause: {fx:?}");
    let (m, fx) = feed(m, n(silence(), s.early_after - s.speculate_after - 1));
    assert!(fx.is_empty(), "{fx:?}");
    let (m, fx) = feed(m, [silence()]);
    assert_eq!(kinds(&fx), ["SpeechEnd", "SttEnd"]);
    assert!(
        matches!(&fx[0], Effect::Emit { kind: EventKind::SpeechEnd { reason, .. }, .. } if reason == "early")
    );
    assert!(matches!(m.state, State::Handling { run: 1 }));
}

#[test]
fn speech_after_a_speculation_makes_it_stale() {
    let s = settings();
    let (m, audio_ms) = speculating(&s);
    // The speaker goes on ("… in Busan"): the early transcript must not be used, and the
    // transcription still running is stopped.
    let (m, fx) = feed(m, n(speech(), 5));
    assert_eq!(
        fx.iter()
            .filter(|e| matches!(e, Effect::DropSpeculation { run: 1 }))
            .count(),
        1,
        "{fx:?}"
    );
    let (m, fx) = feed(m, [speculated("what's the weather", audio_ms, true)]);
    assert!(fx.is_empty(), "{fx:?}");
    let (m, fx) = feed(m, n(silence(), s.trailing));
    assert!(kinds(&fx).contains(&"SpeechEnd".to_string()));
    assert!(matches!(m.state, State::Transcribing { .. }));
}

#[test]
fn an_overtaken_speculation_is_not_taken_for_the_command() {
    let s = settings();
    // "repeat after me, [pause] hey jarvis": a speculation at the pause, then more speech, then
    // a second speculation; the first result arrives after the silence ended.
    let mut script = vec![wake(), silence()];
    script.extend(n(speech(), 8));
    script.extend(n(silence(), s.speculate_after));
    script.extend(n(speech(), 6));
    script.extend(n(silence(), s.trailing));
    let (m, fx) = feed(Machine::new(s.clone(), false), script);
    let specs = speculations(&fx);
    assert_eq!(specs.len(), 2);
    let ms = |n: usize| n as u64 * 1000 / 16_000;
    let (m, fx) = feed(m, [speculated("repeat after me", ms(specs[0]), false)]);
    assert!(fx.is_empty(), "the stale speculation was used: {fx:?}");
    let (_, fx) = feed(
        m,
        [speculated(
            "repeat after me hey jarvis",
            ms(specs[1]),
            false,
        )],
    );
    assert!(
        matches!(fx.last(), Some(Effect::Handle { transcript, .. }) if transcript.text.ends_with("jarvis")),
        "{fx:?}"
    );
}

fn identified(fx: &[Effect]) -> Vec<(u64, usize)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Identify { run, audio } => Some((*run, audio.len())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_language_is_identified_once_while_the_speaker_is_still_talking() {
    let s = settings();
    let mut script = vec![wake(), silence()];
    script.extend(n(speech(), s.identify_after - 1));
    let (m, fx) = feed(Machine::new(s.clone(), false), script);
    assert!(identified(&fx).is_empty(), "{fx:?}");
    let (m, fx) = feed(m, [speech()]);
    let ids = identified(&fx);
    assert_eq!(ids.len(), 1, "{fx:?}");
    assert_eq!(ids[0].0, 1);
    assert!(ids[0].1 >= s.identify_after * FRAME, "the speech so far");
    // More speech, a pause, more speech: the run's language is known already.
    let mut more = n(speech(), 10);
    more.extend(n(silence(), s.speculate_after));
    more.extend(n(speech(), 10));
    let (_, fx) = feed(m, more);
    assert!(identified(&fx).is_empty(), "{fx:?}");
}

#[test]
fn a_fixed_language_is_not_identified() {
    let mut s = settings();
    s.identify_after = usize::MAX;
    let mut script = vec![wake(), silence()];
    script.extend(n(speech(), 40));
    let (_, fx) = feed(Machine::new(s, false), script);
    assert!(identified(&fx).is_empty(), "{fx:?}");
}

/// A speech frame whose last VAD window is already silent: the speaker stopped inside it.
fn speech_ending_inside() -> Input {
    let Input::Frame(mut f) = speech() else {
        unreachable!()
    };
    f.vad_tail = 0.02;
    Input::Frame(f)
}

/// The lengths of the speculative transcriptions started, in samples.
fn speculations(fx: &[Effect]) -> Vec<usize> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Transcribe {
                audio,
                speculative: true,
                ..
            } => Some(audio.len()),
            _ => None,
        })
        .collect()
}

#[test]
fn speech_that_ends_inside_a_frame_is_transcribed_from_that_frame_on() {
    let s = settings();
    let mut script = vec![wake(), silence()];
    script.extend(n(speech(), 10));
    let (m, _) = feed(Machine::new(s.clone(), false), script);
    // The frame still counts as speech (its highest window is), but the speculation starts
    // with it, covering it whole, a frame before the first silent one would.
    let (m, fx) = feed(m, [speech_ending_inside()]);
    let first = speculations(&fx);
    assert_eq!(first.len(), 1, "{fx:?}");
    assert_eq!(first[0] % FRAME, 0);
    // The silent frames that follow do not start a second one; the speculation answers.
    answers_after_silence(m, &s, first[0]);
}

/// The silence after a speculation of `samples` starts no other one, and its complete
/// transcript answers.
fn answers_after_silence(m: Machine, s: &Settings, samples: usize) {
    let (m, fx) = feed(m, n(silence(), s.early_after));
    assert!(speculations(&fx).is_empty(), "{fx:?}");
    let (m, fx) = feed(
        m,
        [speculated("what time is it", samples as u64 / 16, true)],
    );
    assert_eq!(kinds(&fx), ["SpeechEnd", "SttEnd"]);
    assert!(matches!(m.state, State::Handling { run: 1 }));
}

#[test]
fn a_dip_inside_speech_starts_a_speculation_that_more_speech_stops() {
    let s = settings();
    let mut script = vec![wake(), silence()];
    script.extend(n(speech(), 10));
    script.push(speech_ending_inside());
    script.extend(n(speech(), 3));
    script.extend(n(silence(), s.speculate_after));
    let (_, fx) = feed(Machine::new(s.clone(), false), script);
    assert_eq!(speculations(&fx).len(), 2, "{fx:?}");
    assert_eq!(
        fx.iter()
            .filter(|e| matches!(e, Effect::DropSpeculation { run: 1 }))
            .count(),
        1,
        "{fx:?}"
    );
}

#[test]
fn too_little_speech_is_not_transcribed_early_however_it_ends() {
    let s = settings();
    let mut script = vec![wake(), silence()];
    script.extend(n(speech(), s.min_speech.max(1).saturating_sub(2)));
    script.push(speech_ending_inside());
    let (_, fx) = feed(Machine::new(s.clone(), false), script);
    assert!(speculations(&fx).is_empty(), "{fx:?}");
}

/// A speech frame (as the VAD sees it) of a sine at `amplitude`, its last `quiet` samples at a
/// 40 dB lower level.
fn voiced(amplitude: f32, quiet: usize) -> Input {
    let Input::Frame(mut f) = speech() else {
        unreachable!()
    };
    f.samples = (0..FRAME)
        .map(|i| {
            let a = if i + quiet >= FRAME {
                amplitude / 100.0
            } else {
                amplitude
            };
            (a * (i as f32 * 0.3).sin()) as i16
        })
        .collect();
    Input::Frame(f)
}

#[test]
fn a_voice_that_drops_inside_a_frame_is_transcribed_before_the_vad_lets_go() {
    let s = settings();
    let mut script = vec![wake(), silence()];
    script.extend(n(voiced(8000.0, 0), 10));
    let (m, _) = feed(Machine::new(s.clone(), false), script);
    // The VAD still hears speech to the frame's end, but its last 32 ms are 40 dB down.
    let (m, fx) = feed(m, [voiced(8000.0, 512)]);
    let first = speculations(&fx);
    assert_eq!(first.len(), 1, "{fx:?}");
    // The VAD's lag, a frame with nothing near the command's level, is not more speech ...
    let (m, fx) = feed(m, [voiced(8000.0, FRAME)]);
    assert!(fx.is_empty(), "{fx:?}");
    // ... so the transcript started in the voice's last frame answers.
    answers_after_silence(m, &s, first[0]);
}

#[test]
fn a_drop_inside_a_word_starts_a_speculation_the_next_loud_frame_stops() {
    let s = settings();
    let mut script = vec![wake(), silence()];
    script.extend(n(voiced(8000.0, 0), 10));
    // A stop consonant's closure, then the word goes on at full level.
    script.push(voiced(8000.0, 512));
    script.push(voiced(8000.0, 0));
    let (_, fx) = feed(Machine::new(s.clone(), false), script);
    assert_eq!(speculations(&fx).len(), 1, "{fx:?}");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::DropSpeculation { run: 1 })),
        "{fx:?}"
    );
}

#[test]
fn a_softer_ending_that_stays_within_30_db_does_not_start_a_speculation() {
    let s = settings();
    let mut script = vec![wake(), silence()];
    script.extend(n(voiced(8000.0, 0), 10));
    // 20 dB under the loudest: still the voice (e.g. a trailing "s").
    script.push(voiced(800.0, 0));
    let (_, fx) = feed(Machine::new(s.clone(), false), script);
    assert!(speculations(&fx).is_empty(), "{fx:?}");
}
