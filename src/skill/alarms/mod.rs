//! Alarms by voice: one-off ("7 am tomorrow") and repeating (every day, weekdays, weekends,
//! Mondays); list, cancel one or all, snooze the one that just rang. Kept in the state
//! database; the reminder task rings them (`skill::reminders`).

pub mod store;

use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDateTime, Timelike};

use super::builtin::clock::{self, EN_DAYS, KO_DAYS};
use crate::intent::Recognized;
use crate::lang::en;
use crate::skill::{Ctx, Skill, SkillError, SkillReply};
use crate::values::{Day, Kind, TimeOfDay, Value};

pub const SET: &str = "SoriSetAlarm";
pub const LIST: &str = "SoriListAlarms";
pub const CANCEL: &str = "SoriCancelAlarm";
pub const CANCEL_ALL: &str = "SoriCancelAllAlarms";
pub const SNOOZE: &str = "SoriSnoozeAlarm";
/// Replies said when an alarm rings (not an intent anyone says).
pub const RING: &str = "SoriAlarmRing";

/// "Snooze" refers to an alarm that rang this recently.
const SNOOZE_WINDOW_MS: i64 = 3_600_000;

pub struct Alarms {
    db: Arc<Mutex<crate::store::Store>>,
    snooze_min: i64,
}

impl Alarms {
    pub fn new(db: Arc<Mutex<crate::store::Store>>, snooze_minutes: u32) -> Self {
        Alarms {
            db,
            snooze_min: i64::from(snooze_minutes.max(1)),
        }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, crate::store::StoreError>,
    ) -> Result<T, SkillError> {
        crate::skill::in_db(&self.db, f)
    }
}

/// "every day", "on weekdays", "on Mondays and Fridays" / "매일", "평일", "매주 월, 금요일".
pub fn spoken_days(lang: &str, days: i64) -> String {
    let ko = lang == "ko";
    match days {
        store::EVERY_DAY => if ko { "매일" } else { "every day" }.into(),
        store::WEEKDAYS => if ko { "평일" } else { "on weekdays" }.into(),
        store::WEEKENDS => if ko { "주말" } else { "on weekends" }.into(),
        _ => {
            let names: Vec<usize> = (0..7).filter(|d| days & (1 << d) != 0).collect();
            if ko {
                let list: Vec<&str> = names.iter().map(|&d| KO_DAYS[d]).collect();
                format!("매주 {}요일", list.join(", "))
            } else {
                let list: Vec<String> = names.iter().map(|&d| format!("{}s", EN_DAYS[d])).collect();
                match list.as_slice() {
                    [one] => format!("on {one}"),
                    [head @ .., last] => format!("on {} and {last}", head.join(", ")),
                    [] => String::new(),
                }
            }
        }
    }
}

/// When an alarm rings, as said: "7:00 AM tomorrow", "7:30 AM on weekdays" / "내일 오전 7시".
pub fn spoken_when(
    lang: &str,
    a: &store::Alarm,
    now: NaiveDateTime,
    next: Option<NaiveDateTime>,
) -> String {
    let time = clock::spoken_time(lang, a.hour, a.minute);
    let ko = lang == "ko";
    if a.days != 0 {
        let days = spoken_days(lang, a.days);
        return if ko {
            format!("{days} {time}")
        } else {
            format!("{time} {days}")
        };
    }
    let Some(next) = next else { return time };
    let ahead = (next.date() - now.date()).num_days();
    let day = match (ahead, ko) {
        (0, true) => "오늘".to_string(),
        (0, false) => "today".to_string(),
        (1, true) => "내일".to_string(),
        (1, false) => "tomorrow".to_string(),
        (_, true) => format!(
            "{}요일",
            KO_DAYS[next.weekday().num_days_from_monday() as usize]
        ),
        (_, false) => format!(
            "on {}",
            EN_DAYS[next.weekday().num_days_from_monday() as usize]
        ),
    };
    if ko {
        format!("{day} {time}")
    } else {
        format!("{time} {day}")
    }
}

/// The hour meant: "7" with no am/pm is the morning for a repeating alarm or another day,
/// else whichever 7 o'clock comes first.
fn resolve_time(
    t: TimeOfDay,
    now: NaiveDateTime,
    day: Option<chrono::NaiveDate>,
    repeating: bool,
) -> (u32, u32) {
    if t.exact || t.hour >= 12 {
        return (t.hour, t.minute);
    }
    let morning = (t.hour, t.minute);
    match day {
        _ if repeating => morning,
        Some(d) if d > now.date() => morning,
        _ if (now.hour(), now.minute()) < morning => morning,
        _ if (now.hour(), now.minute()) < (t.hour + 12, t.minute) => (t.hour + 12, t.minute),
        _ => morning,
    }
}

fn count(lang: &str, n: usize) -> String {
    if lang == "ko" {
        format!("{n}개")
    } else {
        en::count(n as i64, "alarm")
    }
}

impl Skill for Alarms {
    fn id(&self) -> &str {
        "alarms"
    }

    fn intents(&self) -> Vec<String> {
        [SET, LIST, CANCEL, CANCEL_ALL, SNOOZE]
            .map(String::from)
            .to_vec()
    }

    fn describe(&self, lang: &str) -> Option<String> {
        Some(if lang == "ko" { "알람" } else { "set alarms" }.into())
    }

