//! Announcements (timers and alarms going off) through `step`: said at once when idle, held
//! until a conversation is over, cut by a stop phrase or a wake word, heard while muted.

use super::tests::{feed, kinds, outcome, settings, silence, speech, wake};
use super::*;

fn pasta() -> Announcement {
    Announcement {
        key: "timer:1".into(),
        speech: "Your pasta timer is done.".into(),
        language: "en".into(),
        ring: true,
        chime: false,
        audio: None,
    }
}

#[test]
fn an_announcement_rings_at_once_when_idle() {
    let (m, fx) = feed(Machine::new(settings(), false), [silence()]);
    assert!(fx.is_empty());
    let (m, fx) = feed(m, [Input::Announce(pasta())]);
    assert_eq!(kinds(&fx), ["RunStart", "Announce"]);
    let Some(Effect::Speak { run: 1, reply }) = fx.last() else {
        panic!("{fx:?}")
    };
    assert!(reply.ring && reply.speech == "Your pasta timer is done.");
    assert!(!reply.expects_answer);
    assert!(matches!(m.state, State::Speaking { run: 1, .. }));
    let (m, fx) = feed(m, [Input::Spoken { run: 1, cut: false }]);
    assert_eq!(outcome(&fx).as_deref(), Some("answered"));
    assert_eq!(m.state, State::Idle);
}

#[test]
fn an_announcement_waits_for_the_conversation_to_end() {
    let (m, _) = feed(Machine::new(settings(), false), [wake(), speech()]);
    let (m, fx) = feed(m, [Input::Announce(pasta())]);
    assert!(fx.is_empty(), "not while listening: {fx:?}");
    assert_eq!(m.queued.len(), 1);
    // The command ends without a reply (too short), the run ends, and the timer rings.
    let s = settings();
    let (m, fx) = feed(m, std::iter::repeat_n(silence(), s.trailing));
    let k = kinds(&fx);
    let end = k.iter().position(|k| k == "RunEnd").expect("run ended");
    assert_eq!(k[end + 1..], ["RunStart", "Announce"], "{k:?}");
    assert!(matches!(m.state, State::Speaking { run: 2, .. }));
    assert!(m.queued.is_empty());
}

#[test]
fn a_stop_phrase_or_the_wake_word_stops_the_ringing() {
    let (m, _) = feed(Machine::new(settings(), false), [Input::Announce(pasta())]);
    let (m, fx) = feed(
        m,
        [Input::Overheard {
            run: 1,
            text: "stop".into(),
        }],
    );
    assert!(fx.contains(&Effect::CutSpeech), "{fx:?}");
    let (m, fx) = feed(m, [Input::Spoken { run: 1, cut: true }]);
    assert_eq!(outcome(&fx).as_deref(), Some("stopped"));

    let (m, _) = feed(m, [Input::Announce(pasta())]);
    let (m, fx) = feed(m, [wake()]);
    assert!(fx.contains(&Effect::CutSpeech), "{fx:?}");
    assert!(
        matches!(m.state, State::Listening { run: 3, .. }),
        "{:?}",
        m.state
    );
}

#[test]
fn a_muted_microphone_does_not_silence_a_timer() {
    let (m, fx) = feed(Machine::new(settings(), true), [Input::Announce(pasta())]);
    assert_eq!(kinds(&fx), ["RunStart", "Announce"]);
    assert!(matches!(m.state, State::Speaking { .. }));
}

fn typed(text: &str, speak: bool) -> Input {
    Input::Text(TextCommand {
        text: text.into(),
        language: String::new(),
        speak,
        tag: "t1".into(),
    })
}

fn answer(run: u64, speech: &str) -> Input {
    Input::Handled {
        run,
        result: Ok(Reply {
            speech: speech.into(),
            language: "en".into(),
            ..Reply::default()
        }),
    }
}

#[test]
fn a_typed_command_is_understood_and_answered_without_audio() {
    let (m, fx) = feed(
        Machine::new(settings(), false),
        [typed("what time is it", true)],
    );
    assert_eq!(kinds(&fx), ["RunStart", "Text"]);
    let Some(Effect::Handle { run: 1, transcript }) = fx.last() else {
        panic!("{fx:?}")
    };
    assert_eq!(
        (transcript.text.as_str(), transcript.language.as_str()),
        ("what time is it", "en")
    );
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Earcon(_))),
        "no chime for typing"
    );
    let (m, fx) = feed(m, [answer(1, "It's 7 am.")]);
    assert!(
        matches!(fx.last(), Some(Effect::Speak { run: 1, .. })),
        "{fx:?}"
    );
    let (m, fx) = feed(m, [Input::Spoken { run: 1, cut: false }]);
    assert_eq!(outcome(&fx).as_deref(), Some("answered"));
    assert_eq!(m.state, State::Idle);
}

#[test]
fn a_quiet_typed_command_ends_without_speaking_and_waits_its_turn() {
    let (m, _) = feed(Machine::new(settings(), false), [wake(), speech()]);
    let (m, fx) = feed(m, [typed("몇 시야", false)]);
    assert!(fx.is_empty(), "not while listening: {fx:?}");
    let s = settings();
    let (m, fx) = feed(m, std::iter::repeat_n(silence(), s.trailing));
    let k = kinds(&fx);
    let end = k.iter().position(|k| k == "RunEnd").expect("run ended");
    assert_eq!(k[end + 1..], ["RunStart", "Text"], "{k:?}");
    let Some(Effect::Handle { run: 2, transcript }) = fx.last() else {
        panic!("{fx:?}")
    };
    assert_eq!(transcript.language, "ko");
    let (m, fx) = feed(m, [answer(2, "오전 7시예요.")]);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Speak { .. })),
        "{fx:?}"
    );
    assert_eq!(outcome(&fx).as_deref(), Some("answered"));
    assert_eq!(m.state, State::Idle);
}
