//! Incoming Matrix messages: `/sync` from a token stored in the state database, so nothing is
//! missed across restarts and nothing is stored twice. Only messages from contacts are kept;
//! a contact's invitation to a room is accepted (a stranger's is not), and the room becomes
//! the contact's direct room. The daemon long-polls in a thread; "read my messages" also
//! syncs once, briefly, so `sori ask` works without a daemon.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::SendError;
use super::inbox::{self, Incoming};
use super::matrix::{MatrixBackend, enc};
use crate::config::messaging::Contact;
use crate::store::Store;

/// A message older than this when Sori first sees it is history, not news (a first sync, or a
/// room joined late, brings old messages).
pub const MAX_AGE_MS: i64 = 24 * 3600 * 1000;
/// How long the daemon's /sync waits for something to happen.
const LONG_POLL_MS: u64 = 30_000;
/// Backoff between failed syncs.
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Only messages, no presence, account data or typing notices.
const FILTER: &str = r#"{"presence":{"not_types":["*"]},"account_data":{"not_types":["*"]},"room":{"timeline":{"limit":20},"ephemeral":{"not_types":["*"]},"state":{"lazy_load_members":true}}}"#;

/// Called with the messages each sync found new (the daemon announces them).
pub type OnNew = Box<dyn Fn(&[Incoming]) + Send>;

pub struct MatrixInbox {
    client: Arc<MatrixBackend>,
    pub db: Arc<Mutex<Store>>,
    /// Matrix user id → contact name.
    senders: BTreeMap<String, String>,
}

/// What one /sync response holds for Sori.
#[derive(Debug, Default, PartialEq)]
pub struct Synced {
    pub next_batch: String,
    /// Messages from contacts, not older than [`MAX_AGE_MS`].
    pub messages: Vec<Incoming>,
    /// Rooms a contact invited Sori to: (room, contact's user id).
    pub invites: Vec<(String, String)>,
}

/// Picks what matters out of a /sync response.
pub fn parse_sync(v: &Value, me: &str, senders: &BTreeMap<String, String>, now_ms: i64) -> Synced {
    let mut out = Synced {
        next_batch: v["next_batch"].as_str().unwrap_or_default().to_string(),
        ..Synced::default()
    };
    if let Some(rooms) = v["rooms"]["join"].as_object() {
        for (room, r) in rooms {
            for e in r["timeline"]["events"].as_array().into_iter().flatten() {
                if let Some(m) = message(room, e, me, senders, now_ms) {
                    out.messages.push(m);
                }
            }
        }
    }
    if let Some(rooms) = v["rooms"]["invite"].as_object() {
        for (room, r) in rooms {
            let invite = r["invite_state"]["events"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|e| {
                    e["type"] == "m.room.member"
                        && e["state_key"] == me
                        && e["content"]["membership"] == "invite"
                });
            match invite.and_then(|e| e["sender"].as_str()) {
                Some(from) if senders.contains_key(from) => {
                    out.invites.push((room.clone(), from.to_string()));
                }
                Some(from) => {
                    tracing::info!(%room, %from, "ignoring an invitation from a non-contact")
                }
                None => {}
            }
        }
    }
    out
}

fn message(
    room: &str,
    e: &Value,
    me: &str,
    senders: &BTreeMap<String, String>,
    now_ms: i64,
) -> Option<Incoming> {
    let sender = e["sender"].as_str()?;
    if e["type"] != "m.room.message" || sender == me {
        return None;
    }
    let contact = senders.get(sender)?;
    let c = &e["content"];
    // Edits repeat a message Sori already has; images and files cannot be read aloud.
    if c["m.relates_to"]["rel_type"] == "m.replace"
        || !matches!(
            c["msgtype"].as_str(),
            Some("m.text" | "m.notice" | "m.emote")
        )
    {
        return None;
    }
    let ts_ms = e["origin_server_ts"].as_i64()?;
    if now_ms - ts_ms > MAX_AGE_MS {
        return None;
    }
    Some(Incoming {
        id: 0,
        event_id: e["event_id"].as_str()?.to_string(),
        room: room.to_string(),
        sender: sender.to_string(),
        contact: contact.clone(),
        body: strip_reply_fallback(c["body"].as_str()?),
        ts_ms,
    })
}

