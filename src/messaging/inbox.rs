//! The inbox: Matrix messages from contacts, kept in the state database until they are read
//! aloud. A message is stored once (the event id is unique), read once, and its read receipt
//! reaches the homeserver even if the network was down when it was read.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incoming {
    /// 0 until stored.
    pub id: i64,
    pub event_id: String,
    pub room: String,
    /// The sender's Matrix user id.
    pub sender: String,
    /// The contact's name as configured.
    pub contact: String,
    pub body: String,
    /// When the sender sent it (the homeserver's timestamp).
    pub ts_ms: i64,
}

/// Stores `m` unless it is already there; true if it is new.
///
/// # Errors
/// Database errors.
pub fn store(conn: &Connection, m: &Incoming) -> Result<bool, StoreError> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO inbox (event_id, room, sender, contact, body, ts_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![m.event_id, m.room, m.sender, m.contact, m.body, m.ts_ms],
    )?;
    Ok(n == 1)
}

/// Unread messages, oldest first, at most `limit`.
///
/// # Errors
/// Database errors.
pub fn unread(conn: &Connection, limit: usize) -> Result<Vec<Incoming>, StoreError> {
    let mut st = conn.prepare(
        "SELECT id, event_id, room, sender, contact, body, ts_ms FROM inbox
         WHERE read_ms IS NULL ORDER BY ts_ms, id LIMIT ?1",
    )?;
    let rows = st.query_map([limit as i64], |r| {
        Ok(Incoming {
            id: r.get(0)?,
            event_id: r.get(1)?,
            room: r.get(2)?,
            sender: r.get(3)?,
            contact: r.get(4)?,
            body: r.get(5)?,
            ts_ms: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many messages are unread.
///
/// # Errors
/// Database errors.
pub fn count_unread(conn: &Connection) -> Result<usize, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM inbox WHERE read_ms IS NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// Marks messages as read aloud (their receipts are then due).
///
/// # Errors
/// Database errors.
pub fn mark_read(conn: &mut Connection, ids: &[i64], now_ms: i64) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    for id in ids {
        tx.execute(
            "UPDATE inbox SET read_ms = ?2 WHERE id = ?1 AND read_ms IS NULL",
            params![id, now_ms],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Per room, the newest read message whose receipt the homeserver does not have yet:
/// (room, event id). One receipt covers everything before it in the room.
///
/// # Errors
/// Database errors.
pub fn receipts_due(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut st = conn.prepare(
        "SELECT room, event_id FROM inbox AS a
         WHERE read_ms IS NOT NULL AND receipt = 0 AND ts_ms = (
             SELECT max(ts_ms) FROM inbox AS b
             WHERE b.room = a.room AND b.read_ms IS NOT NULL AND b.receipt = 0)
         GROUP BY room",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The homeserver has the receipt for `event_id` in `room`: everything read there is done.
///
/// # Errors
/// Database errors.
pub fn receipt_sent(conn: &Connection, room: &str, event_id: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE inbox SET receipt = 1 WHERE room = ?1 AND read_ms IS NOT NULL
         AND ts_ms <= (SELECT ts_ms FROM inbox WHERE event_id = ?2)",
        params![room, event_id],
    )?;
    Ok(())
}

/// Where the next /sync starts (`None`: never synced).
///
/// # Errors
/// Database errors.
pub fn sync_token(conn: &Connection) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT next_batch FROM matrix_sync WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Records where the next /sync starts.
///
/// # Errors
/// Database errors.
pub fn set_sync_token(conn: &Connection, token: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO matrix_sync (id, next_batch) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET next_batch = excluded.next_batch",
        [token],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn msg(event: &str, room: &str, ts: i64) -> Incoming {
        Incoming {
            id: 0,
            event_id: event.into(),
            room: room.into(),
            sender: "@mom:hs".into(),
            contact: "Mom".into(),
            body: format!("body {event}"),
            ts_ms: ts,
        }
    }

    #[test]
    fn messages_are_stored_once_read_once_and_receipted_per_room() {
        let mut s = Store::memory().unwrap();
        let c = s.conn();
        assert!(store(c, &msg("$1", "!a", 10)).unwrap());
        assert!(!store(c, &msg("$1", "!a", 10)).unwrap(), "stored twice");
        store(c, &msg("$2", "!a", 20)).unwrap();
        store(c, &msg("$3", "!b", 15)).unwrap();
        let u = unread(c, 10).unwrap();
        assert_eq!(
            u.iter().map(|m| m.event_id.as_str()).collect::<Vec<_>>(),
            ["$1", "$3", "$2"]
        );
        assert_eq!(count_unread(c).unwrap(), 3);
        assert!(receipts_due(c).unwrap().is_empty());
        let ids: Vec<i64> = u.iter().map(|m| m.id).collect();
        mark_read(c, &ids, 100).unwrap();
        assert_eq!(count_unread(c).unwrap(), 0);
        let mut due = receipts_due(c).unwrap();
        due.sort();
        assert_eq!(
            due,
            [("!a".into(), "$2".into()), ("!b".into(), "$3".into())]
        );
        receipt_sent(c, "!a", "$2").unwrap();
        assert_eq!(receipts_due(c).unwrap(), [("!b".into(), "$3".into())]);
        assert_eq!(sync_token(c).unwrap(), None);
        set_sync_token(c, "s1").unwrap();
        set_sync_token(c, "s2").unwrap();
        assert_eq!(sync_token(c).unwrap().as_deref(), Some("s2"));
    }
}
