//! Timers by voice, several at once and optionally named ("pasta timer", "라면 타이머"): set,
//! how long left, cancel one or all. Kept in the state database, so they survive a restart.
//! Intent and slot names are Home Assistant's (HassStartTimer with hours/minutes/seconds/name);
//! Sori's own sentences also fill one typed `duration`.

pub mod store;

use std::sync::{Arc, Mutex};

use crate::intent::Recognized;
use crate::lang::en;
use crate::skill::{Ctx, Skill, SkillError, SkillReply};
use crate::values::{Kind, Value};

pub const START: &str = "HassStartTimer";
pub const STATUS: &str = "HassTimerStatus";
pub const CANCEL: &str = "HassCancelTimer";
pub const CANCEL_ALL: &str = "HassCancelAllTimers";

pub struct Timers {
    db: Arc<Mutex<crate::store::Store>>,
}

impl Timers {
    pub fn new(db: Arc<Mutex<crate::store::Store>>) -> Self {
        Timers { db }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, crate::store::StoreError>,
    ) -> Result<T, SkillError> {
        let mut db = self
            .db
            .lock()
            .map_err(|_| SkillError::Failed("state database lock poisoned".into()))?;
        f(db.conn()).map_err(|e| SkillError::Failed(e.to_string()))
    }
}

/// The duration the sentence gave, in seconds: Sori's `duration`, or Home Assistant's
/// `hours`/`minutes`/`seconds`.
fn duration_s(i: &Recognized) -> Option<i64> {
    if let Some(Value::Duration(s)) = i.slot("duration") {
        return Some(*s as i64);
    }
    let part = |k: &str| i.slot(k).and_then(Value::as_int).unwrap_or(0);
    let s = part("hours") * 3600 + part("minutes") * 60 + part("seconds");
    (s > 0).then_some(s)
}

fn name_of(i: &Recognized) -> Option<String> {
    i.slot("name")
        .and_then(|v| v.as_text())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// A timer's name as heard: exact, or inside an answer like "the pasta one" / "라면 거".
fn same_name(timer: &str, heard: &str) -> bool {
    let (t, h) = (timer.to_lowercase(), heard.to_lowercase());
    t == h || h.split_whitespace().any(|w| w == t) || h.starts_with(&t)
}

/// "1 hour and 30 minutes" / "1시간 30분"; seconds only under ten minutes.
pub fn spoken_duration(lang: &str, secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (
        secs / 3600,
        secs % 3600 / 60,
        if secs < 600 { secs % 60 } else { 0 },
    );
    if lang == "ko" {
        let parts: Vec<String> = [(h, "시간"), (m, "분"), (s, "초")]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, u)| format!("{n}{u}"))
            .collect();
        return if parts.is_empty() {
            "0초".into()
        } else {
            parts.join(" ")
        };
    }
    let parts: Vec<String> = [(h, "hour"), (m, "minute"), (s, "second")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| en::count(*n, u))
        .collect();
    match parts.as_slice() {
        [] => "0 seconds".into(),
        [one] => one.clone(),
        [head @ .., last] => format!("{} and {last}", head.join(", ")),
    }
}

/// "your pasta timer", "your 5 minute timer" / "라면 타이머", "5분 타이머".
fn label(lang: &str, t: &store::Timer) -> String {
    let secs = t.duration_ms / 1000;
    match (&t.name, lang) {
        (Some(n), "ko") => format!("{n} 타이머"),
        (Some(n), _) => format!("{n} timer"),
        (None, "ko") => format!("{} 타이머", spoken_duration("ko", secs)),
        // "5 minute timer": the unit stays singular before a noun.
        (None, _) => format!(
            "{} timer",
            spoken_duration("en", secs)
                .replace("minutes", "minute")
                .replace("hours", "hour")
                .replace("seconds", "second")
        ),
    }
}

impl Skill for Timers {
    fn id(&self) -> &str {
        "timers"
    }

    fn intents(&self) -> Vec<String> {
        [START, STATUS, CANCEL, CANCEL_ALL]
            .map(String::from)
            .to_vec()
    }

    fn describe(&self, lang: &str) -> Option<String> {
        Some(
            if lang == "ko" {
                "타이머"
            } else {
                "set timers"
            }
            .into(),
        )
    }

