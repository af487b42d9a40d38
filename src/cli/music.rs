//! `sori music`: index the music library and search it.

use std::io::Write;

use sori::config::Config;
use sori::music::library;
use sori::store::Store;

#[derive(clap::Subcommand)]
pub enum MusicCommand {
    /// Scan `music.dirs` and update the library index (only changed files are read again).
    Scan,
    /// Search the library by title, artist, album or genre.
    Search {
        #[arg(required = true)]
        words: Vec<String>,
        /// At most this many results.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

pub fn run(cfg: &Config, cmd: MusicCommand) -> anyhow::Result<()> {
    let mut store = Store::open(&cfg.state_dir())?;
    match cmd {
        MusicCommand::Scan => {
            if cfg.music.dirs.is_empty() {
                anyhow::bail!(
                    "no music directories: set music.dirs = [\"/path/to/music\"] in the config"
                );
            }
            let dirs = cfg.music.dir_paths();
            let started = std::time::Instant::now();
            let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let report = library::scan(store.conn(), &dirs, |done, total| {
                // A line per 100 files (or a live counter on a terminal) for big libraries.
                if tty {
                    eprint!("\rscanning {done}/{total}");
                    let _ = std::io::stderr().flush();
                } else if done % 100 == 0 || done == total {
                    eprintln!("scanned {done}/{total}");
                }
            })?;
            if tty {
                eprintln!();
            }
            for (path, why) in &report.failed {
                eprintln!("skipped {}: {why}", path.display());
            }
            println!(
                "{} tracks: {} added, {} updated, {} removed, {} unchanged, {} unreadable ({:.1} s)",
                library::count(store.conn())?,
                report.added,
                report.updated,
                report.removed,
                report.unchanged,
                report.failed.len(),
                started.elapsed().as_secs_f32()
            );
        }
        MusicCommand::Search { words, limit } => {
            let found = library::search(store.conn(), &words.join(" "), limit)?;
            if found.is_empty() {
                eprintln!("nothing found (run `sori music scan` after adding music)");
            }
            for t in found {
                println!(
                    "{} — {} — {}  ({})",
                    t.title,
                    t.artist.as_deref().unwrap_or("?"),
                    t.album.as_deref().unwrap_or("?"),
                    t.path.display()
                );
            }
        }
    }
    Ok(())
}
