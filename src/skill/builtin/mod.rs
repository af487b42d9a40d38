//! The skills built into the binary, and their sentence and reply files (embedded, so a bare
//! binary understands them). Timers, alarms, weather and music are skills of their own.

mod chat;
pub mod clock;

pub use chat::{Echo, Greeting, Help};
pub use clock::Clock;

use std::sync::{Arc, Mutex};

use super::alarms::Alarms;
use super::music::Music;
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
    embed!("sentences", "en", "music.yaml"),
    embed!("sentences", "en", "messaging.yaml"),
    embed!("sentences", "en", "chat.yaml"),
    embed!("sentences", "en", "dialog.yaml"),
    embed!("sentences", "ko", "clock.yaml"),
    embed!("sentences", "ko", "timers.yaml"),
    embed!("sentences", "ko", "alarms.yaml"),
    embed!("sentences", "ko", "weather.yaml"),
    embed!("sentences", "ko", "music.yaml"),
    embed!("sentences", "ko", "messaging.yaml"),
    embed!("sentences", "ko", "chat.yaml"),
    embed!("sentences", "ko", "dialog.yaml"),
];

/// The embedded reply files.
pub const RESPONSES: &[(&str, &str, &str)] = &[
    embed!("responses", "en", "clock.yaml"),
    embed!("responses", "en", "timers.yaml"),
    embed!("responses", "en", "alarms.yaml"),
    embed!("responses", "en", "weather.yaml"),
    embed!("responses", "en", "music.yaml"),
    embed!("responses", "en", "messaging.yaml"),
    embed!("responses", "en", "chat.yaml"),
    embed!("responses", "ko", "clock.yaml"),
    embed!("responses", "ko", "timers.yaml"),
    embed!("responses", "ko", "alarms.yaml"),
    embed!("responses", "ko", "weather.yaml"),
    embed!("responses", "ko", "music.yaml"),
    embed!("responses", "ko", "messaging.yaml"),
    embed!("responses", "ko", "chat.yaml"),
];

/// What the daemon shares with the skills. The default: no player, no delivery thread, and
/// the network used only when there is a config.
#[derive(Default, Clone)]
pub struct Services {
    /// The music player, for "what's playing?".
    pub player: Option<crate::music::SharedPlayer>,
    /// The message delivery thread; `None`: messages wait in the outbox for `sori run`.
    pub outbox: Option<crate::messaging::worker::Outbox>,
    /// Incoming Matrix messages; `None`: "read my messages" has nothing to read from.
    pub inbox: Option<Arc<crate::messaging::matrix_inbox::MatrixInbox>>,
    /// Force the network off (fixture tests with a config); `None`: on with a config.
    pub offline: bool,
}

/// The built-in skills, in registry order; `db` is the state database (timers, alarms, the
/// weather cache, the music library, the outbox). With no config, defaults and no network.
pub fn skills(
    db: Arc<Mutex<Store>>,
    cfg: Option<&Config>,
    services: Services,
) -> Vec<Box<dyn super::Skill>> {
    let default = Config::default();
    let c = cfg.unwrap_or(&default);
    let online = cfg.is_some() && !services.offline;
    let (catalog, server) = crate::music::catalog_for(c, db.clone());
    let music = Music::new(catalog, services.player.or(server), db.clone(), c, online);
    let outbox = services
        .outbox
        .unwrap_or_else(|| crate::messaging::worker::Outbox::detached(db.clone()));
    let messaging =
        super::messaging::Messaging::new(c.messaging.contacts.clone(), outbox, services.inbox);
    vec![
        Box::new(Clock),
        Box::new(Timers::new(db.clone())),
        Box::new(Alarms::new(db.clone(), c.alarms.snooze_minutes)),
        Box::new(Weather::new(db, c, online)),
        Box::new(music),
        Box::new(messaging),
        Box::new(Help),
        Box::new(Greeting),
        Box::new(Echo),
    ]
}
