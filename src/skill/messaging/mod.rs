//! The messaging skill: "send a message to Mom saying I'll be late" / "엄마한테 늦는다고 문자
//!보내 줘". Sori asks for what is missing (who, what), reads the message back, and queues it
//! only on a yes; "no" lets the user say it again, "cancel" drops it. A confirmed message is
//! in the outbox (committed) before Sori says anything about it; the delivery thread sends it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Timelike;

use crate::config::messaging::Contact;
use crate::intent::{Recognized, fuzzy};
use crate::messaging::matrix_inbox::MatrixInbox;
use crate::messaging::outbox::{self, State};
use crate::messaging::worker::Outbox;
use crate::skill::{Answer, Ctx, Follow, Skill, SkillError, SkillReply};
use crate::values::Value;

pub const SEND: &str = "SoriSendMessage";
pub const STATUS: &str = "SoriMessageStatus";
pub const READ: &str = "SoriReadMessages";
/// The run-time list of contact names and aliases.
pub const LIST: &str = "message_contact";

/// How long Sori waits for the first delivery attempt before answering "queued".
const DELIVERY_WAIT: Duration = Duration::from_millis(2500);
/// A heard name this close to a contact is offered as "did you mean".
const SUGGEST_SCORE: f32 = 0.45;

pub struct Messaging {
    contacts: BTreeMap<String, Contact>,
    outbox: Outbox,
    inbox: Option<Arc<MatrixInbox>>,
    lists_sent: bool,
}

impl Messaging {
    pub fn new(
        contacts: BTreeMap<String, Contact>,
        outbox: Outbox,
        inbox: Option<Arc<MatrixInbox>>,
    ) -> Messaging {
        Messaging {
            contacts,
            outbox,
            inbox,
            lists_sent: false,
        }
    }

    /// The contact a name (or alias) means: exactly, or fuzzily above the list threshold.
    fn resolve(&self, heard: &str) -> Result<(&String, &Contact), Option<String>> {
        let entries = self.entries();
        let mut l = fuzzy::RuntimeLists::default();
        l.set(LIST, entries);
        let list = l.get(LIST).unwrap_or_default();
        if let Some(hit) = fuzzy::best(heard, list) {
            if let Some(c) = self.contacts.get_key_value(&hit.value) {
                return Ok(c);
            }
        }
        // Not close enough to take; close enough to offer?
        let best = self
            .entries()
            .into_iter()
            .map(|(spoken, name)| (fuzzy::similarity(heard, &spoken), name))
            .filter(|(s, _)| *s >= SUGGEST_SCORE)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        Err(best.map(|(_, n)| n))
    }

    /// How to say a contact in `lang` (see [`display`]).
    fn display(&self, lang: &str, name: &str) -> String {
        display(&self.contacts, lang, name)
    }

    fn entries(&self) -> Vec<(String, String)> {
        self.contacts
            .iter()
            .flat_map(|(name, c)| {
                std::iter::once((name.clone(), name.clone()))
                    .chain(c.aliases.iter().map(move |a| (a.clone(), name.clone())))
            })
            .collect()
    }

    fn send(&mut self, i: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        if self.contacts.is_empty() {
            return Ok(SkillReply::say(ctx.say(SEND, "no_contacts", &[])?));
        }
        let Some(heard) = i.slot("contact").and_then(Value::as_text) else {
            return Ok(SkillReply::ask(
                ctx.say(SEND, "ask_contact", &[])?,
                "contact",
                None,
            ));
        };
        let (name, contact) = match self.resolve(heard) {
            Ok((n, c)) => (n.clone(), c.clone()),
            Err(suggestion) => {
                let name = heard.trim().to_string();
                // 민수라는 / 지훈이라는
                let called = format!(
                    "{name}{}",
                    if crate::lang::ko::has_batchim(&name) {
                        "이라는"
                    } else {
                        "라는"
                    }
                );
                let mut vars = vec![("name", name), ("name_called", called)];
                let reply = match suggestion {
                    Some(s) => {
                        let shown = self.display(ctx.lang, &s);
                        vars.push(("suggestion", shown));
                        ctx.say(SEND, "suggest_contact", &vars)?
                    }
                    None => {
                        let names = self
                            .contacts
                            .keys()
                            .map(|n| self.display(ctx.lang, n))
                            .collect();
                        vars.push(("known", join(ctx.lang, names)));
                        ctx.say(SEND, "unknown_contact", &vars)?
                    }
                };
                return Ok(SkillReply::say(reply));
            }
        };
        // As it was said (whisper's case and punctuation), not as the matcher saw it.
        let body = i.slot("message").and_then(Value::as_text).map(|b| {
            clean_body(&crate::intent::normalize::original_span(&i.text, b).unwrap_or(b.into()))
        });
        let Some(body) = body else {
            return Ok(dictate(ctx.say(SEND, "ask_message", &[])?));
        };
        if body.is_empty() {
            return Ok(dictate(ctx.say(SEND, "ask_message", &[])?));
        }
        match ctx.answer {
            None => {
                let vars = [
                    ("contact", self.display(ctx.lang, &name)),
                    ("message", with_stop(&body)),
                ];
                Ok(SkillReply::confirm(ctx.say(SEND, "confirm", &vars)?))
            }
            Some(Answer::No) => Ok(dictate(ctx.say(SEND, "redictate", &[])?)),
            Some(Answer::Yes) => self.queue(&name, &contact, &body, ctx),
        }
    }

