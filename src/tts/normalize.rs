//! Text normalisation before phonemizing: numbers, times, temperatures, units and
//! abbreviations become the words a person would say ("5:30" → "five thirty", "3분" → "삼 분",
//! "21°C" → "twenty-one degrees Celsius"). Engines read digits badly or not at all (espeak-ng's
//! Korean voice spells them), so every voice gets normalised text.

use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::lang::{en, ko};

fn re(pattern: &str) -> Regex {
    // ASCII word boundaries: Hangul right after a number ("5시", "05예요") still ends the number.
    let pattern = pattern.replace(r"\b", r"(?-u:\b)");
    Regex::new(&pattern).expect("normaliser patterns are valid")
}

/// Normalises `text` for speaking in `language` (`en`, `ko`; others pass through unchanged).
pub fn normalize(text: &str, language: &str) -> String {
    let out = match language {
        "ko" => korean(text),
        "en" | "" => english(text),
        _ => text.to_string(),
    };
    // Collapse the spaces replacements leave behind.
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A run of digits (thousands separators are already gone: `THOUSANDS` runs first).
fn int(s: &str) -> i64 {
    s.parse().unwrap_or(0)
}

static THOUSANDS: LazyLock<Regex> = LazyLock::new(|| re(r"\b\d{1,3}(?:,\d{3})+\b"));
static CLOCK: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(\d{1,2}):(\d{2})\b(?:\s*([aApP])\.?\s?[mM]\b)?"));
static TEMPERATURE: LazyLock<Regex> = LazyLock::new(|| re(r"([-−]?)(\d+(?:\.\d+)?)\s*°\s*([CF])?"));
static PERCENT: LazyLock<Regex> = LazyLock::new(|| re(r"(\d+(?:\.\d+)?)\s*%"));
static DECIMAL: LazyLock<Regex> = LazyLock::new(|| re(r"([-−]?)\b(\d+)\.(\d+)\b"));
static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| re(r"(^|\s)[-−](\d)"));
static INTEGER: LazyLock<Regex> = LazyLock::new(|| re(r"\d+"));

static EN_AMPM: LazyLock<Regex> = LazyLock::new(|| re(r"\b(\d{1,2})\s*([aApP])\.?\s?[mM]\b"));
static EN_ORDINAL: LazyLock<Regex> = LazyLock::new(|| re(r"\b(\d+)(?:st|nd|rd|th)\b"));
static EN_MONEY: LazyLock<Regex> = LazyLock::new(|| re(r"([$€£])(\d+)(?:\.(\d{2}))?\b"));
static EN_UNIT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(\d+(?:\.\d+)?)\s*(km/h|mph|m/s|km|cm|mm|kg|hPa|kWh|ms)\b"));
/// Abbreviations spoken in full; matched with their dot, case-sensitive.
const EN_ABBREVIATIONS: [(&str, &str); 11] = [
    ("Dr.", "Doctor"),
    ("Mr.", "Mister"),
    ("Mrs.", "Missus"),
    ("Ms.", "Miz"),
    ("St.", "Saint"),
    ("e.g.", "for example"),
    ("i.e.", "that is"),
    ("etc.", "et cetera"),
    ("vs.", "versus"),
    ("approx.", "approximately"),
    ("&", "and"),
];

