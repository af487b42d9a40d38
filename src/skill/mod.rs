//! Skills: what Sori can do. A [`Skill`] handles the intents it names and returns what to say
//! and what to do ([`SkillReply`]); it never touches audio devices. The explicit
//! [`registry::Registry`] lists them; [`brain::Brain`] recognises a sentence, runs the dialog
//! (confirmations, missing slots, cancel, repeat) and calls the skill.
//!
//! - `responses`: reply templates per language (YAML), filled from values formatted in Rust.
//! - `builtin`: time and date, "what can you do", greeting.
//! - `external`: skills in any language, as a child process speaking JSON lines.
//! - `manifest`: a skill directory's `skill.toml`.
//! - `scaffold`: `sori skill new`.
//! - `fixtures`: sentence fixtures (`tests/intents/<lang>/*.yaml`, a skill's `tests/`).

pub mod alarms;
pub mod brain;
pub mod builtin;
pub mod dialog;
pub mod external;
pub mod fixtures;
pub mod load;
pub mod manifest;
pub mod messaging;
pub mod music;
pub mod registry;
pub mod reminders;
pub mod responses;
pub mod scaffold;
pub mod timers;
pub mod weather;
pub mod zone;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::intent::Recognized;
use crate::values::Kind;

pub use brain::Brain;
pub use registry::Registry;
pub use responses::Responses;

/// Something the pipeline does for a skill. Skills describe it; they never do it themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Whole-device volume: `up`, `down`, `mute`, `unmute`, or `to` a level 0-100.
    Volume {
        change: String,
        level: Option<u8>,
    },
    /// Stop whatever plays (music, an alarm).
    Stop,
    Pause,
    Resume,
    Next,
    Previous,
    /// Start the current track again.
    Restart,
    /// Shuffle what is left in the queue.
    Shuffle,
    /// Play something a music skill found: `{"items": [...], "shuffle": bool}`.
    Play {
        what: serde_json::Value,
    },
    /// For external skills: anything else, passed on in the event log.
    Custom {
        name: String,
        data: serde_json::Value,
    },
}

impl Action {
    /// The mixer's volume change for a `Volume` action.
    pub fn volume_change(&self) -> Option<crate::audio::mixer::VolumeChange> {
        use crate::audio::mixer::VolumeChange as V;
        let Action::Volume { change, level } = self else {
            return None;
        };
        Some(match change.as_str() {
            "up" => V::Up,
            "down" => V::Down,
            "mute" => V::Mute,
            "unmute" => V::Unmute,
            _ => V::To((*level)?.min(100)),
        })
    }
}

/// What happens after the reply.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Follow {
    /// The conversation is over.
    #[default]
    End,
    /// Listen for a follow-up without the wake word.
    Listen,
    /// A yes/no question about this intent: the answer comes back to the skill.
    Confirm,
    /// Asks for free text (a message to send): the whole answer fills `slot` as said, even if
    /// it sounds like a command; only cancel, stop and "say that again" are still heard.
    Dictate { slot: String },
    /// A question for a missing slot; the answer fills it and the intent runs again.
    Ask {
        slot: String,
        #[serde(skip)]
        kind: Option<Kind>,
    },
}

/// What a skill answers.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SkillReply {
    pub speech: String,
    pub action: Option<Action>,
    pub follow: Follow,
}

impl SkillReply {
    pub fn say(speech: impl Into<String>) -> Self {
        SkillReply {
            speech: speech.into(),
            ..Self::default()
        }
    }

    pub fn with_action(mut self, action: Action) -> Self {
        self.action = Some(action);
        self
    }

    /// Asks for `slot` ("For how long?"); the answer is parsed as `kind`.
    pub fn ask(speech: impl Into<String>, slot: &str, kind: Option<Kind>) -> Self {
        SkillReply {
            speech: speech.into(),
            action: None,
            follow: Follow::Ask {
                slot: slot.to_string(),
                kind,
            },
        }
    }

    pub fn confirm(speech: impl Into<String>) -> Self {
        SkillReply {
            speech: speech.into(),
            action: None,
            follow: Follow::Confirm,
        }
    }
}

/// The answer to a skill's yes/no question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
}

/// What a skill may use while handling an intent.
pub struct Ctx<'a> {
    pub lang: &'a str,
    /// Local wall-clock time.
    pub now: chrono::NaiveDateTime,
    /// The same instant as Unix milliseconds (for timers, which must survive restarts).
    pub now_ms: i64,
    /// For turning local times ("7 am tomorrow") into stored instants.
    pub zone: zone::Zone,
    pub responses: &'a Responses,
    pub persona: &'a mut crate::persona::Persona,
    /// Every skill's id and description in `lang`, for "what can you do".
    pub skills: &'a [(String, String)],
    /// Set when this call answers the skill's own yes/no question.
    pub answer: Option<Answer>,
    pub run_id: u64,
}

impl Ctx<'_> {
    /// The reply `key` of `intent`, one variant, with `{name}` placeholders filled.
    ///
    /// # Errors
    /// `SkillError::Response` when the language has no such reply.
    pub fn say(
        &mut self,
        intent: &str,
        key: &str,
        vars: &[(&str, String)],
    ) -> Result<String, SkillError> {
        self.responses.render(self.lang, intent, key, vars, true)
    }
}

/// Runs `f` on the state database for a skill, then wakes the reminder task (something
/// scheduled may have changed).
///
/// # Errors
/// The database failed (the skill must then not say it did anything).
pub(crate) fn in_db<T>(
    db: &std::sync::Mutex<crate::store::Store>,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, crate::store::StoreError>,
) -> Result<T, SkillError> {
    let mut db = db
        .lock()
        .map_err(|_| SkillError::Failed("state database lock poisoned".into()))?;
    let out = f(db.conn()).map_err(|e| SkillError::Failed(e.to_string()));
    db.touch();
    out
}

#[derive(Debug, Error)]
pub enum SkillError {
    #[error("no reply \"{key}\" for intent {intent} in language {lang}")]
    Response {
        lang: String,
        intent: String,
        key: String,
    },
    #[error("skill {skill} did not answer within {ms} ms")]
    Timeout { skill: String, ms: u64 },
    #[error("skill {skill} is not running: {reason}")]
    Unavailable { skill: String, reason: String },
    #[error("skill {skill} answered something that is not a reply: {reason}")]
    Protocol { skill: String, reason: String },
    #[error("{0}")]
    Failed(String),
}

/// A run-time list: its name and `(spoken form, value)` pairs.
pub type RuntimeList = (String, Vec<(String, String)>);

/// A skill. Handlers are synchronous and quick; slow work belongs in a thread the skill owns.
pub trait Skill: Send {
    fn id(&self) -> &str;

    /// The intents it handles (names as in the sentence files).
    fn intents(&self) -> Vec<String>;

    /// What it does in a few words in `lang`, for "what can you do" (`None`: not listed).
    fn describe(&self, lang: &str) -> Option<String>;

    /// Handles a recognised intent.
    ///
    /// # Errors
    /// Any failure; the user hears an apology and the log gets the error.
    fn handle(&mut self, intent: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError>;

    /// Run-time lists for its sentences (`fuzzy: true` lists: artists, contacts), as
    /// `(list, [(spoken form, value)])`, when they changed since the last call; `None`: no
    /// change. The brain asks before each sentence.
    fn lists(&mut self) -> Option<Vec<RuntimeList>> {
        None
    }
}
