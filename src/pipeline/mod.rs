//! The listening loop: the pure state machine (`state`), the event bus (`events`), and the
//! actor that runs it against real audio, STT, skills and TTS (`actor`).

pub mod actor;
pub mod events;
mod listener;
pub mod reminders;
mod speaker;
pub mod state;
pub mod stop;
mod stt_worker;

use serde::Serialize;

use crate::stt::Transcript;

/// Short sounds Sori makes itself (see `audio::earcon`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Earcon {
    /// Heard the wake word, listening.
    Wake,
    /// Done, nothing to say.
    Done,
    /// Gave up: no speech, or too short.
    Cancel,
    /// Something failed.
    Error,
    /// A timer or alarm going off.
    Alarm,
    /// A message came in.
    Message,
}

/// What a skill answers: the words to say and whether it asked a question (then Sori listens
/// for the answer without the wake word).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Reply {
    pub speech: String,
    /// Language of `speech` (`en`, `ko`), so the right voice says it.
    pub language: String,
    pub expects_answer: bool,
    /// The intent that produced it, for the `IntentEnd` event (`None`: not understood).
    pub intent: Option<String>,
    /// What the skill asked the device to do (volume, stop …), done before speaking.
    pub action: Option<crate::skill::Action>,
    /// An announcement that rings: the alarm sound, then the speech, repeated until stopped.
    pub ring: bool,
    /// The message chime before the speech (an announced message).
    pub chime: bool,
    /// The speech already rendered elsewhere (Home Assistant's text to speech when Sori is a
    /// satellite): played as it is instead of synthesising `speech`.
    #[serde(skip)]
    pub audio: Option<std::sync::Arc<crate::audio::Clip>>,
}

/// Something Sori says on its own: a timer or alarm going off. Announced when the loop is
/// idle (after the current conversation), with the alarm sound first when `ring`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Announcement {
    /// What it is about (`timer:3`), for the event log.
    pub key: String,
    pub speech: String,
    pub language: String,
    /// Alarm sound and repetition until stopped (or `alarms.ring_seconds`).
    pub ring: bool,
    /// The message chime first.
    pub chime: bool,
    /// Rendered speech to play instead of synthesising `speech` (see [`Reply::audio`]).
    #[serde(skip)]
    pub audio: Option<std::sync::Arc<crate::audio::Clip>>,
}

/// Turns a transcript into a reply. The understanding issue fills this with intents and
/// skills; the loop only needs this interface.
pub trait Handler: Send {
    /// True if `text` is a complete command as it stands, without side effects: the loop may
    /// then answer before the trailing silence runs out.
    fn is_complete(&self, text: &str) -> bool;

    /// Handles a command.
    ///
    /// # Errors
    /// A message for the `Error` event; the user hears the error earcon.
    fn handle(&mut self, transcript: &Transcript) -> Result<Reply, String>;

    /// Names worth biasing speech recognition toward (artists, albums, contacts), as a short
    /// prompt; empty: none.
    fn hints(&self) -> String {
        String::new()
    }

    /// Languages it understands (`en`, `ko`): a command is identified as one of them. Empty:
    /// any language whisper knows.
    fn languages(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Until intents land: repeats what it heard, in the persona's words, which makes the whole
/// loop audible end to end.
pub struct EchoHandler {
    pub persona: crate::persona::Persona,
}

impl Handler for EchoHandler {
    fn is_complete(&self, _text: &str) -> bool {
        false
    }

    fn handle(&mut self, t: &Transcript) -> Result<Reply, String> {
        let text = t.text.trim();
        let lang = if t.language == "ko" { "ko" } else { "en" };
        let speech = self.persona.line(lang, "you_said", &[("text", text)]);
        Ok(Reply {
            speech,
            language: t.language.clone(),
            expects_answer: false,
            intent: None,
            action: None,
            ring: false,
            chime: false,
            audio: None,
        })
    }
}
