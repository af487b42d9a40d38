//! How timers are spoken about: durations ("1 hour and 30 minutes" / "1시간 30분"), a
//! timer's label ("your pasta timer"), and matching a name as heard.

use super::store::Timer;
use crate::lang::en;

/// A timer's name as heard: exact, or inside an answer like "the pasta one" / "라면 거".
pub fn same_name(timer: &str, heard: &str) -> bool {
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
pub fn label(lang: &str, t: &Timer) -> String {
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
