//! The speaker's time zone: local wall time for what people say ("7 am", "tomorrow") and Unix
//! milliseconds for what is stored (timers, alarms), converted both ways. From
//! `location.timezone`, else the system's.

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// The system's zone (`/etc/localtime`, `TZ`).
    System,
    Named(Tz),
    /// UTC (tests, whose clocks are naive UTC).
    Utc,
}

impl Zone {
    /// `location.timezone` (validated at config load); empty: the system's.
    pub fn from_name(name: &str) -> Zone {
        name.parse::<Tz>().map_or(Zone::System, Zone::Named)
    }

    /// Local wall time at `ms`.
    pub fn local(&self, ms: i64) -> NaiveDateTime {
        let utc = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
        match self {
            Zone::System => utc.with_timezone(&Local).naive_local(),
            Zone::Named(tz) => utc.with_timezone(tz).naive_local(),
            Zone::Utc => utc.naive_utc(),
        }
    }

    /// Unix ms of a local wall time. A time that happens twice (clocks going back) is the
    /// first; one that never happens (clocks going forward) is an hour later.
    pub fn utc_ms(&self, t: NaiveDateTime) -> i64 {
        fn pick<Z: TimeZone>(z: &Z, t: NaiveDateTime) -> i64 {
            match z.from_local_datetime(&t) {
                chrono::LocalResult::Single(d) | chrono::LocalResult::Ambiguous(d, _) => {
                    d.timestamp_millis()
                }
                chrono::LocalResult::None => z
                    .from_local_datetime(&(t + chrono::Duration::hours(1)))
                    .earliest()
                    .map_or(t.and_utc().timestamp_millis(), |d| d.timestamp_millis()),
            }
        }
        match self {
            Zone::System => pick(&Local, t),
            Zone::Named(tz) => pick(tz, t),
            Zone::Utc => t.and_utc().timestamp_millis(),
        }
    }

    /// The zone's name for a place ("Asia/Seoul"), as Sori would look it up.
    pub fn name(&self) -> String {
        match self {
            Zone::System => "local".into(),
            Zone::Named(tz) => tz.name().into(),
            Zone::Utc => "UTC".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_convert_both_ways_across_daylight_saving() {
        let z = Zone::from_name("Europe/London");
        let t = chrono::NaiveDate::from_ymd_opt(2026, 7, 1)
            .unwrap()
            .and_hms_opt(7, 0, 0)
            .unwrap();
        let ms = z.utc_ms(t);
        assert_eq!(z.local(ms), t);
        assert_eq!(
            DateTime::<Utc>::from_timestamp_millis(ms)
                .unwrap()
                .naive_utc(),
            t - chrono::Duration::hours(1),
            "BST is UTC+1"
        );
        // 01:30 on 29 March 2026 does not exist in London: an hour later.
        let gap = chrono::NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(1, 30, 0)
            .unwrap();
        assert_eq!(z.local(z.utc_ms(gap)).format("%H:%M").to_string(), "02:30");
        assert_eq!(Zone::from_name("Asia/Seoul").name(), "Asia/Seoul");
        assert_eq!(Zone::from_name(""), Zone::System);
    }
}
