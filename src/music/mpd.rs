//! The MPD backend: the same voice commands drive a Music Player Daemon (the usual music
//! server on Pi speakers) over its text protocol, and library search uses MPD's database.
//! Each call opens a short connection, so an MPD restart costs nothing and there is no idle
//! connection for MPD to time out.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use super::catalog::{Catalog, Field, Updated};
use super::{Command, Item, PlayState, Player, PlayerError, Status};
use crate::config::music::MpdConfig;

/// One answer: `key: value` pairs in order.
pub type Pairs = Vec<(String, String)>;

/// A connection to MPD.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    addr: String,
}

/// Quotes an argument the way MPD expects.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Conn {
    /// Connects, reads the greeting and sends the password if there is one.
    ///
    /// # Errors
    /// The server is unreachable, is not MPD, or refuses the password.
    pub fn open(cfg: &MpdConfig) -> Result<Conn, PlayerError> {
        let addr = format!("{}:{}", cfg.host, cfg.port);
        let unreachable = |reason: String| PlayerError::Unreachable {
            addr: addr.clone(),
            reason,
        };
        let timeout = Duration::from_millis(cfg.timeout_ms);
        let sock = addr
            .to_socket_addrs()
            .map_err(|e| unreachable(e.to_string()))?
            .next()
            .ok_or_else(|| unreachable("no address".into()))?;
        let stream =
            TcpStream::connect_timeout(&sock, timeout).map_err(|e| unreachable(e.to_string()))?;
        stream.set_read_timeout(Some(timeout)).ok();
        stream.set_write_timeout(Some(timeout)).ok();
        let writer = stream.try_clone().map_err(|e| unreachable(e.to_string()))?;
        let mut c = Conn {
            reader: BufReader::new(stream),
            writer,
            addr: addr.clone(),
        };
        let mut greeting = String::new();
        c.reader
            .read_line(&mut greeting)
            .map_err(|e| unreachable(e.to_string()))?;
        if !greeting.starts_with("OK MPD") {
            return Err(unreachable(format!(
                "not an MPD server (it said {:?})",
                greeting.trim()
            )));
        }
        if let Some(pw) = cfg.password() {
            c.run(&format!("password {}", quote(&pw)))
                .map_err(|_| PlayerError::Refused {
                    command: "password".into(),
                    reason: "wrong password (music.mpd.password)".into(),
                })?;
        }
        Ok(c)
    }

    /// Sends one command (or a `command_list_begin … command_list_end` block) and reads the
    /// answer up to `OK`.
    ///
    /// # Errors
    /// The connection broke, or MPD answered `ACK` (the message is passed on).
    pub fn run(&mut self, command: &str) -> Result<Pairs, PlayerError> {
        let broken = |e: std::io::Error| PlayerError::Unreachable {
            addr: self.addr.clone(),
            reason: e.to_string(),
        };
        self.writer
            .write_all(format!("{command}\n").as_bytes())
            .map_err(broken)?;
        let mut out = Vec::new();
        loop {
            let mut line = String::new();
            let n = self
                .reader
                .read_line(&mut line)
                .map_err(|e| PlayerError::Unreachable {
                    addr: self.addr.clone(),
                    reason: e.to_string(),
                })?;
            if n == 0 {
                return Err(PlayerError::Unreachable {
                    addr: self.addr.clone(),
                    reason: "connection closed".into(),
                });
            }
            let line = line.trim_end_matches('\n');
            if line == "OK" {
                return Ok(out);
            }
            if let Some(err) = line.strip_prefix("ACK ") {
                let name = command.split_whitespace().next().unwrap_or("").to_string();
                return Err(PlayerError::Refused {
                    command: name,
                    reason: err.to_string(),
                });
            }
            if let Some((k, v)) = line.split_once(": ") {
                out.push((k.to_string(), v.to_string()));
            }
        }
    }
}

/// Songs in an answer (each starts at a `file:` line).
pub fn songs(pairs: &Pairs) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "file" => out.push(Item {
                uri: v.clone(),
                title: v
                    .rsplit('/')
                    .next()
                    .and_then(|f| f.rsplit_once('.').map(|(s, _)| s).or(Some(f)))
                    .unwrap_or(v)
                    .to_string(),
                ..Item::default()
            }),
            "Title" => {
                if let Some(s) = out.last_mut() {
                    s.title = v.clone();
                }
            }
            "Artist" => {
                if let Some(s) = out.last_mut() {
                    s.artist = Some(v.clone());
                }
            }
            "Album" => {
                if let Some(s) = out.last_mut() {
                    s.album = Some(v.clone());
                }
            }
            "duration" => {
                if let Some(s) = out.last_mut() {
                    s.duration_ms = v.parse::<f64>().ok().map(|d| (d * 1000.0) as u64);
                }
            }
            _ => {}
        }
    }
    out
}

fn get<'a>(pairs: &'a Pairs, key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The MPD backend: player and catalog.
pub struct Mpd {
    cfg: MpdConfig,
    /// Ducking and volume go to MPD's `setvol` from a thread, so the mixer never waits on the
    /// network.
    gain: mpsc::Sender<f32>,
}

