//! The skills built into the binary, and their sentence and reply files (embedded, so a bare
//! binary understands them). Timers, weather, music and messaging arrive as their own skills.

mod chat;
pub mod clock;

pub use chat::{Echo, Greeting, Help};
pub use clock::Clock;

use std::sync::{Arc, Mutex};

use super::alarms::Alarms;
use super::timers::Timers;
use super::weather::Weather;
use crate::config::Config;
use crate::store::Store;

/// (language, file name, text) of an embedded intent data file.
macro_rules! embed {
    ($kind:literal, $lang:literal, $name:literal) => {
        (
            $lang,
            $name,
            include_str!(concat!(
                "../../../assets/intents/",
                $kind,
                "/",
                $lang,
                "/",
                $name
            )),
        )
    };
}

/// The embedded sentence files.
pub const SENTENCES: &[(&str, &str, &str)] = &[
    embed!("sentences", "en", "clock.yaml"),
    embed!("sentences", "en", "timers.yaml"),
    embed!("sentences", "en", "alarms.yaml"),
    embed!("sentences", "en", "weather.yaml"),
    embed!("sentences", "en", "chat.yaml"),
    embed!("sentences", "en", "dialog.yaml"),
    embed!("sentences", "ko", "clock.yaml"),
    embed!("sentences", "ko", "timers.yaml"),
    embed!("sentences", "ko", "alarms.yaml"),
    embed!("sentences", "ko", "weather.yaml"),
    embed!("sentences", "ko", "chat.yaml"),
    embed!("sentences", "ko", "dialog.yaml"),
];

/// The embedded reply files.
pub const RESPONSES: &[(&str, &str, &str)] = &[
    embed!("responses", "en", "clock.yaml"),
    embed!("responses", "en", "timers.yaml"),
    embed!("responses", "en", "alarms.yaml"),
    embed!("responses", "en", "weather.yaml"),
    embed!("responses", "en", "chat.yaml"),
    embed!("responses", "ko", "clock.yaml"),
    embed!("responses", "ko", "timers.yaml"),
    embed!("responses", "ko", "alarms.yaml"),
    embed!("responses", "ko", "weather.yaml"),
    embed!("responses", "ko", "chat.yaml"),
];

/// The built-in skills, in registry order; `db` is the state database (timers, alarms, the
/// weather cache). With no config, defaults and no network.
pub fn skills(db: Arc<Mutex<Store>>, cfg: Option<&Config>) -> Vec<Box<dyn super::Skill>> {
    let default = Config::default();
    let c = cfg.unwrap_or(&default);
    vec![
        Box::new(Clock),
        Box::new(Timers::new(db.clone())),
        Box::new(Alarms::new(db.clone(), c.alarms.snooze_minutes)),
        Box::new(Weather::new(db, c, cfg.is_some())),
        Box::new(Help),
        Box::new(Greeting),
        Box::new(Echo),
    ]
}
