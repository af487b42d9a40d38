//! The skills built into the binary, and their sentence and reply files (embedded, so a bare
//! binary understands them). Timers, weather, music and messaging arrive as their own skills.

mod chat;
mod clock;

pub use chat::{Echo, Greeting, Help};
pub use clock::Clock;

/// (language, file name, text) of the embedded sentence files.
pub const SENTENCES: &[(&str, &str, &str)] = &[
    (
        "en",
        "clock.yaml",
        include_str!("../../../assets/intents/sentences/en/clock.yaml"),
    ),
    (
        "en",
        "chat.yaml",
        include_str!("../../../assets/intents/sentences/en/chat.yaml"),
    ),
    (
        "en",
        "dialog.yaml",
        include_str!("../../../assets/intents/sentences/en/dialog.yaml"),
    ),
    (
        "ko",
        "clock.yaml",
        include_str!("../../../assets/intents/sentences/ko/clock.yaml"),
    ),
    (
        "ko",
        "chat.yaml",
        include_str!("../../../assets/intents/sentences/ko/chat.yaml"),
    ),
    (
        "ko",
        "dialog.yaml",
        include_str!("../../../assets/intents/sentences/ko/dialog.yaml"),
    ),
];

/// (language, file name, text) of the embedded reply files.
pub const RESPONSES: &[(&str, &str, &str)] = &[
    (
        "en",
        "clock.yaml",
        include_str!("../../../assets/intents/responses/en/clock.yaml"),
    ),
    (
        "en",
        "chat.yaml",
        include_str!("../../../assets/intents/responses/en/chat.yaml"),
    ),
    (
        "ko",
        "clock.yaml",
        include_str!("../../../assets/intents/responses/ko/clock.yaml"),
    ),
    (
        "ko",
        "chat.yaml",
        include_str!("../../../assets/intents/responses/ko/chat.yaml"),
    ),
];

/// The built-in skills, in registry order.
pub fn skills() -> Vec<Box<dyn super::Skill>> {
    vec![
        Box::new(Clock),
        Box::new(Help),
        Box::new(Greeting),
        Box::new(Echo),
    ]
}
