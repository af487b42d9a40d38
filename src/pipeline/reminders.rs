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