fn english(text: &str) -> String {
    let mut t = text.to_string();
    for (abbr, full) in EN_ABBREVIATIONS {
        t = t.replace(abbr, full);
    }
    let t = THOUSANDS.replace_all(&t, |c: &Captures| c[0].replace(',', ""));
    let t = CLOCK.replace_all(&t, |c: &Captures| {
        let words = en::clock(int(&c[1]) as u32, int(&c[2]) as u32);
        match c.get(3).map(|m| m.as_str().to_ascii_lowercase()) {
            // "5:30 am" → "five thirty a m"; with am/pm, "o'clock" is dropped ("seven a m").
            Some(ap) => format!("{} {ap} m", words.trim_end_matches(" o'clock")),
            None => words,
        }
    });
    let t = EN_AMPM.replace_all(&t, |c: &Captures| {
        format!(
            "{} {} m",
            en::cardinal(int(&c[1])),
            c[2].to_ascii_lowercase()
        )
    });
    let t = TEMPERATURE.replace_all(&t, |c: &Captures| {
        let n = number_en(&c[2]);
        let minus = if c[1].is_empty() { "" } else { "minus " };
        let degrees = if &c[2] == "1" { "degree" } else { "degrees" };
        let scale = match c.get(3).map(|m| m.as_str()) {
            Some("C") => " Celsius",
            Some("F") => " Fahrenheit",
            _ => "",
        };
        format!("{minus}{n} {degrees}{scale}")
    });
    let t = PERCENT.replace_all(&t, |c: &Captures| format!("{} percent", number_en(&c[1])));
    let t = EN_MONEY.replace_all(&t, |c: &Captures| {
        let unit = match &c[1] {
            "$" => "dollar",
            "€" => "euro",
            _ => "pound",
        };
        let n = int(&c[2]);
        let mut s = format!(
            "{} {unit}{}",
            en::cardinal(n),
            if n == 1 { "" } else { "s" }
        );
        if let Some(cents) = c.get(3).map(|m| int(m.as_str())).filter(|&c| c > 0) {
            s.push_str(&format!(
                " {} cent{}",
                en::cardinal(cents),
                if cents == 1 { "" } else { "s" }
            ));
        }
        s
    });
    let t = EN_UNIT.replace_all(&t, |c: &Captures| {
        let one = &c[1] == "1";
        let unit = match &c[2] {
            "km/h" => "kilometers per hour",
            "mph" => "miles per hour",
            "m/s" => "meters per second",
            "km" if one => "kilometer",
            "km" => "kilometers",
            "cm" if one => "centimeter",
            "cm" => "centimeters",
            "mm" if one => "millimeter",
            "mm" => "millimeters",
            "kg" if one => "kilogram",
            "kg" => "kilograms",
            "hPa" => "hectopascals",
            "kWh" => "kilowatt hours",
            "ms" if one => "millisecond",
            _ => "milliseconds",
        };
        format!("{} {unit}", number_en(&c[1]))
    });
    let t = EN_ORDINAL.replace_all(&t, |c: &Captures| en::ordinal(int(&c[1])));
    let t = DECIMAL.replace_all(&t, |c: &Captures| {
        let minus = if c[1].is_empty() { "" } else { "minus " };
        format!("{minus}{}", en::decimal(int(&c[2]), &c[3]))
    });
    let t = NEGATIVE.replace_all(&t, "${1}minus $2");
    INTEGER
        .replace_all(&t, |c: &Captures| en::cardinal(int(&c[0])))
        .into_owned()
}

fn number_en(s: &str) -> String {
    match s.split_once('.') {
        Some((i, f)) => en::decimal(int(i), f),
        None => en::cardinal(int(s)),
    }
}

fn number_ko(s: &str) -> String {
    match s.split_once('.') {
        Some((i, f)) => ko::decimal(int(i), f),
        None => ko::sino(int(s)),
    }
}

/// Counters after a number, longest first so 시간 wins over 시.
static KO_COUNTER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(\d+)\s*(시간|번째|마리|가지|퍼센트|킬로미터|시|분|초|개|명|살|잔|권|병|대|도|월|일|년|원|층|번|주|달)",
    )
});
static KO_UNIT: LazyLock<Regex> = LazyLock::new(|| re(r"(\d+(?:\.\d+)?)\s*(km/h|km|cm|mm|kg|hPa)"));

