//! The music skill: play by title, artist, album, genre, mood or station; pause, resume, next,
//! previous, shuffle, "play it again", "what's playing?", volume, and updating the library.
//! It finds what to play in a [`Catalog`] (Sori's library or MPD's database) and returns an
//! action; the pipeline hands that to the player. It reads the player's status to answer
//! "what's playing?" and never touches audio itself.

mod play;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::audio::mixer::{self, Volume, VolumeChange};
use crate::intent::Recognized;
use crate::music::{Catalog, Field, PlayState, SharedPlayer, Status};
use crate::skill::{Action, Ctx, Skill, SkillError, SkillReply};
use crate::store::Store;
use crate::values::Value;

pub const PLAY: &str = "SoriPlayMusic";
pub const PAUSE: &str = "HassMediaPause";
pub const RESUME: &str = "HassMediaUnpause";
pub const NEXT: &str = "HassMediaNext";
pub const PREVIOUS: &str = "HassMediaPrevious";
pub const AGAIN: &str = "SoriPlayAgain";
pub const SHUFFLE: &str = "SoriShuffle";
pub const NOW: &str = "SoriNowPlaying";
pub const VOLUME: &str = "SoriVolume";
pub const UPDATE: &str = "SoriUpdateLibrary";

/// The run-time lists the sentences name, by library field.
pub const LISTS: [(&str, Field); 4] = [
    ("music_title", Field::Title),
    ("music_artist", Field::Artist),
    ("music_album", Field::Album),
    ("music_genre", Field::Genre),
];

pub struct Music {
    catalog: Arc<dyn Catalog>,
    /// The running player, for "what's playing?" (`None` in `sori ask`: the saved queue tells).
    player: Option<SharedPlayer>,
    db: Arc<Mutex<Store>>,
    stations: BTreeMap<String, String>,
    /// The persisted volume, to say the new level after "louder".
    volume_file: Option<PathBuf>,
    default_volume: u8,
    /// Probe radio stations before playing them (off in fixture tests).
    online: bool,
    /// Set when the library changed and the name lists must be rebuilt.
    stale: Arc<AtomicBool>,
    /// The catalog's version when the lists were last built.
    seen: Option<String>,
    /// When to try loading the names again after the catalog failed.
    retry_at: Option<std::time::Instant>,
    updating: Arc<AtomicBool>,
}

impl Music {
    pub fn new(
        catalog: Arc<dyn Catalog>,
        player: Option<SharedPlayer>,
        db: Arc<Mutex<Store>>,
        cfg: &crate::config::Config,
        online: bool,
    ) -> Music {
        Music {
            catalog,
            player,
            db,
            stations: cfg.music.stations.clone(),
            volume_file: online.then(|| mixer::volume_file(&cfg.state_dir())),
            default_volume: cfg.audio.volume,
            online,
            stale: Arc::new(AtomicBool::new(true)),
            seen: None,
            retry_at: None,
            updating: Arc::new(AtomicBool::new(false)),
        }
    }

    fn status(&self) -> Status {
        match &self.player {
            Some(p) => p.status().unwrap_or_else(|e| {
                tracing::warn!("music: {e}");
                Status::default()
            }),
            None => crate::music::load_queue(&self.db)
                .map(|q| crate::music::status_of(&q))
                .unwrap_or_default(),
        }
    }

    /// A transport command: done if something is queued, else "nothing is playing".
    fn transport(
        &self,
        intent: &str,
        action: Action,
        ctx: &mut Ctx,
    ) -> Result<SkillReply, SkillError> {
        let st = self.status();
        // Resume and "again" also work on a stopped queue; the rest need something playing.
        let idle = st.current.is_none()
            || (st.state == PlayState::Stopped && intent != RESUME && intent != AGAIN);
        if idle {
            return Ok(SkillReply::say(ctx.say(intent, "nothing", &[])?));
        }
        Ok(SkillReply::say(ctx.say(intent, "done", &[])?).with_action(action))
    }

    fn now_playing(&self, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let st = self.status();
        let Some(item) = st.current.filter(|_| st.state != PlayState::Stopped) else {
            return Ok(SkillReply::say(ctx.say(NOW, "nothing", &[])?));
        };
        let ko = ctx.lang == "ko";
        let title_is = if ko {
            crate::lang::ko::copula(&item.title)
        } else {
            item.title.clone()
        };
        let mut vars = vec![("title", item.title.clone()), ("title_is", title_is)];
        let key = match (&item.artist, st.state) {
            (_, PlayState::Paused) => "paused",
            (Some(a), _) => {
                vars.push(("artist", a.clone()));
                "song"
            }
            (None, _) => "title",
        };
        Ok(SkillReply::say(ctx.say(NOW, key, &vars)?))
    }