    /// Writes the message to the outbox (committed), then gives the delivery thread a moment
    /// so the answer can be "sent" when it was.
    fn queue(
        &mut self,
        name: &str,
        c: &Contact,
        body: &str,
        ctx: &mut Ctx,
    ) -> Result<SkillReply, SkillError> {
        let new = outbox::New {
            contact: name,
            backend: &c.backend,
            address: &c.address,
            body,
            lang: ctx.lang,
        };
        let queued = self
            .outbox
            .db
            .lock()
            .map_err(|_| SkillError::Failed("state database lock poisoned".into()))
            .and_then(|mut db| {
                outbox::enqueue(db.conn(), &new, ctx.now_ms)
                    .map_err(|e| SkillError::Failed(e.to_string()))
            });
        let m = match queued {
            Ok(m) => m,
            Err(e) => {
                tracing::error!("message not queued: {e}");
                return Ok(SkillReply::say(ctx.say(SEND, "failed", &[])?));
            }
        };
        tracing::info!(id = m.id, contact = %name, backend = %c.backend, "message queued");
        self.outbox.poke();
        let deadline = Instant::now() + DELIVERY_WAIT;
        while self.outbox.is_running() && Instant::now() < deadline {
            let state = self
                .outbox
                .db
                .lock()
                .ok()
                .and_then(|mut d| outbox::get(d.conn(), m.id).ok().flatten())
                .map(|m| (m.state, m.attempts));
            match state {
                Some((State::Sent, _)) => {
                    return Ok(SkillReply::say(ctx.say(SEND, "sent", &[])?));
                }
                // Tried and failed: it stays queued and is retried.
                Some((_, n)) if n > 0 => break,
                _ => std::thread::sleep(Duration::from_millis(30)),
            }
        }
        Ok(SkillReply::say(ctx.say(SEND, "queued", &[])?))
    }

    fn status(&self, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let last = self
            .outbox
            .db
            .lock()
            .ok()
            .and_then(|mut d| outbox::recent(d.conn(), 1).ok())
            .and_then(|v| v.into_iter().next());
        let Some(m) = last else {
            return Ok(SkillReply::say(ctx.say(STATUS, "none", &[])?));
        };
        let contact = ("contact", m.contact.clone());
        let reply = match m.state {
            State::Sent => {
                let t = ctx.zone.local(m.sent_ms.unwrap_or(m.created_ms));
                let time =
                    crate::skill::builtin::clock::spoken_time(ctx.lang, t.hour(), t.minute());
                ctx.say(STATUS, "sent", &[contact, ("time", time)])?
            }
            State::Queued => ctx.say(STATUS, "queued", &[contact])?,
            State::Failed => {
                let error = m.last_error.unwrap_or_default();
                ctx.say(STATUS, "failed", &[contact, ("error", error)])?
            }
        };
        Ok(SkillReply::say(reply))
    }
}

mod read;
pub use read::announcement;

/// How to say a contact in `lang`: in Korean its first Hangul alias ("엄마" for Mom).
pub fn display(contacts: &BTreeMap<String, Contact>, lang: &str, name: &str) -> String {
    let hangul = |s: &str| s.chars().any(crate::lang::ko::is_hangul);
    if lang == "ko" && !hangul(name) {
        if let Some(a) = contacts
            .get(name)
            .and_then(|c| c.aliases.iter().find(|a| hangul(a)))
        {
            return a.clone();
        }
    }
    name.to_string()
}

/// Asks for the message: the answer is taken as said, whatever it sounds like.
fn dictate(speech: String) -> SkillReply {
    SkillReply {
        speech,
        action: None,
        follow: Follow::Dictate {
            slot: "message".into(),
        },
    }
}

/// The dictated text as it will be sent: trimmed, first letter capitalised.
fn clean_body(s: &str) -> String {
    let t = s.trim().trim_start_matches([',', ':']).trim();
    let mut c = t.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Read back with a full stop, so "Send it?" is a new sentence.
pub(super) fn with_stop(s: &str) -> String {
    if s.ends_with(['.', '!', '?', '。']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// "Dad, Jisoo or Mom" (choices).
fn join(lang: &str, names: Vec<String>) -> String {
    join_with(names, if lang == "ko" { ", " } else { " or " })
}

/// "Dad, Jisoo and Mom" (all of them).
fn join_all(lang: &str, names: Vec<String>) -> String {
    join_with(names, if lang == "ko" { ", " } else { " and " })
}

fn join_with(mut names: Vec<String>, sep: &str) -> String {
    let last = names.pop().unwrap_or_default();
    if names.is_empty() {
        return last;
    }
    format!("{}{sep}{last}", names.join(", "))
}

impl Skill for Messaging {
    fn id(&self) -> &str {
        "messaging"
    }

    fn intents(&self) -> Vec<String> {
        vec![SEND.into(), STATUS.into(), READ.into()]
    }

    fn describe(&self, lang: &str) -> Option<String> {
        Some(match lang {
            "ko" => "메시지 보내기".into(),
            _ => "send messages".into(),
        })
    }

    fn handle(&mut self, i: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        match i.intent.as_str() {
            SEND => self.send(i, ctx),
            STATUS => self.status(ctx),
            READ => read::read(self, ctx),
            other => Err(SkillError::Failed(format!(
                "messaging cannot handle {other}"
            ))),
        }
    }

    fn lists(&mut self) -> Option<Vec<crate::skill::RuntimeList>> {
        if std::mem::replace(&mut self.lists_sent, true) {
            return None;
        }
        Some(vec![(LIST.to_string(), self.entries())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_cleaned_and_read_back_with_a_stop() {
        assert_eq!(clean_body(" i'll be late"), "I'll be late");
        assert_eq!(with_stop("I'll be late"), "I'll be late.");
        assert_eq!(with_stop("Are you home?"), "Are you home?");
        assert_eq!(
            join("en", vec!["Dad".into(), "Jisoo".into(), "Mom".into()]),
            "Dad, Jisoo or Mom"
        );
    }
}
