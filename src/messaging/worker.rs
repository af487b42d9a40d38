//! The delivery thread: sends what is due in the outbox, marks it sent, or schedules a retry
//! with backoff. It wakes when a message is queued and when the next retry is due, and on
//! start-up picks up whatever a previous run left queued, so a crash or a power cut loses
//! nothing. A message is marked sent only after its backend accepted it; a crash in between
//! means one more attempt with the same idempotency key, which the backends make harmless.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::{Backends, SendError, outbox};
use crate::store::Store;

/// The longest sleep between looks at the outbox.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// A handle to the delivery thread, shared with the messaging skill.
#[derive(Clone)]
pub struct Outbox {
    pub db: Arc<Mutex<Store>>,
    wake: Arc<Mutex<Option<mpsc::Sender<()>>>>,
    /// Whether the last delivery attempt reached its server.
    online: Arc<AtomicBool>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Outbox {
    /// An outbox with no delivery thread (`sori ask`, fixtures): messages wait for `sori run`.
    pub fn detached(db: Arc<Mutex<Store>>) -> Outbox {
        Outbox {
            db,
            wake: Arc::new(Mutex::new(None)),
            online: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Starts the delivery thread.
    pub fn spawn(db: Arc<Mutex<Store>>, backends: Backends) -> Outbox {
        let (tx, rx) = mpsc::channel::<()>();
        let outbox = Outbox {
            db: db.clone(),
            wake: Arc::new(Mutex::new(Some(tx))),
            online: Arc::new(AtomicBool::new(true)),
        };
        let online = outbox.online.clone();
        std::thread::Builder::new()
            .name("sori-outbox".into())
            .spawn(move || run(&db, &backends, &rx, &online))
            .expect("spawning a thread");
        outbox
    }

    /// Tells the thread something was queued.
    pub fn poke(&self) {
        if let Ok(w) = self.wake.lock() {
            if let Some(tx) = w.as_ref() {
                let _ = tx.send(());
            }
        }
    }

    pub fn is_running(&self) -> bool {
        self.wake.lock().is_ok_and(|w| w.is_some())
    }

    pub fn online(&self) -> bool {
        self.online.load(Ordering::Relaxed)
    }
}

/// Sends everything due now; returns how many were delivered. Stops early (returning `None`)
/// if the database lock is gone.
pub fn deliver_due(db: &Mutex<Store>, backends: &Backends, online: &AtomicBool) -> Option<usize> {
    let due = match db.lock() {
        Ok(mut d) => outbox::due(d.conn(), now_ms()).unwrap_or_else(|e| {
            tracing::error!("outbox: {e}");
            Vec::new()
        }),
        Err(_) => return None,
    };
    let mut delivered = 0;
    for m in due {
        // The database is not held while the network is used.
        let result = backends.send(&m);
        let Ok(mut d) = db.lock() else { return None };
        let c = d.conn();
        let written = match &result {
            Ok(()) => {
                online.store(true, Ordering::Relaxed);
                delivered += 1;
                tracing::info!(id = m.id, contact = %m.contact, backend = %m.backend, "message delivered");
                outbox::mark_sent(c, m.id, now_ms())
            }
            Err(SendError::Temporary(e)) => {
                online.store(false, Ordering::Relaxed);
                tracing::warn!(id = m.id, contact = %m.contact, attempt = m.attempts + 1, "message not delivered yet: {e}");
                outbox::mark_failed(c, &m, e, false, now_ms())
            }
            Err(SendError::Permanent(e)) => {
                tracing::error!(id = m.id, contact = %m.contact, "message cannot be delivered: {e}");
                outbox::mark_failed(c, &m, e, true, now_ms())
            }
        };
        if let Err(e) = written {
            tracing::error!(id = m.id, "outbox not updated: {e}");
        }
    }
    Some(delivered)
}

/// How long until the next queued message is due (at most [`MAX_WAIT`]); `None`: nothing
/// is queued.
pub fn next_wait(db: &Mutex<Store>) -> Option<Duration> {
    let next = db
        .lock()
        .ok()
        .and_then(|mut d| outbox::next_due(d.conn()).ok().flatten())?;
    Some(Duration::from_millis(
        (next - now_ms()).clamp(0, MAX_WAIT.as_millis() as i64) as u64,
    ))
}

fn run(db: &Mutex<Store>, backends: &Backends, rx: &mpsc::Receiver<()>, online: &AtomicBool) {
    loop {
        if deliver_due(db, backends, online).is_none() {
            return;
        }
        match rx.recv_timeout(next_wait(db).unwrap_or(MAX_WAIT)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}