/// A reply's body starts with the quoted original ("> <@mom:hs> ...") and a blank line.
fn strip_reply_fallback(body: &str) -> String {
    if !body.starts_with("> ") {
        return body.trim().to_string();
    }
    body.split_once("\n\n")
        .map_or(body, |(_, rest)| rest)
        .trim()
        .to_string()
}

impl MatrixInbox {
    pub fn new(
        client: Arc<MatrixBackend>,
        db: Arc<Mutex<Store>>,
        contacts: &BTreeMap<String, Contact>,
    ) -> MatrixInbox {
        let senders = contacts
            .iter()
            .filter(|(_, c)| c.backend == "matrix")
            .map(|(name, c)| (c.address.clone(), name.clone()))
            .collect();
        MatrixInbox {
            client,
            db,
            senders,
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Store>, SendError> {
        self.db
            .lock()
            .map_err(|_| SendError::Permanent("state database lock poisoned".into()))
    }

    /// One /sync, waiting up to `wait_ms` for news (0: answer at once); joins contacts'
    /// invitations and stores their messages. Returns the messages that are new.
    ///
    /// # Errors
    /// The homeserver could not be reached, or refused Sori's credentials.
    pub fn sync(&self, wait_ms: u64, now_ms: i64) -> Result<Vec<Incoming>, SendError> {
        let (mut new, joined) = self.sync_once(wait_ms, now_ms)?;
        // A room joined just now shows its messages in the next sync: fetch them now, so
        // "read my messages" right after a contact's first message reads it.
        if joined {
            new.extend(self.sync_once(0, now_ms)?.0);
        }
        if !new.is_empty() {
            tracing::info!(count = new.len(), "new Matrix messages");
        }
        Ok(new)
    }

    /// One /sync; also whether a room was joined.
    fn sync_once(&self, wait_ms: u64, now_ms: i64) -> Result<(Vec<Incoming>, bool), SendError> {
        let db_err = |e: crate::store::StoreError| SendError::Permanent(e.to_string());
        let since = inbox::sync_token(self.lock()?.conn()).map_err(db_err)?;
        let mut path = format!("/sync?timeout={wait_ms}&filter={}", enc(FILTER));
        if let Some(s) = &since {
            path.push_str(&format!("&since={}", enc(s)));
        }
        let limit = Duration::from_millis(wait_ms) + self.client.timeout();
        let v = self
            .client
            .authed(Method::GET, &path, None, "sync", Some(limit))?;
        let synced = parse_sync(&v, self.client.user(), &self.senders, now_ms);
        let mut joined = false;
        for (room, from) in &synced.invites {
            joined |= self.join(room, from);
        }
        let mut new = Vec::new();
        let mut guard = self.lock()?;
        let tx = guard.conn().transaction().map_err(|e| db_err(e.into()))?;
        for m in synced.messages {
            if inbox::store(&tx, &m).map_err(db_err)? {
                new.push(m);
            }
        }
        if !synced.next_batch.is_empty() {
            inbox::set_sync_token(&tx, &synced.next_batch).map_err(db_err)?;
        }
        tx.commit().map_err(|e| db_err(e.into()))?;
        Ok((new, joined))
    }

    /// Joins a contact's room and records it as their direct room, so replies go there too.
    fn join(&self, room: &str, from: &str) -> bool {
        let path = format!("/rooms/{}/join", enc(room));
        match self
            .client
            .authed(Method::POST, &path, Some(&json!({})), "join", None)
        {
            Ok(_) => {
                tracing::info!(%room, %from, "joined a contact's room");
                if let Err(e) = self.client.add_direct(from, room) {
                    tracing::warn!("could not record {room} as the direct room with {from}: {e}");
                }
                true
            }
            Err(e) => {
                tracing::warn!(%room, "could not join a contact's room: {e}");
                false
            }
        }
    }

    /// Sends the read receipts that are due (messages read aloud); the rest wait for the next
    /// call.
    pub fn send_receipts(&self) {
        let due = match self.lock().map(|mut d| inbox::receipts_due(d.conn())) {
            Ok(Ok(d)) => d,
            _ => return,
        };
        for (room, event) in due {
            let path = format!("/rooms/{}/receipt/m.read/{}", enc(&room), enc(&event));
            match self
                .client
                .authed(Method::POST, &path, Some(&json!({})), "receipt", None)
            {
                Ok(_) => {
                    if let Ok(mut d) = self.lock() {
                        let _ = inbox::receipt_sent(d.conn(), &room, &event);
                    }
                }
                Err(e) => {
                    tracing::debug!("read receipt not sent yet: {e}");
                    return;
                }
            }
        }
    }

    /// The daemon's thread: long-polls /sync, hands new messages to `on_new` (the
    /// announcement), and sends due read receipts; backs off while the homeserver is away.
    pub fn spawn(self: Arc<Self>, on_new: OnNew) {
        let spawned = std::thread::Builder::new()
            .name("sori-inbox".into())
            .spawn(move || {
                let mut backoff = FIRST_BACKOFF;
                loop {
                    let now = chrono::Utc::now().timestamp_millis();
                    match self.sync(LONG_POLL_MS, now) {
                        Ok(new) => {
                            backoff = FIRST_BACKOFF;
                            if !new.is_empty() {
                                on_new(&new);
                            }
                            self.send_receipts();
                            continue;
                        }
                        Err(SendError::Temporary(e)) if backoff == FIRST_BACKOFF => {
                            tracing::warn!("cannot reach the Matrix homeserver: {e}");
                        }
                        Err(e) => tracing::debug!("Matrix sync failed again: {e}"),
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the Matrix inbox thread: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn senders() -> BTreeMap<String, String> {
        [("@mom:hs".to_string(), "Mom".to_string())].into()
    }

    fn event(sender: &str, id: &str, ts: i64, content: Value) -> Value {
        json!({"type": "m.room.message", "sender": sender, "event_id": id,
               "origin_server_ts": ts, "content": content})
    }

    #[test]
    fn only_contacts_text_messages_and_invitations_are_taken() {
        let now = 10 * MAX_AGE_MS;
        let text = |b: &str| json!({"msgtype": "m.text", "body": b});
        let v = json!({
            "next_batch": "s9",
            "rooms": {
                "join": {"!dm:hs": {"timeline": {"events": [
                    event("@mom:hs", "$1", now - 1000, text("I'll be late")),
                    event("@sori:hs", "$2", now - 900, text("mine")),
                    event("@spam:hs", "$3", now - 800, text("buy now")),
                    event("@mom:hs", "$4", now - 700, json!({"msgtype": "m.image", "body": "x.jpg"})),
                    event("@mom:hs", "$5", now - 2 * MAX_AGE_MS, text("old news")),
                    event("@mom:hs", "$6", now - 600, json!({"msgtype": "m.text", "body": "* fixed",
                        "m.relates_to": {"rel_type": "m.replace", "event_id": "$1"}})),
                    event("@mom:hs", "$7", now - 500,
                        text("> <@sori:hs> are you home?\n\nyes, at home")),
                ]}}},
                "invite": {
                    "!new:hs": {"invite_state": {"events": [{"type": "m.room.member",
                        "state_key": "@sori:hs", "sender": "@mom:hs",
                        "content": {"membership": "invite"}}]}},
                    "!spam:hs": {"invite_state": {"events": [{"type": "m.room.member",
                        "state_key": "@sori:hs", "sender": "@spam:hs",
                        "content": {"membership": "invite"}}]}}
                }
            }
        });
        let s = parse_sync(&v, "@sori:hs", &senders(), now);
        assert_eq!(s.next_batch, "s9");
        let got: Vec<(&str, &str)> = s
            .messages
            .iter()
            .map(|m| (m.event_id.as_str(), m.body.as_str()))
            .collect();
        assert_eq!(got, [("$1", "I'll be late"), ("$7", "yes, at home")]);
        assert_eq!(s.messages[0].contact, "Mom");
        assert_eq!(s.invites, [("!new:hs".to_string(), "@mom:hs".to_string())]);
    }
}
