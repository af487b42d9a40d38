//! Timers by voice, several at once and optionally named ("pasta timer", "라면 타이머"): set,
//! how long left, cancel one or all. Kept in the state database, so they survive a restart.
//! Intent and slot names are Home Assistant's (HassStartTimer with hours/minutes/seconds/name);
//! Sori's own sentences also fill one typed `duration`.

pub mod speech;
pub mod store;

use std::sync::{Arc, Mutex};

use crate::intent::Recognized;
use crate::lang::en;
use crate::skill::{Ctx, Skill, SkillError, SkillReply};
use crate::values::{Kind, Value};

pub use speech::spoken_duration;
use speech::{label, same_name};

pub const START: &str = "HassStartTimer";
pub const STATUS: &str = "HassTimerStatus";
pub const CANCEL: &str = "HassCancelTimer";
pub const CANCEL_ALL: &str = "HassCancelAllTimers";
pub const INCREASE: &str = "HassIncreaseTimer";
pub const DECREASE: &str = "HassDecreaseTimer";
pub const PAUSE: &str = "HassPauseTimer";
pub const RESUME: &str = "HassUnpauseTimer";

/// How long after a timer or alarm went off "stop"/"cancel" refers to its ringing.
pub const RING_WINDOW_MS: i64 = 10 * 60_000;

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
        crate::skill::in_db(&self.db, f)
    }
}

/// The duration the sentence gave, in seconds: Sori's `duration`, or Home Assistant's
/// `hours`/`minutes`/`seconds`.
fn duration_s(i: &Recognized) -> Option<i64> {
    if let Some(Value::Duration(s)) = i.slot("duration") {
        return Some(*s as i64);
    }
    hms(i, "")
}

/// Home Assistant's `{prefix}hours`/`minutes`/`seconds` in seconds (`start_`: the timer's
/// original length, which names it: "pause the 5 minute timer").
fn hms(i: &Recognized, prefix: &str) -> Option<i64> {
    let part = |k: &str| {
        i.slot(&format!("{prefix}{k}"))
            .and_then(Value::as_int)
            .unwrap_or(0)
    };
    let s = part("hours") * 3600 + part("minutes") * 60 + part("seconds");
    (s > 0).then_some(s)
}

fn name_of(i: &Recognized) -> Option<String> {
    i.slot("name")
        .and_then(|v| v.as_text())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The timers a sentence means: by name, and by original length (`start_*`, or for a cancel
/// Sori's `duration`: "cancel the 5 minute timer").
fn chosen<'a>(timers: &'a [store::Timer], i: &Recognized) -> Vec<&'a store::Timer> {
    let name = name_of(i);
    let length = hms(i, "start_").or_else(|| {
        (i.intent == CANCEL || i.intent == PAUSE || i.intent == RESUME)
            .then(|| duration_s(i))
            .flatten()
    });
    timers
        .iter()
        .filter(|t| {
            name.as_ref()
                .is_none_or(|n| t.name.as_deref().is_some_and(|x| same_name(x, n)))
        })
        .filter(|t| length.is_none_or(|s| t.duration_ms / 1000 == s))
        .collect()
}

fn count(lang: &str, n: usize) -> String {
    if lang == "ko" {
        format!("{n}개")
    } else {
        en::count(n as i64, "timer")
    }
}

impl Skill for Timers {
    fn id(&self) -> &str {
        "timers"
    }

