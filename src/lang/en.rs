//! English numbers and times in words ("twenty-one", "five thirty").

pub const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
pub const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(u64, &str); 4] = [
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];

/// A cardinal number in words: 105 → "one hundred five", -3 → "minus three".
pub fn cardinal(n: i64) -> String {
    if n < 0 {
        return format!("minus {}", cardinal_u(n.unsigned_abs()));
    }
    cardinal_u(n as u64)
}

fn cardinal_u(n: u64) -> String {
    if n < 20 {
        return ONES[n as usize].to_string();
    }
    if n < 100 {
        let (t, o) = (n / 10, n % 10);
        return if o == 0 {
            TENS[t as usize].to_string()
        } else {
            format!("{}-{}", TENS[t as usize], ONES[o as usize])
        };
    }
    if n < 1000 {
        let rest = n % 100;
        let head = format!("{} hundred", ONES[(n / 100) as usize]);
        return if rest == 0 {
            head
        } else {
            format!("{head} {}", cardinal_u(rest))
        };
    }
    for (scale, name) in SCALES {
        if n >= scale {
            let rest = n % scale;
            let head = format!("{} {name}", cardinal_u(n / scale));
            return if rest == 0 {
                head
            } else {
                format!("{head} {}", cardinal_u(rest))
            };
        }
    }
    unreachable!("every n ≥ 1000 has a scale")
}

/// An ordinal in words: 1 → "first", 21 → "twenty-first", 100 → "one hundredth".
pub fn ordinal(n: i64) -> String {
    let words = cardinal(n);
    let (head, last) = match words.rfind([' ', '-']) {
        Some(i) => words.split_at(i + 1),
        None => ("", words.as_str()),
    };
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    format!("{head}{last}")
}

/// A clock time as people read it: (5, 30) → "five thirty", (5, 0) → "five o'clock",
/// (5, 5) → "five oh five". Hours are read as given (13 → "thirteen").
pub fn clock(hour: u32, minute: u32) -> String {
    let h = cardinal(i64::from(hour));
    match minute {
        0 => format!("{h} o'clock"),
        1..=9 => format!("{h} oh {}", cardinal(i64::from(minute))),
        _ => format!("{h} {}", cardinal(i64::from(minute))),
    }
}

/// A decimal number as digits after "point": "3.05" → "three point zero five".
pub fn decimal(int_part: i64, frac_digits: &str) -> String {
    let frac: Vec<&str> = frac_digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| ONES[d as usize])
        .collect();
    format!("{} point {}", cardinal(int_part), frac.join(" "))
}

/// "1 minute", "5 minutes", "1 hour and 30 minutes"-style counts for replies.
pub fn count(n: i64, noun: &str) -> String {
    if n == 1 || n == -1 {
        format!("{n} {noun}")
    } else if let Some(stem) = noun
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{n} {stem}ies")
    } else if noun.ends_with(['s', 'x']) || noun.ends_with("ch") || noun.ends_with("sh") {
        format!("{n} {noun}es")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinals() {
        assert_eq!(cardinal(0), "zero");
        assert_eq!(cardinal(21), "twenty-one");
        assert_eq!(cardinal(105), "one hundred five");
        assert_eq!(cardinal(2026), "two thousand twenty-six");
        assert_eq!(cardinal(1_500_000), "one million five hundred thousand");
        assert_eq!(cardinal(-3), "minus three");
    }

    #[test]
    fn ordinals_and_times() {
        assert_eq!(ordinal(1), "first");
        assert_eq!(ordinal(21), "twenty-first");
        assert_eq!(ordinal(30), "thirtieth");
        assert_eq!(ordinal(12), "twelfth");
        assert_eq!(clock(5, 30), "five thirty");
        assert_eq!(clock(7, 0), "seven o'clock");
        assert_eq!(clock(9, 5), "nine oh five");
        assert_eq!(decimal(3, "05"), "three point zero five");
    }

    #[test]
    fn counts_take_plurals() {
        assert_eq!(super::count(1, "minute"), "1 minute");
        assert_eq!(super::count(5, "minute"), "5 minutes");
        assert_eq!(super::count(2, "alarm"), "2 alarms");
        assert_eq!(super::count(3, "match"), "3 matches");
        assert_eq!(super::count(2, "story"), "2 stories");
        assert_eq!(super::count(0, "day"), "0 days");
    }
}