    fn handle(&mut self, i: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let lang = ctx.lang.to_string();
        let now = ctx.now_ms;
        match i.intent.as_str() {
            START => {
                let Some(secs) = duration_s(i) else {
                    return Ok(SkillReply::ask(
                        ctx.say(START, "ask", &[])?,
                        "duration",
                        Some(Kind::Duration),
                    ));
                };
                let name = name_of(i);
                // Stored before Sori says so: a confirmed timer survives a crash.
                self.with(|c| store::start(c, name.as_deref(), &lang, secs * 1000, now))?;
                let duration = spoken_duration(&lang, secs);
                Ok(SkillReply::say(match name {
                    Some(n) => ctx.say(START, "named", &[("name", n), ("duration", duration)])?,
                    None => ctx.say(START, "started", &[("duration", duration)])?,
                }))
            }
            STATUS => {
                let mut timers = self.with(store::active)?;
                if let Some(n) = name_of(i) {
                    timers.retain(|t| t.name.as_deref().is_some_and(|x| same_name(x, &n)));
                }
                let describe = |t: &store::Timer| {
                    (
                        label(&lang, t),
                        spoken_duration(&lang, t.left_ms(now) / 1000),
                    )
                };
                Ok(SkillReply::say(match timers.as_slice() {
                    [] => ctx.say(STATUS, "none", &[])?,
                    [t] => {
                        let (l, left) = describe(t);
                        ctx.say(STATUS, "one", &[("label", l), ("left", left)])?
                    }
                    many => {
                        let items: Vec<String> = many
                            .iter()
                            .map(|t| {
                                let (l, left) = describe(t);
                                if lang == "ko" {
                                    format!("{l} {left}")
                                } else {
                                    format!("{l} with {left} left")
                                }
                            })
                            .collect();
                        let count = if lang == "ko" {
                            format!("{}개", many.len())
                        } else {
                            en::count(many.len() as i64, "timer")
                        };
                        ctx.say(
                            STATUS,
                            "many",
                            &[("count", count), ("list", items.join(", "))],
                        )?
                    }
                }))
            }
            CANCEL => {
                let timers = self.with(store::active)?;
                let name = name_of(i);
                let secs = duration_s(i);
                let chosen: Vec<&store::Timer> = timers
                    .iter()
                    .filter(|t| {
                        name.as_ref()
                            .is_none_or(|n| t.name.as_deref().is_some_and(|x| same_name(x, n)))
                    })
                    .filter(|t| secs.is_none_or(|s| t.duration_ms / 1000 == s))
                    .collect();
                match (chosen.as_slice(), timers.is_empty()) {
                    (_, true) => Ok(SkillReply::say(ctx.say(CANCEL, "none", &[])?)),
                    ([t], _) => {
                        self.with(|c| store::cancel(c, t.id))?;
                        Ok(SkillReply::say(ctx.say(
                            CANCEL,
                            "done",
                            &[("label", label(&lang, t))],
                        )?))
                    }
                    ([], _) => Ok(SkillReply::say(ctx.say(
                        CANCEL,
                        "not_found",
                        &[("name", name.unwrap_or_default())],
                    )?)),
                    (many, _) => {
                        let list: Vec<String> = many.iter().map(|t| label(&lang, t)).collect();
                        let speech = ctx.say(CANCEL, "which", &[("list", list.join(", "))])?;
                        Ok(SkillReply::ask(speech, "name", None))
                    }
                }
            }
            CANCEL_ALL => {
                let n = self.with(store::cancel_all)?;
                if n == 0 {
                    return Ok(SkillReply::say(ctx.say(CANCEL_ALL, "none", &[])?));
                }
                let count = if lang == "ko" {
                    format!("{n}개")
                } else {
                    en::count(n as i64, "timer")
                };
                Ok(SkillReply::say(ctx.say(
                    CANCEL_ALL,
                    "done",
                    &[("count", count)],
                )?))
            }
            other => Err(SkillError::Failed(format!("timers cannot handle {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_are_spoken_naturally() {
        use super::spoken_duration as d;
        assert_eq!(d("en", 300), "5 minutes");
        assert_eq!(d("en", 5400), "1 hour and 30 minutes");
        assert_eq!(d("en", 250), "4 minutes and 10 seconds");
        assert_eq!(d("en", 3601), "1 hour");
        assert_eq!(d("ko", 5400), "1시간 30분");
        assert_eq!(d("ko", 250), "4분 10초");
    }
}
