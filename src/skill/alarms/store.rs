//! Alarms as rows of the state database, and when each rings next. Written before Sori says
//! so, like timers. Times: local wall time for the schedule, Unix ms for `next_ms`.

use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime};
use rusqlite::{Connection, params};

use crate::skill::zone::Zone;
use crate::store::StoreError;

/// Bit per weekday, Monday first (chrono's `num_days_from_monday`).
pub const EVERY_DAY: i64 = 0b111_1111;
pub const WEEKDAYS: i64 = 0b001_1111;
pub const WEEKENDS: i64 = 0b110_0000;

#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub id: i64,
    pub hour: u32,
    pub minute: u32,
    /// 0: one-off.
    pub days: i64,
    pub label: Option<String>,
    pub lang: String,
    /// When it rings next; `None` once a one-off has rung.
    pub next_ms: Option<i64>,
    pub rang_ms: Option<i64>,
    pub snoozed: bool,
}

/// The first time after `after` (local) at `hour:minute` on one of `days` (any day if 0).
pub fn next_after(after: NaiveDateTime, hour: u32, minute: u32, days: i64) -> NaiveDateTime {
    let at = NaiveTime::from_hms_opt(hour.min(23), minute.min(59), 0).expect("valid time");
    (0..8)
        .map(|d| (after.date() + Duration::days(d)).and_time(at))
        .find(|t| {
            *t > after && (days == 0 || days & (1 << t.weekday().num_days_from_monday()) != 0)
        })
        .expect("some day within a week matches")
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<Alarm> {
    Ok(Alarm {
        id: r.get(0)?,
        hour: r.get(1)?,
        minute: r.get(2)?,
        days: r.get(3)?,
        label: r.get(4)?,
        lang: r.get(5)?,
        next_ms: r.get(6)?,
        rang_ms: r.get(7)?,
        snoozed: r.get::<_, i64>(8)? != 0,
    })
}

const COLUMNS: &str = "id, hour, minute, days, label, language, next_ms, rang_ms, snoozed";

/// Stores a new alarm ringing next at `next_ms`.
///
/// # Errors
/// The write failed: the alarm must not be reported as set.
pub fn add(
    c: &Connection,
    (hour, minute, days): (u32, u32, i64),
    label: Option<&str>,
    lang: &str,
    next_ms: i64,
    now_ms: i64,
) -> Result<Alarm, StoreError> {
    c.execute(
        "INSERT INTO alarms (hour, minute, days, label, language, next_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![hour, minute, days, label, lang, next_ms, now_ms],
    )?;
    get(c, c.last_insert_rowid()).map(|a| a.expect("just inserted"))
}

/// One alarm.
///
/// # Errors
/// Database errors.
pub fn get(c: &Connection, id: i64) -> Result<Option<Alarm>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM alarms WHERE id = ?1"),
        [id],
        row,
    )
    .optional()?)
}

/// Alarms still to ring, soonest first.
///
/// # Errors
/// Database errors.
pub fn upcoming(c: &Connection) -> Result<Vec<Alarm>, StoreError> {
    let mut s = c.prepare(&format!(
        "SELECT {COLUMNS} FROM alarms WHERE next_ms IS NOT NULL ORDER BY next_ms, id"
    ))?;
    let rows = s.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Alarms due at `now_ms`.
///
/// # Errors
/// Database errors.
pub fn due(c: &Connection, now_ms: i64) -> Result<Vec<Alarm>, StoreError> {
    Ok(upcoming(c)?
        .into_iter()
        .filter(|a| a.next_ms.is_some_and(|n| n <= now_ms))
        .collect())
}

/// The alarm rang at `now_ms`: a repeating one moves to its next day, a one-off is done (kept
/// a while, so "snooze" still finds it).
///
/// # Errors
/// Database errors.
pub fn rang(c: &Connection, a: &Alarm, now_ms: i64, zone: Zone) -> Result<(), StoreError> {
    let next = (a.days != 0)
        .then(|| zone.utc_ms(next_after(zone.local(now_ms), a.hour, a.minute, a.days)));
    c.execute(
        "UPDATE alarms SET next_ms = ?2, rang_ms = ?3, snoozed = 0 WHERE id = ?1",
        params![a.id, next, now_ms],
    )?;
    // One-offs that rang over a day ago are of no further use.
    c.execute(
        "DELETE FROM alarms WHERE next_ms IS NULL AND rang_ms < ?1",
        [now_ms - 86_400_000],
    )?;
    Ok(())
}

/// The alarm that rang last, if within `within_ms`.
///
/// # Errors
/// Database errors.
pub fn last_rung(c: &Connection, now_ms: i64, within_ms: i64) -> Result<Option<Alarm>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM alarms WHERE rang_ms >= ?1 ORDER BY rang_ms DESC, id DESC LIMIT 1"
        ),
        [now_ms - within_ms],
        row,
    )
    .optional()?)
}

