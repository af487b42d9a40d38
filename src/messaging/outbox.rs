//! The durable outbox: a confirmed message is a row here, written in a transaction before
//! Sori says it is sent or queued. The delivery worker takes due rows, sends them, and marks
//! them sent, or schedules a retry with exponential backoff. Each row carries an idempotency
//! key that every backend passes on (Matrix transaction id, webhook header, email
//! Message-ID), so a retry after a crash between "sent" and "marked" is not a second message.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::store::StoreError;

/// First retry after this long; doubled each time up to [`MAX_BACKOFF_MS`].
pub const FIRST_BACKOFF_MS: i64 = 2_000;
pub const MAX_BACKOFF_MS: i64 = 15 * 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Queued,
    Sent,
    /// The backend refused it for good (unknown address, bad credentials): not retried.
    Failed,
}

impl State {
    fn from_str(s: &str) -> State {
        match s {
            "sent" => State::Sent,
            "failed" => State::Failed,
            _ => State::Queued,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sent => "sent",
            State::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: i64,
    /// Idempotency key: unique per confirmed message, stable across retries.
    pub key: String,
    /// The contact's name as configured.
    pub contact: String,
    pub backend: String,
    pub address: String,
    pub body: String,
    pub lang: String,
    pub created_ms: i64,
    pub state: State,
    pub attempts: i64,
    pub next_ms: i64,
    pub last_error: Option<String>,
    pub sent_ms: Option<i64>,
}

const COLUMNS: &str = "id, key, contact, backend, address, body, lang, created_ms, state, attempts, next_ms, last_error, sent_ms";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        key: r.get(1)?,
        contact: r.get(2)?,
        backend: r.get(3)?,
        address: r.get(4)?,
        body: r.get(5)?,
        lang: r.get(6)?,
        created_ms: r.get(7)?,
        state: State::from_str(&r.get::<_, String>(8)?),
        attempts: r.get(9)?,
        next_ms: r.get(10)?,
        last_error: r.get(11)?,
        sent_ms: r.get(12)?,
    })
}

/// A fresh idempotency key: time and randomness from the OS, no extra crate.
pub fn new_key(now_ms: i64) -> String {
    let mut bytes = [0u8; 8];
    // /dev/urandom is always there on Linux; the time alone still makes keys unique per
    // message in practice if it is not.
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    format!("sori-{now_ms:x}-{}", hex::encode(bytes))
}

/// What to queue.
pub struct New<'a> {
    pub contact: &'a str,
    pub backend: &'a str,
    pub address: &'a str,
    pub body: &'a str,
    pub lang: &'a str,
}

/// Queues a message for delivery now; returns its row. Committed when this returns.
///
/// # Errors
/// Database errors (the caller must then not say it was sent).
pub fn enqueue(c: &mut Connection, m: &New, now_ms: i64) -> Result<Message, StoreError> {
    let tx = c.transaction()?;
    let key = new_key(now_ms);
    tx.execute(
        "INSERT INTO outbox (key, contact, backend, address, body, lang, created_ms, state, attempts, next_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', 0, ?7)",
        params![key, m.contact, m.backend, m.address, m.body, m.lang, now_ms],
    )?;
    let id = tx.last_insert_rowid();
    tx.commit()?;
    get(c, id)?.ok_or(StoreError::Sql(rusqlite::Error::QueryReturnedNoRows))
}

/// One message by id.
///
/// # Errors
/// Database errors.
pub fn get(c: &Connection, id: i64) -> Result<Option<Message>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
        [id],
        row,
    )
    .optional()?)
}

/// Queued messages due at `now_ms`, oldest first.
///
/// # Errors
/// Database errors.
pub fn due(c: &Connection, now_ms: i64) -> Result<Vec<Message>, StoreError> {
    let mut s = c.prepare(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE state = 'queued' AND next_ms <= ?1 ORDER BY id"
    ))?;
    let rows = s.query_map([now_ms], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// When the next queued message is due, if any.
///
/// # Errors
/// Database errors.
pub fn next_due(c: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(c.query_row(
        "SELECT min(next_ms) FROM outbox WHERE state = 'queued'",
        [],
        |r| r.get(0),
    )?)
}

/// Marks a message delivered.
///
/// # Errors
/// Database errors.
pub fn mark_sent(c: &Connection, id: i64, now_ms: i64) -> Result<(), StoreError> {
    c.execute(
        "UPDATE outbox SET state = 'sent', sent_ms = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
        params![id, now_ms],
    )?;
    Ok(())
}

/// The wait before retry number `attempts` (1 = the first retry).
pub fn backoff_ms(attempts: i64) -> i64 {
    let shift = (attempts - 1).clamp(0, 20) as u32;
    FIRST_BACKOFF_MS
        .saturating_mul(1i64 << shift)
        .min(MAX_BACKOFF_MS)
}

/// Records a failed attempt: retried later (`permanent: false`) or given up on.
///
/// # Errors
/// Database errors.
pub fn mark_failed(
    c: &Connection,
    m: &Message,
    error: &str,
    permanent: bool,
    now_ms: i64,
) -> Result<(), StoreError> {
    let attempts = m.attempts + 1;
    let state = if permanent {
        State::Failed
    } else {
        State::Queued
    };
    c.execute(
        "UPDATE outbox SET state = ?2, attempts = ?3, next_ms = ?4, last_error = ?5 WHERE id = ?1",
        params![
            m.id,
            state.as_str(),
            attempts,
            now_ms + backoff_ms(attempts),
            error
        ],
    )?;
    Ok(())
}

/// The most recent messages, newest first ("did my message go out?").
///
/// # Errors
/// Database errors.
pub fn recent(c: &Connection, limit: usize) -> Result<Vec<Message>, StoreError> {
    let mut s = c.prepare(&format!(
        "SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?1"
    ))?;
    let rows = s
        .query_map([limit as i64], row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_retry_and_send() {
        let mut store = crate::store::Store::memory().unwrap();
        let c = store.conn();
        let m = enqueue(
            c,
            &New {
                contact: "Mom",
                backend: "webhook",
                address: "family",
                body: "I'll be late",
                lang: "en",
            },
            1_000,
        )
        .unwrap();
        assert_eq!(m.state, State::Queued);
        assert_eq!(due(c, 1_000).unwrap().len(), 1);
        mark_failed(c, &m, "connection refused", false, 1_000).unwrap();
        assert!(due(c, 2_999).unwrap().is_empty(), "backs off");
        let again = due(c, 3_000).unwrap();
        assert_eq!(again[0].attempts, 1);
        assert_eq!(again[0].key, m.key, "the same key on every attempt");
        mark_sent(c, m.id, 3_100).unwrap();
        assert!(due(c, i64::MAX).unwrap().is_empty());
        assert_eq!(recent(c, 5).unwrap()[0].state, State::Sent);
        assert_eq!(next_due(c).unwrap(), None);
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert_eq!(backoff_ms(5), 32_000);
        assert_eq!(backoff_ms(40), MAX_BACKOFF_MS);
        assert_ne!(new_key(1), new_key(1));
    }
}
