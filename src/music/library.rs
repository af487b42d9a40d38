//! The music library: audio files under `music.dirs` with their tags (lofty), indexed in the
//! state database with full-text search over title, artist, album and genre (SQLite FTS5).
//! Rescans are incremental: a file whose size and modification time are unchanged is not read
//! again, and rows for vanished files go.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use lofty::file::{AudioFile, TaggedFileExt};
use lofty::tag::Accessor;
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::StoreError;

/// File types scanned (what lofty reads and symphonia can play).
pub const EXTENSIONS: &[&str] = &["mp3", "flac", "ogg", "oga", "opus", "wav", "m4a", "aac"];

#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub id: i64,
    pub path: PathBuf,
    pub title: String,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub genre: Option<String>,
    pub track_no: Option<u32>,
    pub duration_ms: Option<u64>,
}

/// What a scan did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ScanReport {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
    /// Files that could not be read (path, why); the scan goes on without them.
    pub failed: Vec<(PathBuf, String)>,
}

/// Tags as read from a file (the title falls back to the file name).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tags {
    pub title: String,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub genre: Option<String>,
    pub track_no: Option<u32>,
    pub duration_ms: Option<u64>,
}

fn is_audio(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads a file's tags and length.
///
/// # Errors
/// The file is not readable audio, as a message.
pub fn read_tags(path: &Path) -> Result<Tags, String> {
    let f = lofty::read_from_path(path).map_err(|e| e.to_string())?;
    let tag = f.primary_tag().or_else(|| f.first_tag());
    let text = |v: Option<std::borrow::Cow<'_, str>>| {
        v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ms = f.properties().duration().as_millis() as u64;
    Ok(Tags {
        title: tag.and_then(|t| text(t.title())).unwrap_or(stem),
        artist: tag.and_then(|t| text(t.artist())),
        album: tag.and_then(|t| text(t.album())),
        genre: tag.and_then(|t| text(t.genre())),
        track_no: tag.and_then(|t| t.track()),
        duration_ms: (ms > 0).then_some(ms),
    })
}

/// Audio files under `dir` (and its subdirectories), sorted.
pub fn audio_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

/// Audio files under `dir`, sorted (symlinked directories are not followed: no loops).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "music directory not readable");
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(kind) = e.file_type() else { continue };
        let p = e.path();
        if kind.is_dir() {
            walk(&p, out);
        } else if is_audio(&p) {
            out.push(p);
        }
    }
}

/// Files indexed per transaction.
pub const BATCH: usize = 200;

/// Brings the index up to date with `dirs`, committing every [`BATCH`] files so a long first
/// scan never holds the database from timers and alarms for long. `progress(done, total)` is
/// called as files are looked at.
///
/// # Errors
/// Database errors (a file that cannot be read is reported, not an error).
pub fn scan(
    c: &mut Connection,
    dirs: &[PathBuf],
    mut progress: impl FnMut(usize, usize),
) -> Result<ScanReport, StoreError> {
    let mut files = Vec::new();
    for d in dirs {
        walk(d, &mut files);
    }
    let mut report = ScanReport::default();
    let mut tx = c.transaction()?;
    let mut seen = HashSet::new();
    for (i, path) in files.iter().enumerate() {
        progress(i + 1, files.len());
        if i > 0 && i % BATCH == 0 {
            tx.commit()?;
            tx = c.transaction()?;
        }
        let key = path.to_string_lossy().into_owned();
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        let size = meta.len() as i64;
        let known: Option<(i64, i64)> = tx
            .query_row(
                "SELECT mtime, size FROM tracks WHERE path = ?1",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if known == Some((mtime, size)) {
            seen.insert(key);
            report.unchanged += 1;
            continue;
        }
        let t = match read_tags(path) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(path = %path.display(), "not indexed: {e}");
                report.failed.push((path.clone(), e));
                continue;
            }
        };
        tx.execute(
            "INSERT INTO tracks (path, mtime, size, title, artist, album, genre, track_no, duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(path) DO UPDATE SET mtime = ?2, size = ?3, title = ?4, artist = ?5,
               album = ?6, genre = ?7, track_no = ?8, duration_ms = ?9",
            params![
                key,
                mtime,
                size,
                t.title,
                t.artist,
                t.album,
                t.genre,
                t.track_no,
                t.duration_ms.map(|d| d as i64)
            ],
        )?;
        if known.is_some() {
            report.updated += 1;
        } else {
            report.added += 1;
        }
        seen.insert(key);
    }
    // Rows for files no longer there (or under a directory no longer configured).
    let gone: Vec<(i64, String)> = {
        let mut s = tx.prepare("SELECT id, path FROM tracks")?;
        let rows = s
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .filter(|(_, p)| !seen.contains(p))
            .collect()
    };
    for (id, _) in &gone {
        tx.execute("DELETE FROM tracks WHERE id = ?1", [id])?;
    }
    report.removed = gone.len();
    tx.commit()?;
    Ok(report)
}

