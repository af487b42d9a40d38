//! Music: what can be played and the players that play it.
//!
//! - `library`: audio files under `music.dirs`, their tags, full-text search (SQLite).
//! - `catalog`: searching what a backend can play (the library, or MPD's database).
//! - `queue`: the play queue as plain data.
//! - `local`: the built-in player on the mixer's music channel (rodio/symphonia).
//! - `mpd`: the same commands driving a Music Player Daemon over its protocol.
//! - `radio`: internet radio stations from config, m3u/pls playlists resolved.
//!
//! The music skill (`skill::music`) finds what to play and returns an action; the pipeline
//! hands it to the [`Player`] here. Skills never touch the player's audio.

pub mod catalog;
pub mod library;
#[cfg(feature = "device-audio")]
pub mod local;
pub mod mpd;
pub mod queue;
pub mod radio;

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use catalog::{Catalog, Field};
pub use queue::Queue;

/// Something playable: a file in the library, an MPD song, a radio stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// A file path (local), an MPD song URI, or an http(s) stream URL.
    pub uri: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// An internet radio station (no length, no seeking).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub radio: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlayState {
    #[default]
    Stopped,
    Playing,
    Paused,
}

/// What a skill asks the player to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Replace the queue and start playing.
    Play {
        items: Vec<Item>,
        shuffle: bool,
    },
    Pause,
    Resume,
    Stop,
    Next,
    Previous,
    /// The current track from its start.
    Restart,
    /// Shuffle what is left in the queue.
    Shuffle,
}

impl Command {
    /// The player command for a skill's action (`None`: not a music action). A spoken "stop"
    /// pauses music, so "resume" can bring it back.
    pub fn from_action(a: &crate::skill::Action) -> Option<Command> {
        use crate::skill::Action as A;
        Some(match a {
            A::Play { what } => {
                let items: Vec<Item> = serde_json::from_value(what.get("items")?.clone())
                    .map_err(|e| tracing::warn!("bad play action: {e}"))
                    .ok()?;
                let shuffle = what
                    .get("shuffle")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                Command::Play { items, shuffle }
            }
            A::Pause | A::Stop => Command::Pause,
            A::Resume => Command::Resume,
            A::Next => Command::Next,
            A::Previous => Command::Previous,
            A::Restart => Command::Restart,
            A::Shuffle => Command::Shuffle,
            A::Volume { .. } | A::Custom { .. } => return None,
        })
    }
}

/// The player for `cfg`: MPD, or the built-in player on `mixer`'s music channel.
pub fn open_player(
    cfg: &crate::config::Config,
    db: Arc<Mutex<crate::store::Store>>,
    mixer: &crate::audio::mixer::Mixer,
) -> SharedPlayer {
    if cfg.music.backend == "mpd" {
        let m: SharedPlayer = Arc::new(mpd::Mpd::new(cfg.music.mpd.clone()));
        // Ducking and the device volume reach MPD through its own volume.
        let hook = m.clone();
        mixer.on_music_gain(Box::new(move |g| hook.set_gain(g)));
        return m;
    }
    #[cfg(feature = "device-audio")]
    {
        Arc::new(local::LocalPlayer::spawn(db, mixer.clone()))
    }
    #[cfg(not(feature = "device-audio"))]
    {
        let _ = db;
        Arc::new(NoPlayer)
    }
}

/// Without `device-audio` there is nothing to play on.
#[cfg(not(feature = "device-audio"))]
struct NoPlayer;

#[cfg(not(feature = "device-audio"))]
impl Player for NoPlayer {
    fn command(&self, _: Command) -> Result<(), PlayerError> {
        Err(PlayerError::NoOutput)
    }
    fn status(&self) -> Result<Status, PlayerError> {
        Ok(Status::default())
    }
}

/// What the music skill searches for `cfg` (MPD's database or Sori's library) and, for MPD,
/// the server as a player too (it is reachable from any process, `sori ask` included).
pub fn catalog_for(
    cfg: &crate::config::Config,
    db: Arc<Mutex<crate::store::Store>>,
) -> (Arc<dyn Catalog>, Option<SharedPlayer>) {
    if cfg.music.backend == "mpd" {
        let m = Arc::new(mpd::Mpd::new(cfg.music.mpd.clone()));
        return (m.clone(), Some(m));
    }
    (
        Arc::new(catalog::LocalCatalog {
            db,
            dirs: cfg.music.dir_paths(),
        }),
        None,
    )
}

/// What is playing now.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    pub state: PlayState,
    pub current: Option<Item>,
    pub position_ms: u64,
    /// Tracks in the queue, the current one included.
    pub queued: usize,
}

#[derive(Debug, Error)]
pub enum PlayerError {
    #[error("cannot reach the music server at {addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    #[error("the music server refused {command}: {reason}")]
    Refused { command: String, reason: String },
    #[error("cannot play {uri}: {reason}")]
    Unplayable { uri: String, reason: String },
    #[error("no speaker to play music on")]
    NoOutput,
    #[error("music library: {0}")]
    Library(String),
}

/// A music backend: the built-in player or MPD. Calls are quick (the local player works in its
/// own thread; MPD answers in milliseconds on a LAN).
pub trait Player: Send + Sync {
    /// Does what was asked.
    ///
    /// # Errors
    /// The backend failed (unreachable server, unplayable file); nothing changed.
    fn command(&self, command: Command) -> Result<(), PlayerError>;

    /// What is playing.
    ///
    /// # Errors
    /// The backend cannot be asked.
    fn status(&self) -> Result<Status, PlayerError>;

    /// The music gain (volume and ducking, 0-1) for backends that are not on Sori's own music
    /// channel. The built-in player ignores it: the mixer sets its channel directly.
    fn set_gain(&self, _gain: f32) {}
}

/// A player shared by the pipeline (which runs commands) and the music skill (which asks what
/// is playing).
pub type SharedPlayer = Arc<dyn Player>;

/// Reads the queue a player saved in the state database.
///
/// # Errors
/// Database errors; a damaged saved queue is logged and treated as empty.
pub fn load_queue(db: &Mutex<crate::store::Store>) -> Result<Queue, PlayerError> {
    use rusqlite::OptionalExtension;
    let mut db = db
        .lock()
        .map_err(|_| PlayerError::Library("state database lock poisoned".into()))?;
    let text: Option<String> = db
        .conn()
        .query_row("SELECT queue FROM music_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| PlayerError::Library(e.to_string()))?;
    Ok(text
        .and_then(|t| {
            serde_json::from_str(&t)
                .map_err(|e| tracing::warn!("saved music queue ignored: {e}"))
                .ok()
        })
        .unwrap_or_default())
}

/// Saves the queue (current track and position included) in the state database.
///
/// # Errors
/// Database errors.
pub fn save_queue(db: &Mutex<crate::store::Store>, q: &Queue) -> Result<(), PlayerError> {
    let mut db = db
        .lock()
        .map_err(|_| PlayerError::Library("state database lock poisoned".into()))?;
    db.conn()
        .execute(
            "INSERT INTO music_state (id, queue) VALUES (1, ?1)
             ON CONFLICT(id) DO UPDATE SET queue = ?1",
            [serde_json::to_string(q).expect("queue serialises")],
        )
        .map_err(|e| PlayerError::Library(e.to_string()))?;
    Ok(())
}

/// The status a saved queue describes (`sori ask` without a running daemon).
pub fn status_of(q: &Queue) -> Status {
    Status {
        state: q.state,
        current: q.current().cloned(),
        position_ms: q.position_ms,
        queued: q.order.len(),
    }
}
