//! Timers as rows of the state database. Every change is written before Sori says it
//! happened, so a timer that was confirmed survives a crash. Times are Unix milliseconds.

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub struct Timer {
    pub id: i64,
    pub name: Option<String>,
    pub lang: String,
    pub duration_ms: i64,
    /// When it rings; `None` while paused.
    pub ends_at_ms: Option<i64>,
    /// Time left while paused.
    pub left_ms: Option<i64>,
}

impl Timer {
    pub fn left_ms(&self, now_ms: i64) -> i64 {
        match (self.ends_at_ms, self.left_ms) {
            (Some(end), _) => (end - now_ms).max(0),
            (None, Some(left)) => left,
            _ => 0,
        }
    }
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<Timer> {
    Ok(Timer {
        id: r.get(0)?,
        name: r.get(1)?,
        lang: r.get(2)?,
        duration_ms: r.get(3)?,
        ends_at_ms: r.get(4)?,
        left_ms: r.get(5)?,
    })
}

const COLUMNS: &str = "id, name, language, duration_ms, ends_at_ms, left_ms";

/// Starts a timer (stored before this returns).
///
/// # Errors
/// The database write failed: the timer must not be reported as set.
pub fn start(
    c: &Connection,
    name: Option<&str>,
    lang: &str,
    duration_ms: i64,
    now_ms: i64,
) -> Result<Timer, StoreError> {
    c.execute(
        "INSERT INTO timers (name, language, duration_ms, ends_at_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, lang, duration_ms, now_ms + duration_ms, now_ms],
    )?;
    let id = c.last_insert_rowid();
    Ok(Timer {
        id,
        name: name.map(str::to_string),
        lang: lang.to_string(),
        duration_ms,
        ends_at_ms: Some(now_ms + duration_ms),
        left_ms: None,
    })
}

/// Timers not yet announced, soonest first.
///
/// # Errors
/// Database errors.
pub fn active(c: &Connection) -> Result<Vec<Timer>, StoreError> {
    let mut s = c.prepare(&format!(
        "SELECT {COLUMNS} FROM timers WHERE announced = 0 ORDER BY COALESCE(ends_at_ms, 0), id"
    ))?;
    let rows = s.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Timers that have ended by `now_ms` and are not yet announced (including any that ended
/// while Sori was not running).
///
/// # Errors
/// Database errors.
pub fn due(c: &Connection, now_ms: i64) -> Result<Vec<Timer>, StoreError> {
    Ok(active(c)?
        .into_iter()
        .filter(|t| t.ends_at_ms.is_some_and(|e| e <= now_ms))
        .collect())
}

/// Marks a timer as announced (it no longer counts as active).
///
/// # Errors
/// Database errors.
pub fn announced(c: &Connection, id: i64) -> Result<(), StoreError> {
    c.execute("UPDATE timers SET announced = 1 WHERE id = ?1", [id])?;
    Ok(())
}

/// A timer that went off within `within_ms` (so "stop the timer" means the ringing).
///
/// # Errors
/// Database errors.
pub fn recently_rung(c: &Connection, now_ms: i64, within_ms: i64) -> Result<bool, StoreError> {
    Ok(c.query_row(
        "SELECT COUNT(*) FROM timers WHERE announced = 1 AND ends_at_ms BETWEEN ?1 AND ?2",
        params![now_ms - within_ms, now_ms],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

/// Removes a timer; false if it was already gone.
///
/// # Errors
/// Database errors.
pub fn cancel(c: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(c.execute("DELETE FROM timers WHERE id = ?1", [id])? > 0)
}

/// Removes every active timer; returns how many.
///
/// # Errors
/// Database errors.
pub fn cancel_all(c: &Connection) -> Result<usize, StoreError> {
    Ok(c.execute("DELETE FROM timers WHERE announced = 0", [])?)
}

/// Pauses a running timer, keeping the time left; false if it was not running.
///
/// # Errors
/// Database errors.
pub fn pause(c: &Connection, id: i64, now_ms: i64) -> Result<bool, StoreError> {
    Ok(c.execute(
        "UPDATE timers SET left_ms = MAX(ends_at_ms - ?2, 0), ends_at_ms = NULL WHERE id = ?1 AND ends_at_ms IS NOT NULL",
        params![id, now_ms],
    )? > 0)
}

/// Restarts a paused timer from the time it had left; false if it was not paused.
///
/// # Errors
/// Database errors.
pub fn resume(c: &Connection, id: i64, now_ms: i64) -> Result<bool, StoreError> {
    Ok(c.execute(
        "UPDATE timers SET ends_at_ms = ?2 + left_ms, left_ms = NULL WHERE id = ?1 AND ends_at_ms IS NULL",
        params![id, now_ms],
    )? > 0)
}

/// The soonest time an active timer ends.
///
/// # Errors
/// Database errors.
pub fn next_end(c: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(c.query_row(
        "SELECT MIN(ends_at_ms) FROM timers WHERE announced = 0",
        [],
        |r| r.get(0),
    )?)
}

/// Adds (or with a negative `delta_ms`, takes) time.
///
/// # Errors
/// Database errors.
pub fn add(c: &Connection, id: i64, delta_ms: i64) -> Result<Option<Timer>, StoreError> {
    c.execute(
        "UPDATE timers SET ends_at_ms = ends_at_ms + ?2, left_ms = left_ms + ?2, duration_ms = duration_ms + ?2 WHERE id = ?1",
        params![id, delta_ms],
    )?;
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM timers WHERE id = ?1"),
        [id],
        row,
    )
    .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn timers_start_list_end_and_cancel() {
        let mut s = Store::memory().unwrap();
        let c = s.conn();
        let pasta = start(c, Some("pasta"), "en", 600_000, 1_000).unwrap();
        let tea = start(c, None, "en", 60_000, 2_000).unwrap();
        let all = active(c).unwrap();
        assert_eq!(
            all.iter().map(|t| t.id).collect::<Vec<_>>(),
            [tea.id, pasta.id],
            "soonest first"
        );
        assert_eq!(all[1].left_ms(301_000), 300_000);
        assert_eq!(due(c, 62_000).unwrap().len(), 1);
        announced(c, tea.id).unwrap();
        assert!(due(c, 62_000).unwrap().is_empty());
        assert_eq!(
            add(c, pasta.id, 60_000).unwrap().unwrap().ends_at_ms,
            Some(661_000)
        );
        assert!(pause(c, pasta.id, 361_000).unwrap());
        assert!(!pause(c, pasta.id, 361_000).unwrap());
        assert_eq!(next_end(c).unwrap(), None, "paused timers never end");
        assert!(resume(c, pasta.id, 1_000_000).unwrap());
        assert_eq!(next_end(c).unwrap(), Some(1_300_000));
        assert!(cancel(c, pasta.id).unwrap());
        assert!(!cancel(c, pasta.id).unwrap());
        start(c, None, "ko", 1, 0).unwrap();
        start(c, None, "ko", 1, 0).unwrap();
        assert_eq!(cancel_all(c).unwrap(), 2);
    }
}