const COLUMNS: &str =
    "t.id, t.path, t.title, t.artist, t.album, t.genre, t.track_no, t.duration_ms";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Track> {
    Ok(Track {
        id: r.get(0)?,
        path: PathBuf::from(r.get::<_, String>(1)?),
        title: r.get(2)?,
        artist: r.get(3)?,
        album: r.get(4)?,
        genre: r.get(5)?,
        track_no: r.get(6)?,
        duration_ms: r.get::<_, Option<i64>>(7)?.map(|d| d as u64),
    })
}

/// Tracks matching every word of `query` (as word prefixes) in any field, best first.
///
/// # Errors
/// Database errors.
pub fn search(c: &Connection, query: &str, limit: usize) -> Result<Vec<Track>, StoreError> {
    // Each word quoted (so FTS5 syntax in a title is just text) and matched as a prefix.
    let words: Vec<String> = query
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let mut s = c.prepare(&format!(
        "SELECT {COLUMNS} FROM tracks_fts f JOIN tracks t ON t.id = f.rowid
         WHERE tracks_fts MATCH ?1 ORDER BY bm25(tracks_fts), t.album, t.track_no, t.title LIMIT ?2"
    ))?;
    let rows = s
        .query_map(params![words.join(" "), limit as i64], row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Every track with `field` (`artist`, `album`, `genre`) equal to `value` (any case), in album
/// order.
///
/// # Errors
/// Database errors; an unknown field is an empty result.
pub fn by(c: &Connection, field: &str, value: &str) -> Result<Vec<Track>, StoreError> {
    if !["artist", "album", "genre", "title"].contains(&field) {
        return Ok(Vec::new());
    }
    let mut s = c.prepare(&format!(
        "SELECT {COLUMNS} FROM tracks t WHERE t.{field} = ?1 COLLATE NOCASE
         ORDER BY t.album, t.track_no, t.title"
    ))?;
    let rows = s.query_map([value], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The distinct values of a field (for the fuzzy slot lists and the STT vocabulary).
///
/// # Errors
/// Database errors.
pub fn names(c: &Connection, field: &str) -> Result<Vec<String>, StoreError> {
    if !["artist", "album", "genre", "title"].contains(&field) {
        return Ok(Vec::new());
    }
    let mut s = c.prepare(&format!(
        "SELECT DISTINCT {field} FROM tracks WHERE {field} IS NOT NULL ORDER BY {field}"
    ))?;
    let rows = s
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// How many tracks are indexed.
///
/// # Errors
/// Database errors.
pub fn count(c: &Connection) -> Result<i64, StoreError> {
    Ok(c.query_row("SELECT COUNT(*) FROM tracks", [], |r| r.get(0))?)
}

/// Up to `limit` tracks in random order ("play some music").
///
/// # Errors
/// Database errors.
pub fn sample(c: &Connection, limit: usize) -> Result<Vec<Track>, StoreError> {
    let mut s = c.prepare(&format!(
        "SELECT {COLUMNS} FROM tracks t ORDER BY random() LIMIT ?1"
    ))?;
    let rows = s
        .query_map([limit as i64], row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Tracks whose genre contains any of `words` (any case), in random order ("something
/// relaxing" looks for ambient, classical, jazz, …).
///
/// # Errors
/// Database errors.
pub fn with_genres(c: &Connection, words: &[&str], limit: usize) -> Result<Vec<Track>, StoreError> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let cond = vec!["t.genre LIKE ? ESCAPE '\\'"; words.len()].join(" OR ");
    let mut s = c.prepare(&format!(
        "SELECT {COLUMNS} FROM tracks t WHERE {cond} ORDER BY random() LIMIT {limit}"
    ))?;
    let pats: Vec<String> = words
        .iter()
        .map(|w| format!("%{}%", w.replace('%', "\\%").replace('_', "\\_")))
        .collect();
    let rows = s
        .query_map(rusqlite::params_from_iter(pats), row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