/// Rings `a` again at `at_ms` (snooze). A repeating alarm's regular time comes back after.
///
/// # Errors
/// Database errors.
pub fn snooze(c: &Connection, id: i64, at_ms: i64) -> Result<(), StoreError> {
    c.execute(
        "UPDATE alarms SET next_ms = ?2, snoozed = 1 WHERE id = ?1",
        params![id, at_ms],
    )?;
    Ok(())
}

/// Removes an alarm; false if it was gone.
///
/// # Errors
/// Database errors.
pub fn remove(c: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(c.execute("DELETE FROM alarms WHERE id = ?1", [id])? > 0)
}

/// Removes every alarm still to ring; how many.
///
/// # Errors
/// Database errors.
pub fn remove_all(c: &Connection) -> Result<usize, StoreError> {
    Ok(c.execute("DELETE FROM alarms WHERE next_ms IS NOT NULL", [])?)
}

/// The soonest alarm.
///
/// # Errors
/// Database errors.
pub fn next_ring(c: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(c.query_row("SELECT MIN(next_ms) FROM alarms", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        // November 2026: the 23rd is a Monday.
        chrono::NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn next_ring_follows_the_days() {
        let thu_8am = at(26, 8, 0);
        assert_eq!(
            next_after(thu_8am, 7, 0, 0),
            at(27, 7, 0),
            "one-off: tomorrow"
        );
        assert_eq!(
            next_after(thu_8am, 9, 30, 0),
            at(26, 9, 30),
            "one-off: later today"
        );
        assert_eq!(next_after(thu_8am, 7, 0, WEEKDAYS), at(27, 7, 0));
        assert_eq!(
            next_after(at(27, 8, 0), 7, 0, WEEKDAYS),
            at(30, 7, 0),
            "Fri → Mon"
        );
        assert_eq!(next_after(thu_8am, 7, 0, WEEKENDS), at(28, 7, 0));
        assert_eq!(next_after(thu_8am, 7, 0, 1), at(30, 7, 0), "Mondays");
        assert_eq!(next_after(at(30, 6, 0), 7, 0, 1), at(30, 7, 0));
    }

    #[test]
    fn alarms_ring_move_on_snooze_and_go() {
        let mut s = crate::store::Store::memory().unwrap();
        let c = s.conn();
        let z = Zone::Utc;
        let now = z.utc_ms(at(26, 6, 0));
        let daily = add(
            c,
            (7, 0, EVERY_DAY),
            None,
            "en",
            z.utc_ms(at(26, 7, 0)),
            now,
        )
        .unwrap();
        let once = add(
            c,
            (6, 30, 0),
            Some("pills"),
            "en",
            z.utc_ms(at(26, 6, 30)),
            now,
        )
        .unwrap();
        assert_eq!(upcoming(c).unwrap()[0].id, once.id);
        let t = z.utc_ms(at(26, 7, 0));
        let due_now = due(c, t).unwrap();
        assert_eq!(due_now.len(), 2);
        for a in &due_now {
            rang(c, a, t, z).unwrap();
        }
        assert_eq!(
            get(c, daily.id).unwrap().unwrap().next_ms,
            Some(z.utc_ms(at(27, 7, 0)))
        );
        assert_eq!(get(c, once.id).unwrap().unwrap().next_ms, None);
        assert_eq!(
            last_rung(c, t + 60_000, 3_600_000).unwrap().unwrap().id,
            once.id.max(daily.id)
        );
        snooze(c, daily.id, t + 600_000).unwrap();
        assert_eq!(next_ring(c).unwrap(), Some(t + 600_000));
        assert_eq!(remove_all(c).unwrap(), 1, "only alarms still to ring");
    }
}