fn korean(text: &str) -> String {
    let t = THOUSANDS.replace_all(text, |c: &Captures| c[0].replace(',', ""));
    let t = CLOCK.replace_all(&t, |c: &Captures| {
        let (h, m) = (int(&c[1]) as u32, int(&c[2]) as u32);
        match c.get(3).map(|m| m.as_str().to_ascii_lowercase()) {
            Some(ap) if ap == "a" => format!("오전 {}", ko::clock(h % 12, m)),
            Some(_) => format!("오후 {}", ko::clock(h % 12, m)),
            None => ko::clock(h, m),
        }
    });
    let t = TEMPERATURE.replace_all(&t, |c: &Captures| {
        // Below zero is 영하 ("under zero") in weather speech.
        let below = if c[1].is_empty() { "" } else { "영하 " };
        format!("{below}{} 도", number_ko(&c[2]))
    });
    let t = PERCENT.replace_all(&t, |c: &Captures| format!("{} 퍼센트", number_ko(&c[1])));
    let t = KO_UNIT.replace_all(&t, |c: &Captures| {
        let unit = match &c[2] {
            "km/h" => "킬로미터",
            "km" => "킬로미터",
            "cm" => "센티미터",
            "mm" => "밀리미터",
            "kg" => "킬로그램",
            _ => "헥토파스칼",
        };
        format!("{} {unit}", number_ko(&c[1]))
    });
    let t = KO_COUNTER.replace_all(&t, |c: &Captures| ko::with_counter(int(&c[1]), &c[2]));
    let t = DECIMAL.replace_all(&t, |c: &Captures| {
        let minus = if c[1].is_empty() { "" } else { "마이너스 " };
        format!("{minus}{}", ko::decimal(int(&c[2]), &c[3]))
    });
    let t = NEGATIVE.replace_all(&t, "${1}마이너스 $2");
    INTEGER
        .replace_all(&t, |c: &Captures| ko::sino(int(&c[0])))
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn english_cases() {
        let cases = [
            ("It's 5:30.", "It's five thirty."),
            ("Wake up at 7:00 am", "Wake up at seven a m"),
            ("The alarm is at 7 AM.", "The alarm is at seven a m."),
            (
                "It is 21°C and sunny.",
                "It is twenty-one degrees Celsius and sunny.",
            ),
            (
                "Low of -3°C tonight",
                "Low of minus three degrees Celsius tonight",
            ),
            ("1°F", "one degree Fahrenheit"),
            ("Rain chance 40%.", "Rain chance forty percent."),
            ("Wind 12 km/h", "Wind twelve kilometers per hour"),
            ("1 km away", "one kilometer away"),
            ("It costs $3.50", "It costs three dollars fifty cents"),
            (
                "Set for 1,500 steps",
                "Set for one thousand five hundred steps",
            ),
            ("the 21st of May", "the twenty-first of May"),
            ("Volume 3.5", "Volume three point five"),
            ("Dr. Kim & Mr. Lee", "Doctor Kim and Mister Lee"),
            ("Timer: 10 minutes", "Timer: ten minutes"),
            ("no digits here.", "no digits here."),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input, "en"), want, "{input}");
        }
    }

    #[test]
    fn korean_cases() {
        let cases = [
            ("3분 남았어요.", "삼 분 남았어요."),
            ("5시 30분이에요.", "다섯 시 삼십 분이에요."),
            ("지금은 17:05예요.", "지금은 오후 다섯 시 오 분예요."),
            ("오전 7시에 깨워 드릴게요.", "오전 일곱 시에 깨워 드릴게요."),
            ("기온은 21°C예요.", "기온은 이십일 도예요."),
            ("최저 -3°C", "최저 영하 삼 도"),
            ("비 올 확률 40%", "비 올 확률 사십 퍼센트"),
            ("1시간 30분 타이머", "한 시간 삼십 분 타이머"),
            ("6월 10일", "유월 십 일"),
            ("사과 3개", "사과 세 개"),
            ("볼륨 5", "볼륨 오"),
            ("2026년", "이천이십육 년"),
            ("풍속 12km/h", "풍속 십이 킬로미터"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input, "ko"), want, "{input}");
        }
    }
}
