//! "Read my messages": new Matrix messages from contacts, oldest first, a few at a time. The
//! inbox is synced first (briefly: an unreachable homeserver must not hold up the answer);
//! what the daemon's sync already stored is read even when offline. A message is marked read
//! once it is in the reply, and its read receipt follows in the background.

use std::time::Duration;

use super::{Messaging, READ, with_stop};
use crate::messaging::inbox;
use crate::skill::{Ctx, SkillError, SkillReply};

/// At most this many messages per answer; "read my messages" again reads on.
const PER_ANSWER: usize = 5;
/// How long the on-demand sync may take before Sori answers from what it has.
const SYNC_WAIT: Duration = Duration::from_secs(3);

pub(super) fn read(m: &mut Messaging, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
    let matrix_contacts = m.contacts.values().any(|c| c.backend == "matrix");
    if !matrix_contacts {
        return Ok(SkillReply::say(ctx.say(READ, "no_inbox", &[])?));
    }
    let reached = m
        .inbox
        .as_ref()
        .map(|inbox| sync_briefly(inbox.clone(), ctx.now_ms));
    let db = m.outbox.db.clone();
    let (unread, total) = {
        let mut d = db
            .lock()
            .map_err(|_| SkillError::Failed("state database lock poisoned".into()))?;
        let fail = |e: crate::store::StoreError| SkillError::Failed(e.to_string());
        let unread = inbox::unread(d.conn(), PER_ANSWER).map_err(fail)?;
        (unread, inbox::count_unread(d.conn()).map_err(fail)?)
    };
    if unread.is_empty() {
        let key = if reached == Some(false) {
            "offline"
        } else {
            "none"
        };
        return Ok(SkillReply::say(ctx.say(READ, key, &[])?));
    }
    let mut speech = if total == 1 {
        ctx.say(READ, "intro_one", &[])?
    } else {
        ctx.say(READ, "intro_many", &[("count", total.to_string())])?
    };
    for msg in &unread {
        let vars = [
            ("contact", m.display(ctx.lang, &msg.contact)),
            ("message", with_stop(&msg.body)),
        ];
        speech.push(' ');
        speech.push_str(&ctx.say(READ, "message", &vars)?);
    }
    if total > unread.len() {
        let more = (total - unread.len()).to_string();
        speech.push(' ');
        speech.push_str(&ctx.say(READ, "more", &[("count", more)])?);
    }
    let ids: Vec<i64> = unread.iter().map(|u| u.id).collect();
    if let Ok(mut d) = db.lock()
        && let Err(e) = inbox::mark_read(d.conn(), &ids, ctx.now_ms)
    {
        tracing::warn!("messages read but not marked read: {e}");
    }
    if let Some(inbox) = m.inbox.clone() {
        // Receipts are a courtesy to the sender: never worth delaying the answer for.
        let _ = std::thread::Builder::new()
            .name("sori-receipts".into())
            .spawn(move || inbox.send_receipts());
    }
    Ok(SkillReply::say(speech))
}

/// One /sync that answers at once, given [`SYNC_WAIT`]; false if the homeserver could not be
/// reached in time (the sync still finishes, and stores what it got, in the background).
fn sync_briefly(
    inbox: std::sync::Arc<crate::messaging::matrix_inbox::MatrixInbox>,
    now_ms: i64,
) -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("sori-sync".into())
        .spawn(move || {
            let r = inbox.sync(0, now_ms);
            if let Err(e) = &r {
                tracing::warn!("cannot fetch new messages: {e}");
            }
            let _ = tx.send(r.is_ok());
        });
    spawned.is_ok() && rx.recv_timeout(SYNC_WAIT).unwrap_or(false)
}

/// What Sori says, with the chime, when messages arrive: in the language they are written in
/// (a Korean message gets a Korean announcement), naming who sent them.
pub fn announcement(
    responses: &crate::skill::responses::Responses,
    contacts: &std::collections::BTreeMap<String, crate::config::messaging::Contact>,
    new: &[inbox::Incoming],
) -> Option<crate::pipeline::Announcement> {
    let first = new.first()?;
    let lang = crate::lang::detect(&first.body);
    let mut names: Vec<String> = Vec::new();
    for m in new {
        let n = super::display(contacts, lang, &m.contact);
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let vars = [
        ("contact", super::join_all(lang, names)),
        ("count", new.len().to_string()),
    ];
    let key = if new.len() == 1 {
        "announce_one"
    } else {
        "announce_many"
    };
    let speech = responses
        .render(lang, READ, key, &vars, true)
        .map_err(|e| tracing::error!("no announcement for new messages: {e}"))
        .ok()?;
    Some(crate::pipeline::Announcement {
        key: format!("message:{}", first.event_id),
        speech,
        language: lang.to_string(),
        ring: false,
        chime: true,
        audio: None,
    })
}