impl Mpd {
    pub fn new(cfg: MpdConfig) -> Mpd {
        let (gain, rx) = mpsc::channel::<f32>();
        let c = cfg.clone();
        std::thread::Builder::new()
            .name("sori-mpd-volume".into())
            .spawn(move || {
                let mut last = None;
                while let Ok(mut g) = rx.recv() {
                    // Only the latest of a burst matters.
                    while let Ok(newer) = rx.try_recv() {
                        g = newer;
                    }
                    let vol = (g.clamp(0.0, 1.0) * 100.0).round() as u8;
                    if last == Some(vol) {
                        continue;
                    }
                    match Conn::open(&c).and_then(|mut m| m.run(&format!("setvol {vol}"))) {
                        Ok(_) => last = Some(vol),
                        Err(e) => tracing::warn!("MPD volume not set: {e}"),
                    }
                }
            })
            .expect("spawning a thread");
        Mpd { cfg, gain }
    }

    fn conn(&self) -> Result<Conn, PlayerError> {
        Conn::open(&self.cfg)
    }

    fn run(&self, command: &str) -> Result<Pairs, PlayerError> {
        self.conn()?.run(command)
    }
}

impl Player for Mpd {
    fn command(&self, command: Command) -> Result<(), PlayerError> {
        let text = match command {
            Command::Play { items, shuffle } => {
                let mut list = String::from("command_list_begin\nclear\n");
                for i in &items {
                    list.push_str(&format!("add {}\n", quote(&i.uri)));
                }
                list.push_str(&format!(
                    "random {}\nplay\ncommand_list_end",
                    u8::from(shuffle)
                ));
                list
            }
            Command::Pause => "pause 1".into(),
            Command::Resume => "pause 0".into(),
            Command::Stop => "stop".into(),
            Command::Next => "next".into(),
            Command::Previous => "previous".into(),
            Command::Restart => "seekcur 0".into(),
            Command::Shuffle => "random 1".into(),
        };
        self.run(&text).map(|_| ())
    }

    fn status(&self) -> Result<Status, PlayerError> {
        let mut c = self.conn()?;
        let st = c.run("status")?;
        let song = c.run("currentsong")?;
        let state = match get(&st, "state") {
            Some("play") => PlayState::Playing,
            Some("pause") => PlayState::Paused,
            _ => PlayState::Stopped,
        };
        Ok(Status {
            state,
            current: songs(&song).into_iter().next(),
            position_ms: get(&st, "elapsed")
                .and_then(|e| e.parse::<f64>().ok())
                .map_or(0, |e| (e * 1000.0) as u64),
            queued: get(&st, "playlistlength")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
        })
    }

    fn set_gain(&self, gain: f32) {
        let _ = self.gain.send(gain);
    }
}

impl Catalog for Mpd {
    fn by(&self, field: Field, value: &str) -> Result<Vec<Item>, PlayerError> {
        // `search` is MPD's case-insensitive match; keep only whole-value matches.
        let all = songs(&self.run(&format!("search {} {}", field.name(), quote(value)))?);
        let lower = value.to_lowercase();
        let exact: Vec<Item> = all
            .iter()
            .filter(|i| {
                let v = match field {
                    Field::Title => Some(&i.title),
                    Field::Artist => i.artist.as_ref(),
                    Field::Album => i.album.as_ref(),
                    Field::Genre => return true,
                };
                v.is_some_and(|v| v.to_lowercase() == lower)
            })
            .cloned()
            .collect();
        Ok(if exact.is_empty() { all } else { exact })
    }

    fn search(&self, query: &str, limit: usize) -> Result<Vec<Item>, PlayerError> {
        let words: Vec<String> = query
            .split_whitespace()
            .map(|w| format!("any {}", quote(w)))
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = songs(&self.run(&format!("search {}", words.join(" ")))?);
        found.truncate(limit);
        Ok(found)
    }

    fn names(&self, field: Field) -> Result<Vec<String>, PlayerError> {
        let key = match field {
            Field::Title => "Title",
            Field::Artist => "Artist",
            Field::Album => "Album",
            Field::Genre => "Genre",
        };
        Ok(self
            .run(&format!("list {}", field.name()))?
            .into_iter()
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v)
            .collect())
    }

    fn sample(&self, genres: &[&str], limit: usize) -> Result<Vec<Item>, PlayerError> {
        let mut all = if genres.is_empty() {
            songs(&self.run("listallinfo")?)
        } else {
            let mut v = Vec::new();
            for g in genres {
                v.extend(songs(&self.run(&format!("search genre {}", quote(g)))?));
            }
            v
        };
        all.dedup_by(|a, b| a.uri == b.uri);
        // A cheap shuffle: the player shuffles properly with `random`.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as usize);
        if !all.is_empty() {
            let n = all.len();
            all.rotate_left(seed % n);
        }
        all.truncate(limit);
        Ok(all)
    }

    fn update(&self) -> Result<Updated, PlayerError> {
        let mut c = self.conn()?;
        c.run("update")?;
        // MPD updates in the background; wait for it (bounded) so the answer is true.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if get(&c.run("status")?, "updating_db").is_none() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let stats = c.run("stats")?;
        Ok(Updated {
            total: get(&stats, "songs")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            ..Updated::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_song_parsing() {
        assert_eq!(quote(r#"say "hi" \o/"#), r#""say \"hi\" \\o/""#);
        let pairs: Pairs = [
            ("file", "a/Blue Sky.mp3"),
            ("Title", "Blue Sky"),
            ("Artist", "The Tones"),
            ("duration", "2.500"),
            ("file", "b/untitled.flac"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = songs(&pairs);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].title, "Blue Sky");
        assert_eq!(s[0].artist.as_deref(), Some("The Tones"));
        assert_eq!(s[0].duration_ms, Some(2500));
        assert_eq!(s[1].title, "untitled");
    }
}
