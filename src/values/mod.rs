//! Typed values spoken in a sentence, English and Korean: numbers ("twenty-five", 스물다섯,
//! 이십오), durations ("an hour and a half", 한 시간 반), times of day ("quarter to eight",
//! 저녁 여섯 시), relative days (tomorrow, 모레) and levels ("volume 5", 볼륨 오).
//!
//! Each parser takes the whole text of a candidate span (already normalised for matching) and
//! says what it means, or `None`; the intent matcher tries spans and keeps those that parse.

pub mod en;
pub mod ko;

use serde::{Serialize, Serializer};

/// The kinds of value a template slot can ask for (`type:` of a Sori list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Number,
    Duration,
    Time,
    Day,
    /// 0-100, from "5", "fifty percent", "오십 퍼센트".
    Percent,
}

impl Kind {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "number" => Kind::Number,
            "duration" => Kind::Duration,
            "time" => Kind::Time,
            "day" => Kind::Day,
            "percent" => Kind::Percent,
            _ => return None,
        })
    }

    pub const NAMES: [&'static str; 5] = ["number", "duration", "time", "day", "percent"];
}

/// A time of day as said: `hour` 0-23. `exact` is false when the speaker gave no am/pm or part
/// of the day ("at seven"), so the skill picks the next seven o'clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeOfDay {
    pub hour: u32,
    pub minute: u32,
    pub exact: bool,
}

/// A day relative to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    /// Days from today: 0 today, 1 tomorrow, -1 yesterday.
    Offset(i32),
    /// The next such weekday, 0 = Monday.
    Weekday(u32),
}

/// A slot value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Float(f64),
    /// Seconds.
    Duration(u64),
    Time(TimeOfDay),
    Day(Day),
    /// Anything else a list's `out` says (JSON from YAML).
    Json(serde_json::Value),
}

impl Value {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            Value::Text(t) => t.parse().ok(),
            Value::Json(j) => j.as_i64(),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            Value::Json(serde_json::Value::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::Text(t) => json!(t),
            Value::Int(n) => json!(n),
            Value::Float(f) => json!(f),
            Value::Duration(s) => json!({ "seconds": s }),
            Value::Time(t) => json!(t),
            Value::Day(d) => json!(d),
            Value::Json(j) => j.clone(),
        }
    }

    /// From a list's `out:` in YAML/JSON: numbers stay numbers, strings text.
    pub fn from_json(j: &serde_json::Value) -> Self {
        match j {
            serde_json::Value::String(s) => Value::Text(s.clone()),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            other => Value::Json(other.clone()),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// Words that say values of `kind` in `lang` (for the speech recogniser's vocabulary).
pub fn vocabulary(kind: Kind, lang: &str) -> &'static [&'static str] {
    match (kind, lang == "ko") {
        (Kind::Day, false) => &en::DAY_WORDS,
        (Kind::Day, true) => &ko::DAY_WORDS,
        (Kind::Duration, false) => &["seconds", "minutes", "hours", "half", "an hour"],
        (Kind::Duration, true) => &["초", "분", "시간", "반"],
        (Kind::Time, false) => &[
            "am",
            "pm",
            "noon",
            "midnight",
            "half past",
            "quarter",
            "o'clock",
        ],
        (Kind::Time, true) => &[
            "오전", "오후", "아침", "저녁", "밤", "새벽", "정오", "자정", "시", "분", "반",
        ],
        (Kind::Number | Kind::Percent, false) => &["percent"],
        (Kind::Number | Kind::Percent, true) => &["퍼센트"],
    }
}

/// Parses `text` (the whole of it) as a value of `kind` in `lang`.
pub fn parse(kind: Kind, lang: &str, text: &str) -> Option<Value> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if lang == "ko" {
        ko::parse(kind, text)
    } else {
        en::parse(kind, text)
    }
}

/// A number written with digits: "10", "2.5", "1,000", "-3".
pub fn digits(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-'))
    {
        return None;
    }
    let clean: String = t.chars().filter(|&c| c != ',').collect();
    clean.parse().ok()
}

