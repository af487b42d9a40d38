//! Korean values. Spacing varies in speech and in transcripts ("한 시간 반", "한시간반"), so
//! spaces are dropped before parsing.

use super::{Day, Kind, TimeOfDay, Value, digits, number_value};

pub fn parse(kind: Kind, text: &str) -> Option<Value> {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let s = s.as_str();
    match kind {
        Kind::Number => number(s).map(number_value),
        Kind::Duration => duration(s).map(Value::Duration),
        Kind::Time => time(s).map(Value::Time),
        Kind::Day => day(s).map(Value::Day),
        Kind::Percent => {
            let s = ["퍼센트", "프로", "%"]
                .iter()
                .find_map(|x| s.strip_suffix(x))
                .unwrap_or(s);
            let n = number(s)?;
            (0.0..=100.0).contains(&n).then(|| number_value(n))
        }
    }
}

/// Digits, native Korean (스물다섯, 한, 열두) or Sino-Korean (이십오, 백이십).
pub fn number(s: &str) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    digits(s)
        .or_else(|| native(s).map(f64::from))
        .or_else(|| sino(s).map(|n| n as f64))
}

const NATIVE_TENS: [(&str, u32); 10] = [
    ("열", 10),
    ("스물", 20),
    ("스무", 20),
    ("서른", 30),
    ("마흔", 40),
    ("쉰", 50),
    ("예순", 60),
    ("일흔", 70),
    ("여든", 80),
    ("아흔", 90),
];
// Counter forms (한, 두, 세, 네) and the short forms before some counters (석, 넉, 서, 너).
const NATIVE_ONES: [(&str, u32); 20] = [
    ("하나", 1),
    ("한", 1),
    ("둘", 2),
    ("두", 2),
    ("셋", 3),
    ("세", 3),
    ("석", 3),
    ("서", 3),
    ("넷", 4),
    ("네", 4),
    ("넉", 4),
    ("너", 4),
    ("다섯", 5),
    ("여섯", 6),
    ("일곱", 7),
    ("여덟", 8),
    ("아홉", 9),
    ("닷", 5),
    ("엿", 6),
    ("열", 10),
];

/// Native Korean 1-99.
pub fn native(s: &str) -> Option<u32> {
    let ones = |r: &str| {
        NATIVE_ONES
            .iter()
            .find(|(w, n)| *w == r && *n < 10)
            .map(|(_, n)| *n)
    };
    if let Some(n) = ones(s) {
        return Some(n);
    }
    for (w, tens) in NATIVE_TENS {
        if let Some(rest) = s.strip_prefix(w) {
            if rest.is_empty() {
                return Some(tens);
            }
            // 스무 only stands alone (스무 살); 스물하나 … 스물아홉.
            if w != "스무" {
                if let Some(n) = ones(rest) {
                    return Some(tens + n);
                }
            }
        }
    }
    None
}

/// Sino-Korean: 십 = 10, 이십오 = 25, 백이십 = 120, 삼만 = 30000.
pub fn sino(s: &str) -> Option<u64> {
    let (mut total, mut section, mut digit) = (0u64, 0u64, None::<u64>);
    let mut any = false;
    for c in s.chars() {
        let d = match c {
            '영' | '공' => Some(0),
            '일' => Some(1),
            '이' => Some(2),
            '삼' => Some(3),
            '사' => Some(4),
            '오' => Some(5),
            '육' | '륙' => Some(6),
            '칠' => Some(7),
            '팔' => Some(8),
            '구' => Some(9),
            _ => None,
        };
        if let Some(d) = d {
            if digit.is_some() {
                return None; // "이삼" is not a number
            }
            digit = Some(d);
        } else {
            let unit = match c {
                '십' => 10,
                '백' => 100,
                '천' => 1000,
                '만' => 10_000,
                '억' => 100_000_000,
                _ => return None,
            };
            if unit >= 10_000 {
                total += (section + digit.unwrap_or(0)).max(1) * unit;
                section = 0;
            } else {
                section += digit.unwrap_or(1) * unit;
            }
            digit = None;
        }
        any = true;
    }
    any.then(|| total + section + digit.unwrap_or(0))
}