    fn handle(&mut self, i: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let lang = ctx.lang.to_string();
        let (now, now_ms, zone) = (ctx.now, ctx.now_ms, ctx.zone);
        let time = match i.slot("time") {
            Some(Value::Time(t)) => Some(*t),
            _ => None,
        };
        let when =
            |a: &store::Alarm| spoken_when(&lang, a, now, a.next_ms.map(|ms| zone.local(ms)));
        match i.intent.as_str() {
            SET => {
                let Some(t) = time else {
                    return Ok(SkillReply::ask(
                        ctx.say(SET, "ask", &[])?,
                        "time",
                        Some(Kind::Time),
                    ));
                };
                let mut days = i.slot("repeat").and_then(Value::as_int).unwrap_or(0);
                let mut day = match i.slot("day") {
                    Some(Value::Day(d)) => Some(clock::resolve(now.date(), *d)),
                    _ => None,
                };
                // "on Mondays": a weekday said in the plural repeats.
                if let Some(s) = i.slots.get("day")
                    && let Value::Day(Day::Weekday(w)) = s.value
                    && s.text.trim().ends_with('s')
                {
                    days |= 1 << w;
                    day = None;
                }
                let (hour, minute) = resolve_time(t, now, day, days != 0);
                let next = match (day, days) {
                    (Some(d), 0) => {
                        let at = d.and_hms_opt(hour, minute, 0).expect("valid time");
                        if at <= now {
                            return Ok(SkillReply::say(ctx.say(SET, "past", &[])?));
                        }
                        at
                    }
                    _ => store::next_after(now, hour, minute, days),
                };
                let a = self.with(|c| {
                    store::add(
                        c,
                        (hour, minute, days),
                        None,
                        &lang,
                        zone.utc_ms(next),
                        now_ms,
                    )
                })?;
                Ok(SkillReply::say(ctx.say(
                    SET,
                    "done",
                    &[("when", when(&a))],
                )?))
            }
            LIST => {
                let all = self.with(store::upcoming)?;
                Ok(SkillReply::say(match all.as_slice() {
                    [] => ctx.say(LIST, "none", &[])?,
                    [a] => ctx.say(LIST, "one", &[("when", when(a))])?,
                    many => {
                        let list: Vec<String> = many.iter().map(when).collect();
                        let sep = if lang == "ko" { ", " } else { "; " };
                        ctx.say(
                            LIST,
                            "many",
                            &[
                                ("count", count(&lang, many.len())),
                                ("list", list.join(sep)),
                            ],
                        )?
                    }
                }))
            }
            CANCEL => {
                // "Turn off the alarm" just after it rang stops the ringing; a repeating alarm
                // stays for its next day.
                if time.is_none()
                    && self
                        .with(|c| store::last_rung(c, now_ms, super::timers::RING_WINDOW_MS))?
                        .is_some()
                {
                    return Ok(SkillReply::say(ctx.say(CANCEL, "stopped", &[])?)
                        .with_action(crate::skill::Action::Stop));
                }
                let all = self.with(store::upcoming)?;
                let chosen: Vec<&store::Alarm> = all
                    .iter()
                    .filter(|a| {
                        time.is_none_or(|t| {
                            a.minute == t.minute
                                && (a.hour == t.hour || (!t.exact && a.hour == t.hour + 12))
                        })
                    })
                    .collect();
                match (chosen.as_slice(), all.is_empty()) {
                    (_, true) => Ok(SkillReply::say(ctx.say(LIST, "none", &[])?)),
                    ([a], _) => {
                        self.with(|c| store::remove(c, a.id))?;
                        Ok(SkillReply::say(ctx.say(
                            CANCEL,
                            "done",
                            &[("when", when(a))],
                        )?))
                    }
                    ([], _) => {
                        let t = time.expect("no match means a time was given");
                        let said = clock::spoken_time(&lang, t.hour, t.minute);
                        Ok(SkillReply::say(ctx.say(
                            CANCEL,
                            "not_found",
                            &[("time", said)],
                        )?))
                    }
                    (many, _) => {
                        let list: Vec<String> = many.iter().map(|a| when(a)).collect();
                        let speech = ctx.say(CANCEL, "which", &[("list", list.join(", "))])?;
                        Ok(SkillReply::ask(speech, "time", Some(Kind::Time)))
                    }
                }
            }
            CANCEL_ALL => {
                let n = self.with(store::remove_all)?;
                Ok(SkillReply::say(if n == 0 {
                    ctx.say(LIST, "none", &[])?
                } else {
                    ctx.say(CANCEL_ALL, "done", &[("count", count(&lang, n))])?
                }))
            }
            SNOOZE => {
                let Some(a) = self.with(|c| store::last_rung(c, now_ms, SNOOZE_WINDOW_MS))? else {
                    return Ok(SkillReply::say(ctx.say(SNOOZE, "none", &[])?));
                };
                let secs = match i.slot("duration") {
                    Some(Value::Duration(s)) if *s > 0 => *s as i64,
                    _ => self.snooze_min * 60,
                };
                self.with(|c| store::snooze(c, a.id, now_ms + secs * 1000))?;
                let d = super::timers::spoken_duration(&lang, secs);
                Ok(SkillReply::say(ctx.say(
                    SNOOZE,
                    "done",
                    &[("duration", d)],
                )?))
            }
            other => Err(SkillError::Failed(format!("alarms cannot handle {other}"))),
        }
    }
}