    fn intents(&self) -> Vec<String> {
        [
            START, STATUS, CANCEL, CANCEL_ALL, INCREASE, DECREASE, PAUSE, RESUME,
        ]
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
        let intent = i.intent.as_str();
        match intent {
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
                let timers = self.with(store::active)?;
                let mine = chosen(&timers, i);
                let describe = |t: &store::Timer| {
                    let left = spoken_duration(&lang, t.left_ms(now) / 1000);
                    match (lang.as_str(), t.ends_at_ms.is_none()) {
                        ("ko", true) => format!("{} {left} (멈춤)", label(&lang, t)),
                        ("ko", false) => format!("{} {left}", label(&lang, t)),
                        (_, true) => format!("{} paused with {left} left", label(&lang, t)),
                        (_, false) => format!("{} with {left} left", label(&lang, t)),
                    }
                };
                Ok(SkillReply::say(match mine.as_slice() {
                    [] => ctx.say(STATUS, "none", &[])?,
                    [t] => ctx.say(
                        STATUS,
                        if t.ends_at_ms.is_none() {
                            "paused"
                        } else {
                            "one"
                        },
                        &[
                            ("label", label(&lang, t)),
                            ("left", spoken_duration(&lang, t.left_ms(now) / 1000)),
                        ],
                    )?,
                    many => {
                        let items: Vec<String> = many.iter().map(|t| describe(t)).collect();
                        ctx.say(
                            STATUS,
                            "many",
                            &[
                                ("count", count(&lang, many.len())),
                                ("list", items.join(", ")),
                            ],
                        )?
                    }
                }))
            }
            CANCEL | INCREASE | DECREASE | PAUSE | RESUME => {
                let timers = self.with(store::active)?;
                let mine = chosen(&timers, i);
                let t = match (mine.as_slice(), timers.is_empty()) {
                    // "Stop the timer" just after one went off: the ringing is what is meant.
                    (_, true)
                        if intent == CANCEL
                            && self.with(|c| store::recently_rung(c, now, RING_WINDOW_MS))? =>
                    {
                        return Ok(SkillReply::say(ctx.say(CANCEL, "stopped", &[])?)
                            .with_action(crate::skill::Action::Stop));
                    }
                    (_, true) => return Ok(SkillReply::say(ctx.say(STATUS, "none", &[])?)),
                    ([t], _) => *t,
                    ([], _) => {
                        return Ok(SkillReply::say(ctx.say(
                            CANCEL,
                            "not_found",
                            &[("name", name_of(i).unwrap_or_default())],
                        )?));
                    }
                    (many, _) => {
                        let list: Vec<String> = many.iter().map(|t| label(&lang, t)).collect();
                        let speech = ctx.say(CANCEL, "which", &[("list", list.join(", "))])?;
                        return Ok(SkillReply::ask(speech, "name", None));
                    }
                };
                self.change(intent, i, t, &lang, ctx)
            }
            CANCEL_ALL => {
                let n = self.with(store::cancel_all)?;
                if n == 0 {
                    return Ok(SkillReply::say(ctx.say(CANCEL_ALL, "none", &[])?));
                }
                Ok(SkillReply::say(ctx.say(
                    CANCEL_ALL,
                    "done",
                    &[("count", count(&lang, n))],
                )?))
            }
            other => Err(SkillError::Failed(format!("timers cannot handle {other}"))),
        }
    }
}

impl Timers {
    /// Cancels, pauses, resumes or changes the length of one timer (written before it is said).
    fn change(
        &self,
        intent: &str,
        i: &Recognized,
        t: &store::Timer,
        lang: &str,
        ctx: &mut Ctx,
    ) -> Result<SkillReply, SkillError> {
        let now = ctx.now_ms;
        let l = label(lang, t);
        let speech = match intent {
            CANCEL => {
                self.with(|c| store::cancel(c, t.id))?;
                ctx.say(CANCEL, "done", &[("label", l)])?
            }
            PAUSE => {
                if self.with(|c| store::pause(c, t.id, now))? {
                    ctx.say(PAUSE, "done", &[("label", l)])?
                } else {
                    ctx.say(PAUSE, "already", &[("label", l)])?
                }
            }
            RESUME => {
                if self.with(|c| store::resume(c, t.id, now))? {
                    ctx.say(RESUME, "done", &[("label", l)])?
                } else {
                    ctx.say(RESUME, "already", &[("label", l)])?
                }
            }
            _ => {
                let Some(secs) = duration_s(i) else {
                    return Ok(SkillReply::ask(
                        ctx.say(intent, "ask", &[])?,
                        "duration",
                        Some(Kind::Duration),
                    ));
                };
                let delta = if intent == DECREASE { -secs } else { secs } * 1000;
                // Never below zero: taking more than is left makes it ring now.
                let delta = delta.max(-t.left_ms(now));
                let changed = self
                    .with(|c| store::add(c, t.id, delta))?
                    .ok_or_else(|| SkillError::Failed("the timer vanished".into()))?;
                ctx.say(
                    intent,
                    "done",
                    &[
                        ("label", l),
                        ("duration", spoken_duration(lang, secs)),
                        ("left", spoken_duration(lang, changed.left_ms(now) / 1000)),
                    ],
                )?
            }
        };
        Ok(SkillReply::say(speech))
    }
}