/// "5분", "한시간반", "삼십초", "1시간30분", "하루", "이틀".
pub fn duration(s: &str) -> Option<u64> {
    match s {
        "하루" => return Some(86_400),
        "이틀" => return Some(2 * 86_400),
        "반시간" => return Some(1800),
        _ => {}
    }
    let mut rest = s;
    let mut total = 0u64;
    while !rest.is_empty() {
        let (pos, unit_word, unit) = [("시간", 3600u64), ("분", 60), ("초", 1)]
            .iter()
            .filter_map(|(w, u)| rest.find(w).map(|p| (p, *w, *u)))
            .min_by_key(|(p, _, _)| *p)?;
        let n = number(&rest[..pos])?;
        total += (n * unit as f64).round() as u64;
        rest = &rest[pos + unit_word.len()..];
        if let Some(r) = rest.strip_prefix("반") {
            total += unit / 2;
            rest = r;
        }
    }
    (total > 0).then_some(total)
}

/// "오전7시", "일곱시반", "저녁여섯시", "오후3시15분", "정오", "자정".
pub fn time(s: &str) -> Option<TimeOfDay> {
    match s {
        "정오" => {
            return Some(TimeOfDay {
                hour: 12,
                minute: 0,
                exact: true,
            });
        }
        "자정" => {
            return Some(TimeOfDay {
                hour: 0,
                minute: 0,
                exact: true,
            });
        }
        _ => {}
    }
    const PARTS: [(&str, bool); 8] = [
        ("오전", false),
        ("아침", false),
        ("새벽", false),
        ("오후", true),
        ("낮", true),
        ("저녁", true),
        ("밤", true),
        ("내일", false),
    ];
    let (part, rest) = PARTS
        .iter()
        .filter(|(p, _)| *p != "내일")
        .find_map(|(p, pm)| s.strip_prefix(p).map(|r| (Some((*p, *pm)), r)))
        .unwrap_or((None, s));
    let (h_text, after) = rest.split_once('시')?;
    let h = number(h_text)?;
    if h.fract() != 0.0 || !(0.0..=24.0).contains(&h) || (part.is_some() && h > 12.0) {
        return None;
    }
    let h = h as u32;
    let after = after.strip_suffix("정각").unwrap_or(after);
    let minute = match after {
        "" => 0,
        "반" => 30,
        m => {
            let n = number(m.strip_suffix('분')?)?;
            if n.fract() != 0.0 || !(0.0..60.0).contains(&n) {
                return None;
            }
            n as u32
        }
    };
    let hour = match part {
        Some(("밤", _)) if h == 12 => 0,
        Some(("낮", _)) if h == 12 => 12,
        Some((_, true)) if h < 12 => h + 12,
        Some((_, false)) if h == 12 => 0,
        _ => h % 24,
    };
    Some(TimeOfDay {
        hour,
        minute,
        exact: part.is_some() || h > 12 || h == 0,
    })
}

/// Words for days: relative ones, then the weekdays from Monday (also the vocabulary).
pub const DAY_WORDS: [&str; 11] = [
    "오늘",
    "내일",
    "모레",
    "어제",
    "월요일",
    "화요일",
    "수요일",
    "목요일",
    "금요일",
    "토요일",
    "일요일",
];

/// 오늘, 내일, 모레, 어제, 금요일, 이번주금요일.
pub fn day(s: &str) -> Option<Day> {
    let s = s
        .strip_prefix("이번주")
        .or_else(|| s.strip_prefix("이번"))
        .unwrap_or(s);
    Some(match s {
        "오늘" | "오늘밤" => Day::Offset(0),
        "내일" => Day::Offset(1),
        "모레" | "내일모레" => Day::Offset(2),
        "글피" => Day::Offset(3),
        "어제" => Day::Offset(-1),
        "그제" | "그저께" => Day::Offset(-2),
        d => Day::Weekday(DAY_WORDS[4..].iter().position(|w| *w == d)? as u32),
    })
}
