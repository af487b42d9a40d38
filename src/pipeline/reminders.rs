//! The reminder task: asks [`Reminders`] what is due, hands it to the loop, and sleeps until
//! the next timer or alarm (or until one is set or changed). Sleeps are tokio timers, so tests
//! run it with paused time; the wait is capped so a wall clock that jumps (a Pi setting its
//! clock from the network after boot) is noticed within a minute.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};

use super::Announcement;
use crate::skill::reminders::Reminders;

/// The wall clock, Unix ms (tests pass one that follows tokio's paused time).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Longest sleep between checks.
const MAX_WAIT_MS: i64 = 60_000;
/// After a database error, try again this soon.
const RETRY_MS: i64 = 5_000;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

/// Names the variable that starts the daemon's clock at a given time.
pub const FAKE_NOW: &str = "SORI_FAKE_NOW";

/// The system clock, or with `SORI_FAKE_NOW=2026-06-01T09:00:00Z` (RFC 3339) one that starts
/// at that instant and runs on from there: for tests and demos that need a known time of day
/// ("what time is it" in a recording, an alarm due in a minute). Timers, alarms and the
/// skills all read this clock, so they agree with each other.
///
/// # Errors
/// The variable is set but is not an RFC 3339 time.
pub fn clock_from_env() -> Result<Clock, String> {
    let Ok(value) = std::env::var(FAKE_NOW) else {
        return Ok(system_clock());
    };
    let start = chrono::DateTime::parse_from_rfc3339(value.trim()).map_err(|e| {
        format!("{FAKE_NOW}={value:?} is not a time ({e}); write it like 2026-06-01T09:00:00Z")
    })?;
    let offset = start.timestamp_millis() - chrono::Utc::now().timestamp_millis();
    tracing::warn!(start = %start, "{FAKE_NOW}: the clock is not the system's");
    Ok(Arc::new(move || {
        chrono::Utc::now().timestamp_millis() + offset
    }))
}

/// Runs until the loop stops listening (`tx` closed). Anything already due at start (a timer
/// that ended while Sori was off) is announced at once.
pub async fn run(
    reminders: Reminders,
    clock: Clock,
    changed: Arc<Notify>,
    tx: mpsc::Sender<Announcement>,
) {
    loop {
        let now = clock();
        // A small indexed query on a local file: quick enough to run inline.
        let wait = match reminders.poll(now) {
            Ok(p) => {
                for a in p.due {
                    tracing::info!(key = %a.key, "due");
                    if tx.send(a).await.is_err() {
                        return;
                    }
                }
                p.next_ms
                    .map_or(MAX_WAIT_MS, |n| (n - now).clamp(0, MAX_WAIT_MS))
            }
            Err(e) => {
                tracing::error!("cannot check timers and alarms: {e}");
                RETRY_MS
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            _ = changed.notified() => {}
            _ = tx.closed() => return,
        }
    }
}
