//! Korean numbers: Sino-Korean (일, 이, 삼 … for minutes, seconds, dates, money) and native
//! Korean (하나, 둘 … with counter forms 한, 두, 세, 네, 스무 for hours, things, people), and
//! times as said ("다섯 시 삼십 분").

const SINO: [&str; 10] = ["영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"];
const NATIVE_ONES: [&str; 10] = [
    "", "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉",
];
const NATIVE_TENS: [&str; 10] = [
    "", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔",
];

pub fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

/// Sino-Korean reading: 25 → "이십오", 10 → "십" (not 일십), 10000 → "만", -3 → "마이너스 삼".
pub fn sino(n: i64) -> String {
    if n < 0 {
        return format!("마이너스 {}", sino(-n));
    }
    if n == 0 {
        return SINO[0].to_string();
    }
    let mut out = String::new();
    let mut n = n as u64;
    // Groups of four digits: 억 (10^8), 만 (10^4), then units.
    for (scale, name) in [
        (1_0000_0000_0000u64, "조"),
        (1_0000_0000, "억"),
        (1_0000, "만"),
        (1, ""),
    ] {
        let group = n / scale;
        n %= scale;
        if group == 0 {
            continue;
        }
        // 만 alone, not 일만; but 억 and 조 keep 일 (일억).
        if !(group == 1 && name == "만") {
            out.push_str(&sino_group(group));
        }
        out.push_str(name);
        if !name.is_empty() && n > 0 {
            out.push(' ');
        }
    }
    out
}

/// 1..=9999 without the leading 일 before 십, 백, 천.
fn sino_group(n: u64) -> String {
    let mut out = String::new();
    for (place, name) in [(1000, "천"), (100, "백"), (10, "십")] {
        let d = (n / place) % 10;
        if d > 0 {
            if d > 1 {
                out.push_str(SINO[d as usize]);
            }
            out.push_str(name);
        }
    }
    let d = n % 10;
    if d > 0 {
        out.push_str(SINO[d as usize]);
    }
    out
}

/// Native Korean counting form (1–99): 5 → "다섯", 21 → "스물하나". Beyond 99 Korean switches to
/// Sino-Korean, and so does this.
pub fn native(n: i64) -> String {
    if !(1..=99).contains(&n) {
        return sino(n);
    }
    format!(
        "{}{}",
        NATIVE_TENS[(n / 10) as usize],
        NATIVE_ONES[(n % 10) as usize]
    )
}

/// Native Korean before a counter (시, 개, 명, 시간): 1 → "한", 2 → "두", 3 → "세", 4 → "네",
/// 20 → "스무", 21 → "스물한".
pub fn native_counter(n: i64) -> String {
    if !(1..=99).contains(&n) {
        return sino(n);
    }
    let tens = if n == 20 {
        "스무"
    } else {
        NATIVE_TENS[(n / 10) as usize]
    };
    let ones = match n % 10 {
        1 => "한",
        2 => "두",
        3 => "세",
        4 => "네",
        d => NATIVE_ONES[d as usize],
    };
    format!("{tens}{ones}")
}

/// Counters read with native numbers (the rest take Sino-Korean).
pub const NATIVE_COUNTERS: [&str; 12] = [
    "시간", "시", "개", "명", "살", "마리", "잔", "번째", "권", "병", "대", "가지",
];

/// A number before `counter`, in the reading Korean uses for it: (5, "시") → "다섯 시",
/// (3, "분") → "삼 분", (6, "월") → "유월", (10, "월") → "시월".
pub fn with_counter(n: i64, counter: &str) -> String {
    if counter == "월" {
        return match n {
            6 => "유월".into(),
            10 => "시월".into(),
            _ => format!("{}월", sino(n)),
        };
    }
    if NATIVE_COUNTERS.contains(&counter) && (1..=99).contains(&n) {
        format!("{} {counter}", native_counter(n))
    } else {
        format!("{} {counter}", sino(n))
    }
}

/// A clock time: (5, 30) → "다섯 시 삼십 분", (7, 0) → "일곱 시". Hours 13–23 are read on the
/// 12-hour clock with 오후 (afternoon) in front.
pub fn clock(hour: u32, minute: u32) -> String {
    let (prefix, h) = match hour {
        0 => ("오전 ", 12),
        13..=23 => ("오후 ", hour - 12),
        h => ("", h),
    };
    let mut out = format!("{prefix}{}", with_counter(i64::from(h), "시"));
    if minute > 0 {
        out.push(' ');
        out.push_str(&with_counter(i64::from(minute), "분"));
    }
    out
}

/// Decimal: "3.5" → "삼 점 오".
pub fn decimal(int_part: i64, frac_digits: &str) -> String {
    let frac: String = frac_digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| SINO[d as usize])
        .collect();
    format!("{} 점 {frac}", sino(int_part))
}

/// True if the last Hangul syllable of `word` ends in a consonant (받침), which picks the
/// particle: 은/는, 이/가, 을/를, 이에요/예요. Digits are read Sino-Korean ("7시" ends in 시).
pub fn has_batchim(word: &str) -> bool {
    let last = word.trim_end().chars().rev().find(|c| c.is_alphanumeric());
    match last {
        Some(c @ '\u{AC00}'..='\u{D7A3}') => (c as u32 - 0xAC00) % 28 != 0,
        // 영 일 이 삼 사 오 육 칠 팔 구: the ones with a final consonant.
        Some(d @ '0'..='9') => matches!(d, '0' | '1' | '3' | '6' | '7' | '8'),
        _ => false,
    }
}

/// `word` with the topic particle: 오늘은, 내일은, 금요일은, 모레는.
pub fn topic(word: &str) -> String {
    format!("{word}{}", if has_batchim(word) { "은" } else { "는" })
}

/// `word` with the polite copula: 시간이에요, 오전 7시예요.
pub fn copula(word: &str) -> String {
    format!(
        "{word}{}",
        if has_batchim(word) {
            "이에요"
        } else {
            "예요"
        }
    )
}

/// `word` with the past polite copula: 목요일이었어요, 26일이었어요.
pub fn copula_past(word: &str) -> String {
    format!(
        "{word}{}",
        if has_batchim(word) {
            "이었어요"
        } else {
            "였어요"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sino_korean() {
        assert_eq!(sino(0), "영");
        assert_eq!(sino(10), "십");
        assert_eq!(sino(25), "이십오");
        assert_eq!(sino(111), "백십일");
        assert_eq!(sino(2026), "이천이십육");
        assert_eq!(sino(10000), "만");
        assert_eq!(sino(35000), "삼만 오천");
        assert_eq!(sino(100_000_000), "일억");
    }

    #[test]
    fn native_korean_and_counters() {
        assert_eq!(native(5), "다섯");
        assert_eq!(native(21), "스물하나");
        assert_eq!(native_counter(1), "한");
        assert_eq!(native_counter(20), "스무");
        assert_eq!(native_counter(24), "스물네");
        assert_eq!(with_counter(3, "분"), "삼 분");
        assert_eq!(with_counter(5, "시"), "다섯 시");
        assert_eq!(with_counter(2, "시간"), "두 시간");
        assert_eq!(with_counter(6, "월"), "유월");
        assert_eq!(with_counter(10, "월"), "시월");
        assert_eq!(clock(5, 30), "다섯 시 삼십 분");
        assert_eq!(clock(19, 0), "오후 일곱 시");
        assert_eq!(decimal(3, "5"), "삼 점 오");
    }
}