    fn volume(&self, i: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let change = i.slot("change").and_then(Value::as_text).unwrap_or("up");
        let level = i.slot("level").and_then(|v| match v {
            Value::Float(f) => Some(f.round() as i64),
            other => other.as_int(),
        });
        let action = Action::Volume {
            change: change.to_string(),
            level: level.map(|l| l.clamp(0, 100) as u8),
        };
        let before = self
            .volume_file
            .as_deref()
            .and_then(mixer::read_volume)
            .unwrap_or(Volume {
                level: self.default_volume,
                muted: false,
            });
        let after = action
            .volume_change()
            .map_or(before, |c: VolumeChange| before.apply(c));
        let key = match change {
            "mute" => "muted",
            "unmute" => "unmuted",
            _ => "level",
        };
        // Said on a 0-10 scale, as people ask for it.
        let tenth = ((f32::from(after.level) / 10.0).round() as u8).to_string();
        let level_is = if ctx.lang == "ko" {
            crate::lang::ko::copula(&tenth)
        } else {
            tenth.clone()
        };
        let reply = ctx.say(VOLUME, key, &[("level", tenth), ("level_is", level_is)])?;
        Ok(SkillReply::say(reply).with_action(action))
    }

    fn update(&self, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        // With no folders a scan would only empty the library.
        if !self.catalog.has_sources() {
            return Ok(SkillReply::say(ctx.say(UPDATE, "no_dirs", &[])?));
        }
        if self.updating.swap(true, Ordering::SeqCst) {
            return Ok(SkillReply::say(ctx.say(UPDATE, "busy", &[])?));
        }
        // A big library takes a while: scan on a thread and answer now.
        let (catalog, stale, updating) = (
            self.catalog.clone(),
            self.stale.clone(),
            self.updating.clone(),
        );
        std::thread::Builder::new()
            .name("sori-music-scan".into())
            .spawn(move || {
                match catalog.update() {
                    Ok(u) => tracing::info!(
                        added = u.added,
                        removed = u.removed,
                        total = u.total,
                        "music library updated"
                    ),
                    Err(e) => tracing::warn!("music library not updated: {e}"),
                }
                stale.store(true, Ordering::SeqCst);
                updating.store(false, Ordering::SeqCst);
            })
            .map_err(|e| SkillError::Failed(e.to_string()))?;
        Ok(SkillReply::say(ctx.say(UPDATE, "started", &[])?))
    }

    /// Waits for a library update started by voice (tests).
    pub fn wait_for_update(&self) {
        while self.updating.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Skill for Music {
    fn id(&self) -> &str {
        "music"
    }

    fn intents(&self) -> Vec<String> {
        [
            PLAY, PAUSE, RESUME, NEXT, PREVIOUS, AGAIN, SHUFFLE, NOW, VOLUME, UPDATE,
        ]
        .map(String::from)
        .to_vec()
    }

    fn describe(&self, lang: &str) -> Option<String> {
        Some(match lang {
            "ko" => "음악 틀기와 볼륨".into(),
            _ => "play music and change the volume".into(),
        })
    }

    fn handle(&mut self, i: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let out = match i.intent.as_str() {
            PLAY => self.play(i, ctx),
            PAUSE => self.transport(PAUSE, Action::Pause, ctx),
            RESUME => self.transport(RESUME, Action::Resume, ctx),
            NEXT => self.transport(NEXT, Action::Next, ctx),
            PREVIOUS => self.transport(PREVIOUS, Action::Previous, ctx),
            AGAIN => self.transport(AGAIN, Action::Restart, ctx),
            SHUFFLE => self.transport(SHUFFLE, Action::Shuffle, ctx),
            NOW => self.now_playing(ctx),
            VOLUME => self.volume(i, ctx),
            UPDATE => self.update(ctx),
            other => Err(SkillError::Failed(format!("music cannot handle {other}"))),
        };
        match out {
            // The player or MPD is unreachable: say so plainly.
            Err(SkillError::Failed(e)) => {
                tracing::warn!("music: {e}");
                Ok(SkillReply::say(ctx.say(PLAY, "failed", &[])?))
            }
            other => other,
        }
    }

    fn lists(&mut self) -> Option<Vec<crate::skill::RuntimeList>> {
        let version = self.catalog.version();
        let changed = version.is_some() && version != self.seen;
        let retry = self
            .retry_at
            .is_some_and(|t| std::time::Instant::now() >= t);
        if !self.stale.swap(false, Ordering::SeqCst) && !changed && !retry {
            return None;
        }
        self.retry_at = None;
        self.seen = version;
        let mut out = Vec::new();
        for (list, field) in LISTS {
            match self.catalog.names(field) {
                Ok(names) => out.push((
                    list.to_string(),
                    names.into_iter().map(|n| (n.clone(), n)).collect(),
                )),
                Err(e) => {
                    // MPD down: try again a minute later rather than on every sentence.
                    tracing::warn!("music names not loaded (retrying in a minute): {e}");
                    self.retry_at =
                        Some(std::time::Instant::now() + std::time::Duration::from_secs(60));
                    break;
                }
            }
        }
        out.push((
            "music_station".to_string(),
            self.stations
                .keys()
                .map(|n| (n.clone(), n.clone()))
                .collect(),
        ));
        Some(out)
    }
}
