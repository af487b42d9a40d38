//! English values from words or digits.

use super::{Day, Kind, TimeOfDay, Value, digits, number_value};

pub fn parse(kind: Kind, text: &str) -> Option<Value> {
    let words = words(text);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match kind {
        Kind::Number => number(&w).map(number_value),
        Kind::Duration => duration(&w).map(Value::Duration),
        Kind::Time => time(&w).map(Value::Time),
        Kind::Day => day(&w).map(Value::Day),
        Kind::Percent => {
            let w = match w.last() {
                Some(&"percent" | &"%" | &"per") => &w[..w.len() - 1],
                _ => &w[..],
            };
            let w = w.strip_suffix(&["per"]).unwrap_or(w);
            let n = number(w)?;
            (0.0..=100.0).contains(&n).then(|| number_value(n))
        }
    }
}

/// Lowercase words; "twenty-five" → two words; "50%" → "50", "%".
fn words(text: &str) -> Vec<String> {
    let t = text.to_lowercase().replace('%', " % ");
    t.split(|c: char| c.is_whitespace() || (c == '-'))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

use crate::lang::en::{ONES, TENS};

fn small(w: &str) -> Option<u64> {
    if let Some(i) = ONES.iter().position(|&o| o == w) {
        return Some(i as u64);
    }
    TENS.iter()
        .position(|&t| !t.is_empty() && t == w)
        .map(|i| i as u64 * 10)
}

/// A cardinal number: digits ("25", "2.5") or words ("a hundred and five", "twenty five").
pub fn number(w: &[&str]) -> Option<f64> {
    match w {
        [] => None,
        [one] => digits(one).or_else(|| words_number(w).map(|n| n as f64)),
        _ => words_number(w).map(|n| n as f64),
    }
}

fn words_number(w: &[&str]) -> Option<u64> {
    let mut total = 0u64;
    let mut current = 0u64;
    // What the previous word was, so "twenty twenty" or "five six" do not parse.
    let mut last_small: Option<u64> = None;
    let mut any = false;
    for (i, &word) in w.iter().enumerate() {
        match word {
            "a" | "an" if i == 0 && w.len() > 1 => {
                current = 1;
                last_small = Some(1);
            }
            "and" if any && i + 1 < w.len() => {}
            "hundred" => {
                current = current.max(1) * 100;
                last_small = None;
            }
            "thousand" | "million" => {
                let scale = if word == "thousand" { 1000 } else { 1_000_000 };
                total += current.max(1) * scale;
                current = 0;
                last_small = None;
            }
            _ => {
                let n =
                    small(word).or_else(|| word.parse::<u64>().ok().filter(|_| w.len() == 1))?;
                match last_small {
                    // "twenty five": a ten followed by a unit.
                    Some(prev) if prev >= 20 && prev % 10 == 0 && n < 10 && n > 0 => current += n,
                    Some(_) => return None,
                    None => current += n,
                }
                last_small = Some(n);
            }
        }
        any = true;
    }
    any.then_some(total + current)
}

fn unit_seconds(w: &str) -> Option<u64> {
    Some(match w.trim_end_matches('s') {
        "second" | "sec" => 1,
        "minute" | "min" => 60,
        "hour" | "hr" => 3600,
        "day" => 86400,
        _ => return None,
    })
}

/// "five minutes", "an hour and a half", "one and a half hours", "half an hour",
/// "1 hour 30 minutes".
pub fn duration(w: &[&str]) -> Option<u64> {
    match w {
        ["half", "an" | "a", unit] => return unit_seconds(unit).map(|s| s / 2),
        ["a", "quarter", "of", "an", "hour"] | ["quarter", "of", "an", "hour"] => return Some(900),
        _ => {}
    }
    let mut total = 0u64;
    let mut rest = w;
    let mut any = false;
    while !rest.is_empty() {
        if rest[0] == "and" && any {
            rest = &rest[1..];
            // "and a half" after a unit: half of that unit.
            if let ["a", "half", tail @ ..] = rest {
                total += last_unit(w, rest) / 2;
                rest = tail;
                continue;
            }
        }
        let unit_at = rest.iter().position(|x| unit_seconds(x).is_some())?;
        let unit = unit_seconds(rest[unit_at])?;
        let mut num_words = &rest[..unit_at];
        let mut half = false;
        // "one and a half hours"
        if let [head @ .., "and", "a", "half"] = num_words {
            num_words = head;
            half = true;
        }
        let n = if matches!(num_words, ["a" | "an"]) {
            1.0
        } else {
            number(num_words)?
        };
        if n < 0.0 {
            return None;
        }
        total += (n * unit as f64).round() as u64 + if half { unit / 2 } else { 0 };
        rest = &rest[unit_at + 1..];
        any = true;
    }
    (any && total > 0).then_some(total)
}

/// The unit word just before `rest` in `all` (for "an hour and a half").
fn last_unit(all: &[&str], rest: &[&str]) -> u64 {
    let end = all.len() - rest.len();
    all[..end]
        .iter()
        .rev()
        .find_map(|w| unit_seconds(w))
        .unwrap_or(0)
}

/// Hours 1-12 or 0-23 from words or digits.
fn hour(w: &[&str]) -> Option<u32> {
    let n = number(w)?;
    (n.fract() == 0.0 && (0.0..=23.0).contains(&n)).then_some(n as u32)
}

fn minute(w: &[&str]) -> Option<u32> {
    if let ["oh", rest @ ..] = w {
        return minute(rest).filter(|m| *m < 10);
    }
    let n = number(w)?;
    (n.fract() == 0.0 && (0.0..60.0).contains(&n)).then_some(n as u32)
}

/// "7 am", "7:30 pm", "half past six", "quarter to eight", "seven thirty", "noon",
/// "ten past five in the evening", "six o'clock".
pub fn time(w: &[&str]) -> Option<TimeOfDay> {
    match w {
        ["noon"] | ["midday"] => {
            return Some(TimeOfDay {
                hour: 12,
                minute: 0,
                exact: true,
            });
        }
        ["midnight"] => {
            return Some(TimeOfDay {
                hour: 0,
                minute: 0,
                exact: true,
            });
        }
        _ => {}
    }
    // Part of day at the end.
    let (w, pm) = match w {
        [head @ .., "am" | "a.m."] => (head, Some(false)),
        [head @ .., "pm" | "p.m."] => (head, Some(true)),
        [head @ .., "in", "the", "morning"] => (head, Some(false)),
        [head @ .., "in", "the", "afternoon" | "evening"]
        | [head @ .., "at", "night"]
        | [head @ .., "tonight"] => (head, Some(true)),
        _ => (w, None),
    };
    let w = w
        .strip_suffix(&["o'clock"])
        .or_else(|| w.strip_suffix(&["oclock"]))
        .unwrap_or(w);
    let (h, m) = match w {
        [] => return None,
        [one] if one.contains(':') => {
            let (h, m) = one.split_once(':')?;
            (hour(&[h])?, minute(&[m])?)
        }
        ["half", "past", rest @ ..] => (hour(rest)?, 30),
        ["quarter" | "a", ..] if w.contains(&"quarter") => quarter(w)?,
        _ => match w
            .iter()
            .position(|x| *x == "past" || *x == "to" || *x == "after" || *x == "before")
        {
            Some(i) => {
                let mins = w[..i]
                    .strip_suffix(&["minutes"])
                    .or_else(|| w[..i].strip_suffix(&["minute"]));
                let m = minute(mins.unwrap_or(&w[..i]))?;
                let h = hour(&w[i + 1..])?;
                if matches!(w[i], "past" | "after") {
                    (h, m)
                } else {
                    ((h + 23) % 24, 60 - m)
                }
            }
            None => hour(w).map(|h| (h, 0)).or_else(|| {
                // "seven thirty", "seven oh five": the hour is the first word.
                let (first, rest) = w.split_first()?;
                Some((hour(&[first])?, minute(rest)?))
            })?,
        },
    };
    if h > 12 && pm.is_some() || h == 0 && pm.is_some() {
        return None;
    }
    let hour = match pm {
        Some(true) if h < 12 => h + 12,
        Some(false) if h == 12 => 0,
        _ => h,
    };
    Some(TimeOfDay {
        hour,
        minute: m,
        exact: pm.is_some() || h > 12 || h == 0,
    })
}

fn quarter(w: &[&str]) -> Option<(u32, u32)> {
    let w = w.strip_prefix(&["a"]).unwrap_or(w);
    match w {
        ["quarter", "past" | "after", rest @ ..] => Some((hour(rest)?, 15)),
        ["quarter", "to" | "before" | "of", rest @ ..] => Some(((hour(rest)? + 23) % 24, 45)),
        _ => None,
    }
}

/// Words for days: relative ones, then the weekdays from Monday (also the vocabulary).
pub const DAY_WORDS: [&str; 10] = [
    "today",
    "tomorrow",
    "yesterday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// "today", "tomorrow", "the day after tomorrow", "yesterday", "friday", "on friday".
pub fn day(w: &[&str]) -> Option<Day> {
    let w = w.strip_prefix(&["on"]).unwrap_or(w);
    let w = w
        .strip_prefix(&["this"])
        .or_else(|| w.strip_prefix(&["next"]))
        .unwrap_or(w);
    Some(match w {
        ["today"] | ["tonight"] => Day::Offset(0),
        ["tomorrow"] => Day::Offset(1),
        ["yesterday"] => Day::Offset(-1),
        ["the", "day", "after", "tomorrow"] | ["day", "after", "tomorrow"] => Day::Offset(2),
        ["the", "day", "before", "yesterday"] => Day::Offset(-2),
        [d] => Day::Weekday(
            DAY_WORDS[3..]
                .iter()
                .position(|x| *x == d.trim_end_matches('s'))? as u32,
        ),
        _ => return None,
    })
}
