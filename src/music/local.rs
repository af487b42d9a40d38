//! The built-in player: plays the queue on the mixer's music channel (rodio, decoding with
//! symphonia), so ducking and the device volume apply to it. A thread owns the queue: it
//! takes commands, notices when a track ends, loads the next one shortly before (so tracks
//! follow each other without a gap worth hearing), and saves queue and position in the state
//! database so a restart resumes where it stopped.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::queue::Queue;
use super::{Command, Item, PlayState, Player, PlayerError, Status};
use crate::audio::mixer::Mixer;
use crate::store::Store;

/// How often the thread looks at the playing track.
const TICK: Duration = Duration::from_millis(100);
/// The next track is decoded and queued this long before the current one ends.
const PRELOAD_MS: u64 = 3000;
/// How often the position is saved while playing.
const SAVE_EVERY: Duration = Duration::from_secs(5);

pub struct LocalPlayer {
    tx: Mutex<mpsc::Sender<Command>>,
    shared: Arc<Mutex<Queue>>,
}

impl LocalPlayer {
    /// Starts the player thread. The queue saved in `db` is restored paused (a restart never
    /// starts music by itself); "resume" continues where it was.
    pub fn spawn(db: Arc<Mutex<Store>>, mixer: Mixer) -> LocalPlayer {
        let mut queue = super::load_queue(&db).unwrap_or_else(|e| {
            tracing::warn!("music queue not restored: {e}");
            Queue::default()
        });
        if queue.state == PlayState::Playing {
            queue.state = PlayState::Paused;
        }
        let shared = Arc::new(Mutex::new(queue.clone()));
        let (tx, rx) = mpsc::channel();
        let mut worker = Worker {
            queue,
            shared: shared.clone(),
            db,
            mixer,
            loaded: VecDeque::new(),
            saved: Instant::now(),
        };
        std::thread::Builder::new()
            .name("sori-music".into())
            .spawn(move || worker.run(&rx))
            .expect("spawning a thread");
        LocalPlayer {
            tx: Mutex::new(tx),
            shared,
        }
    }
}

impl Player for LocalPlayer {
    fn command(&self, command: Command) -> Result<(), PlayerError> {
        self.tx
            .lock()
            .map_err(|_| PlayerError::NoOutput)?
            .send(command)
            .map_err(|_| PlayerError::NoOutput)
    }

    fn status(&self) -> Result<Status, PlayerError> {
        let q = self.shared.lock().map_err(|_| PlayerError::NoOutput)?;
        Ok(super::status_of(&q))
    }
}

struct Worker {
    queue: Queue,
    shared: Arc<Mutex<Queue>>,
    db: Arc<Mutex<Store>>,
    mixer: Mixer,
    /// Positions (in the queue's order) of the tracks handed to rodio, the playing one first.
    loaded: VecDeque<usize>,
    saved: Instant,
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// Decodes a file or a radio stream for the music channel.
fn open(item: &Item) -> Result<Box<dyn rodio::Source + Send>, PlayerError> {
    let fail = |reason: String| PlayerError::Unplayable {
        uri: item.uri.clone(),
        reason,
    };
    if item.radio {
        return super::radio::decoder(&item.uri).map_err(|e| fail(e.to_string()));
    }
    let file = std::fs::File::open(&item.uri).map_err(|e| fail(e.to_string()))?;
    let d = rodio::Decoder::try_from(file).map_err(|e| fail(e.to_string()))?;
    Ok(Box::new(d))
}

impl Worker {
    fn run(&mut self, rx: &mpsc::Receiver<Command>) {
        loop {
            match rx.recv_timeout(TICK) {
                Ok(c) => {
                    self.handle(c);
                    self.save();
                }
                Err(mpsc::RecvTimeoutError::Timeout) => self.tick(),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.save();
                    return;
                }
            }
            if let Ok(mut s) = self.shared.lock() {
                s.clone_from(&self.queue);
            }
        }
    }

    fn player(&self) -> Option<Arc<rodio::Player>> {
        self.mixer.music().map(|m| m.player)
    }

