//! What a backend can play, searched the same way whether it is Sori's own library or MPD's
//! database, so the music skill does not care which.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::library::{self, Track};
use super::{Item, PlayerError};
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Artist,
    Album,
    Genre,
}

impl Field {
    pub const ALL: [Field; 4] = [Field::Title, Field::Artist, Field::Album, Field::Genre];

    /// The library column and MPD tag name.
    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Artist => "artist",
            Field::Album => "album",
            Field::Genre => "genre",
        }
    }
}

/// What a library update did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Updated {
    pub added: usize,
    pub removed: usize,
    pub total: usize,
}

pub trait Catalog: Send + Sync {
    /// Every item whose `field` is `value` (any case), in album order.
    ///
    /// # Errors
    /// The library or server failed.
    fn by(&self, field: Field, value: &str) -> Result<Vec<Item>, PlayerError>;
    /// Items matching every word of `query` in any field, best first.
    ///
    /// # Errors
    /// As [`Catalog::by`].
    fn search(&self, query: &str, limit: usize) -> Result<Vec<Item>, PlayerError>;
    /// The distinct values of `field` (for the fuzzy slot lists).
    ///
    /// # Errors
    /// As [`Catalog::by`].
    fn names(&self, field: Field) -> Result<Vec<String>, PlayerError>;
    /// Up to `limit` items in random order; with `genres`, only those whose genre contains one.
    ///
    /// # Errors
    /// As [`Catalog::by`].
    fn sample(&self, genres: &[&str], limit: usize) -> Result<Vec<Item>, PlayerError>;
    /// Rescans the music.
    ///
    /// # Errors
    /// As [`Catalog::by`].
    fn update(&self) -> Result<Updated, PlayerError>;
    /// Whether there is anything to scan (Sori's library needs `music.dirs`).
    fn has_sources(&self) -> bool {
        true
    }
    /// Something that changes when the catalog does (a rescan by `sori music scan`), so name
    /// lists are rebuilt; `None`: only after [`Catalog::update`].
    fn version(&self) -> Option<String> {
        None
    }
}

impl From<Track> for Item {
    fn from(t: Track) -> Item {
        Item {
            uri: t.path.to_string_lossy().into_owned(),
            title: t.title,
            artist: t.artist,
            album: t.album,
            duration_ms: t.duration_ms,
            radio: false,
        }
    }
}

/// Sori's own library in the state database.
pub struct LocalCatalog {
    pub db: Arc<Mutex<Store>>,
    pub dirs: Vec<PathBuf>,
}

impl LocalCatalog {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<T, crate::store::StoreError>,
    ) -> Result<T, PlayerError> {
        let mut db = self
            .db
            .lock()
            .map_err(|_| PlayerError::Library("state database lock poisoned".into()))?;
        f(db.conn()).map_err(|e| PlayerError::Library(e.to_string()))
    }
}

fn items(tracks: Vec<Track>) -> Vec<Item> {
    tracks.into_iter().map(Item::from).collect()
}

impl Catalog for LocalCatalog {
    fn by(&self, field: Field, value: &str) -> Result<Vec<Item>, PlayerError> {
        self.with(|c| library::by(c, field.name(), value))
            .map(items)
    }

    fn search(&self, query: &str, limit: usize) -> Result<Vec<Item>, PlayerError> {
        self.with(|c| library::search(c, query, limit)).map(items)
    }

    fn names(&self, field: Field) -> Result<Vec<String>, PlayerError> {
        self.with(|c| library::names(c, field.name()))
    }

    fn sample(&self, genres: &[&str], limit: usize) -> Result<Vec<Item>, PlayerError> {
        self.with(|c| {
            if genres.is_empty() {
                library::sample(c, limit)
            } else {
                library::with_genres(c, genres, limit)
            }
        })
        .map(items)
    }

    fn has_sources(&self) -> bool {
        !self.dirs.is_empty()
    }

    fn version(&self) -> Option<String> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT count(*), max(id), total(mtime) FROM tracks",
                [],
                |r| {
                    Ok(format!(
                        "{}:{:?}:{}",
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, f64>(2)?
                    ))
                },
            )?)
        })
        .ok()
    }

    fn update(&self) -> Result<Updated, PlayerError> {
        let dirs = self.dirs.clone();
        let run = |c: &mut rusqlite::Connection| {
            let r = library::scan(c, &dirs, |_, _| {})?;
            Ok(Updated {
                added: r.added + r.updated,
                removed: r.removed,
                total: library::count(c)? as usize,
            })
        };
        // Its own connection where there is a file, so a long scan does not hold the shared
        // one (timers, alarms, the brain) for its whole length.
        let path = self.with(|c| Ok(c.path().map(std::path::PathBuf::from)))?;
        match path.as_deref().and_then(std::path::Path::parent) {
            Some(dir) if path.as_deref().is_some_and(|p| p.is_file()) => {
                let mut own = Store::open(dir).map_err(|e| PlayerError::Library(e.to_string()))?;
                run(own.conn())
                    .map_err(|e: crate::store::StoreError| PlayerError::Library(e.to_string()))
            }
            _ => self.with(run),
        }
    }
}