/// A number as the tightest value: integers as `Int`.
pub fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        Value::Int(n as i64)
    } else {
        Value::Float(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_both_languages() {
        for (lang, text, n) in [
            ("en", "ten", 10),
            ("en", "10", 10),
            ("en", "twenty-five", 25),
            ("en", "twenty five", 25),
            ("en", "a hundred and five", 105),
            ("en", "two thousand twenty six", 2026),
            ("ko", "열", 10),
            ("ko", "십", 10),
            ("ko", "스물다섯", 25),
            ("ko", "스물 다섯", 25),
            ("ko", "이십오", 25),
            ("ko", "백이십", 120),
            ("ko", "25", 25),
        ] {
            assert_eq!(
                parse(Kind::Number, lang, text),
                Some(Value::Int(n)),
                "{lang} {text}"
            );
        }
        assert_eq!(parse(Kind::Number, "en", "2.5"), Some(Value::Float(2.5)));
        assert_eq!(parse(Kind::Number, "en", "banana"), None);
        assert_eq!(parse(Kind::Number, "ko", "사과"), None);
    }

    #[test]
    fn durations_both_languages() {
        for (lang, text, s) in [
            ("en", "five minutes", 300),
            ("en", "an hour and a half", 5400),
            ("en", "one and a half hours", 5400),
            ("en", "half an hour", 1800),
            ("en", "90 seconds", 90),
            ("en", "1 hour 30 minutes", 5400),
            ("en", "two hours and fifteen minutes", 8100),
            ("en", "a minute", 60),
            ("ko", "5분", 300),
            ("ko", "한 시간 반", 5400),
            ("ko", "삼십 초", 30),
            ("ko", "1시간 30분", 5400),
            ("ko", "십 분", 600),
            ("ko", "두 시간", 7200),
            ("ko", "1분 반", 90),
        ] {
            assert_eq!(
                parse(Kind::Duration, lang, text),
                Some(Value::Duration(s)),
                "{lang} {text}"
            );
        }
        assert_eq!(parse(Kind::Duration, "en", "five"), None);
        assert_eq!(parse(Kind::Duration, "ko", "다섯"), None);
    }

    #[test]
    fn times_both_languages() {
        let t = |hour, minute, exact| {
            Some(Value::Time(TimeOfDay {
                hour,
                minute,
                exact,
            }))
        };
        for (lang, text, want) in [
            ("en", "7 am", t(7, 0, true)),
            ("en", "7:30 pm", t(19, 30, true)),
            ("en", "half past six", t(6, 30, false)),
            ("en", "quarter to eight", t(7, 45, false)),
            ("en", "ten past five in the evening", t(17, 10, true)),
            ("en", "seven thirty", t(7, 30, false)),
            ("en", "noon", t(12, 0, true)),
            ("en", "six o'clock", t(6, 0, false)),
            ("ko", "오전 7시", t(7, 0, true)),
            ("ko", "일곱 시 반", t(7, 30, false)),
            ("ko", "저녁 여섯 시", t(18, 0, true)),
            ("ko", "오후 3시 15분", t(15, 15, true)),
            ("ko", "새벽 다섯시", t(5, 0, true)),
            ("ko", "정오", t(12, 0, true)),
        ] {
            assert_eq!(parse(Kind::Time, lang, text), want, "{lang} {text}");
        }
        assert_eq!(parse(Kind::Time, "en", "quarter"), None);
        assert_eq!(parse(Kind::Time, "ko", "25시"), None);
    }

    #[test]
    fn days_and_levels() {
        assert_eq!(
            parse(Kind::Day, "en", "tomorrow"),
            Some(Value::Day(Day::Offset(1)))
        );
        assert_eq!(
            parse(Kind::Day, "en", "the day after tomorrow"),
            Some(Value::Day(Day::Offset(2)))
        );
        assert_eq!(
            parse(Kind::Day, "en", "friday"),
            Some(Value::Day(Day::Weekday(4)))
        );
        assert_eq!(
            parse(Kind::Day, "ko", "내일"),
            Some(Value::Day(Day::Offset(1)))
        );
        assert_eq!(
            parse(Kind::Day, "ko", "모레"),
            Some(Value::Day(Day::Offset(2)))
        );
        assert_eq!(
            parse(Kind::Day, "ko", "금요일"),
            Some(Value::Day(Day::Weekday(4)))
        );
        assert_eq!(parse(Kind::Percent, "en", "5"), Some(Value::Int(5)));
        assert_eq!(
            parse(Kind::Percent, "en", "fifty percent"),
            Some(Value::Int(50))
        );
        assert_eq!(parse(Kind::Percent, "ko", "오"), Some(Value::Int(5)));
        assert_eq!(
            parse(Kind::Percent, "ko", "삼십 퍼센트"),
            Some(Value::Int(30))
        );
        assert_eq!(parse(Kind::Percent, "en", "150 percent"), None);
    }
}
