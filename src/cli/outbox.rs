//! `sori outbox`: what messages are waiting or were sent, and delivering them now (a running
//! `sori run` delivers on its own; this is for checking and for scripts).

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use sori::config::Config;
use sori::messaging::{Backends, outbox, worker};
use sori::store::Store;

#[derive(clap::Subcommand)]
pub enum OutboxCommand {
    /// The most recent messages and their state.
    List {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// One JSON object per message.
        #[arg(long)]
        json: bool,
    },
    /// Deliver what is due now, waiting out retries, until nothing is queued (or --once).
    Deliver {
        /// One pass over what is due now, then exit.
        #[arg(long)]
        once: bool,
    },
}

pub fn run(cfg: &Config, cmd: OutboxCommand) -> anyhow::Result<()> {
    let mut store = Store::open(&cfg.state_dir())?;
    match cmd {
        OutboxCommand::List { limit, json } => {
            for m in outbox::recent(store.conn(), limit)? {
                if json {
                    println!("{}", serde_json::to_string(&m)?);
                } else {
                    let when = chrono::DateTime::from_timestamp_millis(m.created_ms)
                        .map(|t| {
                            t.with_timezone(&chrono::Local)
                                .format("%Y-%m-%d %H:%M")
                                .to_string()
                        })
                        .unwrap_or_default();
                    let state = match (&m.state, &m.last_error) {
                        (outbox::State::Queued, Some(e)) => {
                            format!("queued ({} tries: {e})", m.attempts)
                        }
                        (outbox::State::Failed, Some(e)) => format!("failed: {e}"),
                        (s, _) => format!("{s:?}").to_lowercase(),
                    };
                    println!(
                        "{when}  to {} by {}: {:?}  [{state}]",
                        m.contact, m.backend, m.body
                    );
                }
            }
        }
        OutboxCommand::Deliver { once } => {
            let db = Mutex::new(store);
            let backends = Backends::from_config(cfg);
            let online = AtomicBool::new(true);
            let mut total = 0;
            loop {
                total += worker::deliver_due(&db, &backends, &online).unwrap_or(0);
                match worker::next_wait(&db) {
                    Some(wait) if !once => std::thread::sleep(wait),
                    _ => break,
                }
            }
            let queued = outbox::due(
                db.lock().map_err(|_| anyhow::anyhow!("lock"))?.conn(),
                i64::MAX,
            )?
            .len();
            eprintln!("{total} delivered, {queued} still queued");
        }
    }
    Ok(())
}