    fn handle(&mut self, c: Command) {
        tracing::info!(command = ?DebugCommand(&c), "music");
        match c {
            Command::Play { items, shuffle } => {
                self.queue = Queue::new(items, shuffle.then(seed));
                self.start(0);
            }
            Command::Pause => {
                if let Some(p) = self.player() {
                    p.pause();
                }
                if self.queue.state == PlayState::Playing {
                    self.queue.state = PlayState::Paused;
                }
            }
            Command::Resume => match (self.queue.state, self.loaded.is_empty()) {
                (PlayState::Paused, false) => {
                    if let Some(p) = self.player() {
                        p.play();
                    }
                    self.queue.state = PlayState::Playing;
                }
                // After a restart or a stop: load the current track again, at its position.
                _ if self.queue.current().is_some() => {
                    let at = self.queue.position_ms;
                    self.start(at);
                }
                _ => {}
            },
            Command::Stop => {
                self.flush();
                self.queue.state = PlayState::Stopped;
                self.queue.position_ms = 0;
            }
            Command::Next => {
                if self.queue.advance() {
                    self.start(0);
                } else {
                    self.flush();
                }
            }
            Command::Restart => self.start(0),
            Command::Previous => {
                self.queue.previous();
                self.start(0);
            }
            Command::Shuffle => {
                // A track already handed to rodio stays next; the rest is shuffled.
                let keep = self.loaded.len().max(1);
                self.queue.reshuffle_after(keep, seed());
            }
        }
    }

    /// Empties rodio's queue without waiting on the device (a vanished speaker cannot hang
    /// the player): skip everything, then give the audio thread a moment to drop it.
    fn flush(&mut self) {
        self.loaded.clear();
        let Some(p) = self.player() else { return };
        for _ in 0..p.len() {
            p.skip_one();
        }
        let deadline = Instant::now() + Duration::from_millis(300);
        while !p.empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Plays the queue's current track from `at_ms`; an unplayable track is skipped.
    fn start(&mut self, at_ms: u64) {
        self.flush();
        let Some(p) = self.player() else {
            tracing::warn!("no speaker to play music on");
            self.queue.state = PlayState::Stopped;
            return;
        };
        loop {
            let Some(item) = self.queue.current().cloned() else {
                self.queue.state = PlayState::Stopped;
                return;
            };
            match open(&item) {
                Ok(src) => {
                    p.append(src);
                    if at_ms > 0 && !item.radio {
                        if let Err(e) = p.try_seek(Duration::from_millis(at_ms)) {
                            tracing::debug!("could not resume at {at_ms} ms: {e}");
                        }
                    }
                    p.play();
                    self.loaded.push_back(self.queue.pos);
                    self.queue.state = PlayState::Playing;
                    self.queue.position_ms = at_ms;
                    tracing::info!(title = %item.title, "playing");
                    return;
                }
                Err(e) => {
                    tracing::warn!("{e}; skipping it");
                    if !self.queue.advance() {
                        return;
                    }
                }
            }
        }
    }

    fn tick(&mut self) {
        let Some(p) = self.player() else { return };
        if self.loaded.is_empty() {
            return;
        }
        // Tracks rodio has finished.
        let mut ended = false;
        while self.loaded.len() > p.len() {
            self.loaded.pop_front();
            ended = true;
            match self.loaded.front() {
                Some(&pos) => {
                    self.queue.pos = pos;
                    self.queue.position_ms = 0;
                }
                None if self.queue.state == PlayState::Playing => {
                    if self.queue.advance() {
                        self.start(0);
                    }
                    self.save();
                    return;
                }
                None => {}
            }
        }
        if self.queue.state != PlayState::Playing {
            return;
        }
        self.queue.position_ms = p.get_pos().as_millis() as u64;
        // Queue the next track a little before this one ends.
        let near_end = self
            .queue
            .current()
            .and_then(|c| c.duration_ms)
            .is_some_and(|d| d.saturating_sub(self.queue.position_ms) < PRELOAD_MS);
        if near_end && self.loaded.len() == 1 {
            let next = self.queue.pos + 1;
            if let Some(item) = self.queue.upcoming().cloned() {
                match open(&item) {
                    Ok(src) => {
                        p.append(src);
                        self.loaded.push_back(next);
                    }
                    Err(e) => tracing::warn!("{e}; it will be skipped"),
                }
            }
        }
        if ended || self.saved.elapsed() >= SAVE_EVERY {
            self.save();
        }
    }

    fn save(&mut self) {
        self.saved = Instant::now();
        if let Err(e) = super::save_queue(&self.db, &self.queue) {
            tracing::warn!("music queue not saved: {e}");
        }
    }
}

/// Logs a command without its whole item list.
struct DebugCommand<'a>(&'a Command);

impl std::fmt::Debug for DebugCommand<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Command::Play { items, shuffle } => write!(
                f,
                "Play({} items{})",
                items.len(),
                if *shuffle { ", shuffled" } else { "" }
            ),
            other => write!(f, "{other:?}"),
        }
    }
}
