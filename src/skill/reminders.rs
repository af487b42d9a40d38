//! What is due: timers that have ended (and, with the alarms skill, alarms), turned into
//! announcements for the loop to ring and say. A sync engine over the state database; the
//! task in `pipeline::reminders` calls [`Reminders::poll`] and sleeps until the next one.

use std::sync::{Arc, Mutex};

use super::Responses;
use super::alarms::{self, store as alarm_store};
use super::timers::{speech, store as timers};
use super::zone::Zone;
use crate::pipeline::Announcement;
use crate::store::{Store, StoreError};

/// A timer that ended this long before Sori saw it ended while Sori was not running.
const LATE_MS: i64 = 60_000;

pub struct Reminders {
    db: Arc<Mutex<Store>>,
    responses: Responses,
    zone: Zone,
}

/// What [`Reminders::poll`] found.
#[derive(Debug, Default)]
pub struct Poll {
    pub due: Vec<Announcement>,
    /// When the next one is due (Unix ms), if any is scheduled.
    pub next_ms: Option<i64>,
}

impl Reminders {
    pub fn new(db: Arc<Mutex<Store>>, responses: Responses, zone: Zone) -> Self {
        Reminders {
            db,
            responses,
            zone,
        }
    }

    /// Everything due at `now_ms`, marked as announced before it is returned (an announcement
    /// cut short by a crash is not repeated), and when to look again.
    ///
    /// # Errors
    /// Database errors; nothing is marked then.
    pub fn poll(&self, now_ms: i64) -> Result<Poll, StoreError> {
        let mut db = self
            .db
            .lock()
            .map_err(|_| StoreError::Sql(rusqlite::Error::InvalidQuery))?;
        let tx = db.conn().transaction()?;
        let mut due = Vec::new();
        for t in timers::due(&tx, now_ms)? {
            timers::announced(&tx, t.id)?;
            due.push(self.timer_done(&t, now_ms));
        }
        for a in alarm_store::due(&tx, now_ms)? {
            alarm_store::rang(&tx, &a, now_ms, self.zone)?;
            due.push(self.alarm_rings(&a, now_ms));
        }
        let next_ms = [timers::next_end(&tx)?, alarm_store::next_ring(&tx)?]
            .into_iter()
            .flatten()
            .min();
        tx.commit()?;
        Ok(Poll { due, next_ms })
    }

    fn alarm_rings(&self, a: &alarm_store::Alarm, now_ms: i64) -> Announcement {
        let lang = if a.lang == "ko" { "ko" } else { "en" };
        let now = self.zone.local(now_ms);
        let time = super::builtin::clock::spoken_time(
            lang,
            chrono::Timelike::hour(&now),
            chrono::Timelike::minute(&now),
        );
        let speech = self
            .responses
            .render(
                lang,
                alarms::RING,
                "ring",
                &[
                    ("time", time.clone()),
                    ("time_is", crate::lang::ko::copula(&time)),
                ],
                true,
            )
            .unwrap_or(time);
        Announcement {
            key: format!("alarm:{}", a.id),
            speech,
            language: lang.to_string(),
            ring: true,
            chime: false,
            audio: None,
        }
    }

    fn timer_done(&self, t: &timers::Timer, now_ms: i64) -> Announcement {
        let lang = if t.lang == "ko" { "ko" } else { "en" };
        let label = speech::label(lang, t);
        let late = t.ends_at_ms.map_or(0, |e| now_ms - e);
        let (key, vars) = if late > LATE_MS {
            let ago = speech::spoken_duration(lang, late / 60_000 * 60);
            ("late", vec![("label", label.clone()), ("ago", ago)])
        } else {
            ("done", vec![("label", label.clone())])
        };
        let speech = self
            .responses
            .render(lang, "SoriTimerDone", key, &vars, true)
            .unwrap_or_else(|_| label.clone());
        Announcement {
            key: format!("timer:{}", t.id),
            speech,
            language: lang.to_string(),
            ring: true,
            chime: false,
            audio: None,
        }
    }
}
