//! The state database: one SQLite file (`sori.db`) in the state directory, shared by every
//! skill that keeps something (timers, alarms, the weather cache, later the music index and
//! the message outbox). Versioned migrations run at open; writes that matter are transactions.
//! Synchronous like the other engines: callers on the async runtime use `spawn_blocking`.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use rusqlite::Connection;
use thiserror::Error;
use tokio::sync::Notify;

pub const FILE: &str = "sori.db";

/// Migrations, in order; `PRAGMA user_version` records how many ran. Append, never edit.
const MIGRATIONS: &[&str] = &[
    // 1: timers. `ends_at_ms` is wall-clock Unix time; a paused timer keeps `left_ms` instead.
    "CREATE TABLE timers (
        id INTEGER PRIMARY KEY,
        name TEXT,
        language TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        ends_at_ms INTEGER,
        left_ms INTEGER,
        created_ms INTEGER NOT NULL,
        announced INTEGER NOT NULL DEFAULT 0
    );",
    // 2: alarms. `days`: bit 0 Monday … bit 6 Sunday, 0 for a one-off. `next_ms`: when it
    // rings next (a snooze moves it); `rang_ms`: when it last rang (what "snooze" refers to).
    "CREATE TABLE alarms (
        id INTEGER PRIMARY KEY,
        hour INTEGER NOT NULL,
        minute INTEGER NOT NULL,
        days INTEGER NOT NULL DEFAULT 0,
        label TEXT,
        language TEXT NOT NULL,
        next_ms INTEGER,
        rang_ms INTEGER,
        snoozed INTEGER NOT NULL DEFAULT 0,
        created_ms INTEGER NOT NULL
    );",
    // 3: the weather skill's last forecast per place and unit system (answers offline), and
    // places it has looked up (named places work offline once asked about).
    "CREATE TABLE weather_cache (
        key TEXT PRIMARY KEY,
        fetched_ms INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE places (
        query TEXT PRIMARY KEY,
        body TEXT NOT NULL
    );",
    // 4: the music library, with full-text search kept in step by triggers. `mtime` (Unix ms)
    // and `size` tell a rescan which files changed.
    "CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        mtime INTEGER NOT NULL,
        size INTEGER NOT NULL,
        title TEXT NOT NULL,
        artist TEXT,
        album TEXT,
        genre TEXT,
        track_no INTEGER,
        duration_ms INTEGER
    );
    CREATE VIRTUAL TABLE tracks_fts USING fts5(
        title, artist, album, genre,
        content = 'tracks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER tracks_ai AFTER INSERT ON tracks BEGIN
        INSERT INTO tracks_fts (rowid, title, artist, album, genre)
        VALUES (new.id, new.title, new.artist, new.album, new.genre);
    END;
    CREATE TRIGGER tracks_ad AFTER DELETE ON tracks BEGIN
        INSERT INTO tracks_fts (tracks_fts, rowid, title, artist, album, genre)
        VALUES ('delete', old.id, old.title, old.artist, old.album, old.genre);
    END;
    CREATE TRIGGER tracks_au AFTER UPDATE ON tracks BEGIN
        INSERT INTO tracks_fts (tracks_fts, rowid, title, artist, album, genre)
        VALUES ('delete', old.id, old.title, old.artist, old.album, old.genre);
        INSERT INTO tracks_fts (rowid, title, artist, album, genre)
        VALUES (new.id, new.title, new.artist, new.album, new.genre);
    END;",
    // 5: the music player's queue, current track and position (JSON), so a restart resumes.
    "CREATE TABLE music_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        queue TEXT NOT NULL
    );",
    // 6: the message outbox. `key` is the idempotency key every delivery attempt carries;
    // `state` is queued, sent or failed; `next_ms` is when to try again.
    "CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        contact TEXT NOT NULL,
        backend TEXT NOT NULL,
        address TEXT NOT NULL,
        body TEXT NOT NULL,
        lang TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_ms INTEGER NOT NULL,
        last_error TEXT,
        sent_ms INTEGER
    );
    CREATE INDEX outbox_due ON outbox (state, next_ms);",
    // 7: incoming Matrix messages from contacts (`read_ms` set once read aloud, `receipt` once
    // the homeserver has the read receipt) and where the next /sync starts.
    "CREATE TABLE inbox (
        id INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        room TEXT NOT NULL,
        sender TEXT NOT NULL,
        contact TEXT NOT NULL,
        body TEXT NOT NULL,
        ts_ms INTEGER NOT NULL,
        read_ms INTEGER,
        receipt INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX inbox_unread ON inbox (read_ms, ts_ms);
    CREATE TABLE matrix_sync (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        next_batch TEXT NOT NULL
    );",
    // 8: the history of runs (what was heard, understood and said, with per-stage timings),
    // for the local API and the dashboard; the newest `api.history` are kept.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_ms INTEGER NOT NULL,
        run INTEGER NOT NULL,
        body TEXT NOT NULL
    );",
];

#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "cannot open the state database {path}: {source}; check that the state directory is writable (state.dir)"
    )]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "the state database {path} is from a newer Sori (schema {found}, this one knows {known}); upgrade Sori or move the file away"
    )]
    TooNew {
        path: String,
        found: i64,
        known: usize,
    },
    #[error("state database: {0}")]
    Sql(#[from] rusqlite::Error),
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Woken when something scheduled changes (a timer or alarm set, moved or snoozed), so
    /// the reminder task recomputes when to wake next.
    changed: Arc<Notify>,
}

impl Store {
    /// Opens (creating if needed) `dir/sori.db` and brings its schema up to date.
    ///
    /// # Errors
    /// An unwritable directory, a damaged file, or a schema from a newer version.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(FILE);
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            open_err(rusqlite::Error::InvalidPath(PathBuf::from(format!(
                "{}: {e}",
                dir.display()
            ))))
        })?;
        let conn = Connection::open(&path).map_err(open_err)?;
        // WAL: readers never block the writer; NORMAL sync is durable across a process crash.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        let mut store = Store {
            conn,
            path,
            changed: Arc::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// An in-memory database (tests).
    ///
    /// # Errors
    /// Only if SQLite itself fails.
    pub fn memory() -> Result<Self, StoreError> {
        let mut store = Store {
            conn: Connection::open_in_memory()?,
            path: PathBuf::from(":memory:"),
            changed: Arc::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew {
                path: self.path.display().to_string(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(version = i + 1, path = %self.path.display(), "state database migrated");
        }
        Ok(())
    }

    pub fn version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    pub fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the reminder task waits on.
    pub fn changed(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    /// Tells the reminder task that something scheduled changed. A notification with no one
    /// waiting is kept, so none is lost.
    pub fn touch(&self) {
        self.changed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        assert_eq!(s.version().unwrap(), MIGRATIONS.len() as i64);
        s.conn()
            .execute("INSERT INTO timers (name, language, duration_ms, ends_at_ms, created_ms) VALUES ('pasta', 'en', 1, 2, 3)", [])
            .unwrap();
        drop(s);
        let mut s = Store::open(dir.path()).unwrap();
        let n: i64 = s
            .conn()
            .query_row("SELECT count(*) FROM timers", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn a_newer_schema_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        s.conn().pragma_update(None, "user_version", 999).unwrap();
        drop(s);
        let e = Store::open(dir.path()).err().unwrap().to_string();
        assert!(e.contains("newer Sori") && e.contains("999"), "{e}");
    }
}
