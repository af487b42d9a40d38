//! Time and date: "what time is it", "what's the date tomorrow", "지금 몇 시야", "내일 며칠이야".

use chrono::{Datelike, Duration, NaiveDate, Timelike};

use crate::intent::Recognized;
use crate::lang::ko;
use crate::skill::{Ctx, Skill, SkillError, SkillReply};
use crate::values::{Day, Value};

pub struct Clock;

const TIME: &str = "HassGetCurrentTime";
const DATE: &str = "HassGetCurrentDate";

impl Skill for Clock {
    fn id(&self) -> &str {
        "clock"
    }

    fn intents(&self) -> Vec<String> {
        vec![TIME.into(), DATE.into()]
    }

    fn describe(&self, lang: &str) -> Option<String> {
        Some(
            if lang == "ko" {
                "시간과 날짜 안내"
            } else {
                "tell you the time and the date"
            }
            .into(),
        )
    }

    fn handle(&mut self, intent: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let now = ctx.now;
        if intent.intent == TIME {
            let time = spoken_time(ctx.lang, now.hour(), now.minute());
            let vars = [(
                "time",
                if ctx.lang == "ko" {
                    ko::copula(&time)
                } else {
                    time
                },
            )];
            return Ok(SkillReply::say(ctx.say(TIME, "default", &vars)?));
        }
        let (date, day_word) = match intent.slot("day") {
            Some(Value::Day(d)) => (resolve(now.date(), *d), Some(day_name(ctx.lang, *d))),
            _ => (now.date(), None),
        };
        let past = date < now.date();
        // "Friday is November 27th", not "Friday is Friday, …".
        let named_weekday = matches!(intent.slot("day"), Some(Value::Day(Day::Weekday(_))));
        let date_text = if named_weekday {
            spoken_day_of_month(ctx.lang, date)
        } else {
            spoken_date(ctx.lang, date)
        };
        let date_text = match (ctx.lang, past) {
            ("ko", true) => ko::copula_past(&date_text),
            ("ko", false) => ko::copula(&date_text),
            _ => date_text,
        };
        let speech = match day_word {
            None => ctx.say(DATE, "default", &[("date", date_text)])?,
            Some(day) => {
                let day = if ctx.lang == "ko" {
                    ko::topic(&day)
                } else {
                    day
                };
                let key = if past { "day_past" } else { "day" };
                ctx.say(DATE, key, &[("day", day), ("date", date_text)])?
            }
        };
        Ok(SkillReply::say(speech))
    }
}

/// The date a relative day means.
pub fn resolve(today: NaiveDate, d: Day) -> NaiveDate {
    match d {
        Day::Offset(n) => today + Duration::days(i64::from(n)),
        Day::Weekday(w) => {
            let now = today.weekday().num_days_from_monday();
            let ahead = (w + 7 - now) % 7;
            today + Duration::days(i64::from(if ahead == 0 { 7 } else { ahead }))
        }
    }
}

fn day_name(lang: &str, d: Day) -> String {
    let ko = lang == "ko";
    match d {
        Day::Offset(0) => if ko { "오늘" } else { "Today" }.into(),
        Day::Offset(1) => if ko { "내일" } else { "Tomorrow" }.into(),
        Day::Offset(2) => if ko {
            "모레"
        } else {
            "The day after tomorrow"
        }
        .into(),
        Day::Offset(-1) => if ko { "어제" } else { "Yesterday" }.into(),
        Day::Offset(n) if ko => format!("{}일 뒤", n),
        Day::Offset(n) => format!("In {n} days"),
        Day::Weekday(w) if ko => format!("{}요일", KO_DAYS[w as usize % 7]),
        Day::Weekday(w) => EN_DAYS[w as usize % 7].into(),
    }
}

pub const EN_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
pub const KO_DAYS: [&str; 7] = ["월", "화", "수", "목", "금", "토", "일"];
const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "7:05 AM" / "오전 7시 5분": written the way TTS normalisation reads naturally.
pub fn spoken_time(lang: &str, hour: u32, minute: u32) -> String {
    if lang == "ko" {
        let part = if hour < 12 { "오전" } else { "오후" };
        let h = match hour % 12 {
            0 => 12,
            h => h,
        };
        return if minute == 0 {
            format!("{part} {h}시")
        } else {
            format!("{part} {h}시 {minute}분")
        };
    }
    let h = match hour % 12 {
        0 => 12,
        h => h,
    };
    let part = if hour < 12 { "AM" } else { "PM" };
    format!("{h}:{minute:02} {part}")
}

/// "November 27th" / "11월 27일".
pub fn spoken_day_of_month(lang: &str, d: NaiveDate) -> String {
    if lang == "ko" {
        return format!("{}월 {}일", d.month(), d.day());
    }
    format!(
        "{} {}{}",
        EN_MONTHS[d.month0() as usize],
        d.day(),
        ordinal_suffix(d.day())
    )
}

fn ordinal_suffix(day: u32) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// "Thursday, November 26th" / "11월 26일 목요일".
pub fn spoken_date(lang: &str, d: NaiveDate) -> String {
    let wd = d.weekday().num_days_from_monday() as usize;
    if lang == "ko" {
        return format!("{}월 {}일 {}요일", d.month(), d.day(), KO_DAYS[wd]);
    }
    let day = d.day();
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!(
        "{}, {} {day}{suffix}",
        EN_DAYS[wd],
        EN_MONTHS[d.month0() as usize]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_dates_read_naturally() {
        assert_eq!(spoken_time("en", 7, 5), "7:05 AM");
        assert_eq!(spoken_time("en", 0, 30), "12:30 AM");
        assert_eq!(spoken_time("ko", 19, 0), "오후 7시");
        assert_eq!(ko::copula(&spoken_time("ko", 7, 5)), "오전 7시 5분이에요");
        assert_eq!(ko::copula(&spoken_time("ko", 7, 0)), "오전 7시예요");
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(spoken_date("en", d), "Thursday, November 26th");
        assert_eq!(spoken_date("ko", d), "11월 26일 목요일");
        assert_eq!(
            resolve(d, Day::Weekday(3)),
            d + Duration::days(7),
            "next Thursday, not today"
        );
        assert_eq!(resolve(d, Day::Weekday(4)), d + Duration::days(1));
    }
}
