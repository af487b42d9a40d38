//! Internet radio: stations from `[music.stations]`, playlists (.m3u, .pls) resolved to their
//! stream, and a live decoder. The network is only ever read on Sori's own threads: a feeder
//! thread downloads and decodes into a ring buffer, and the music channel reads that buffer
//! (silence on an underrun), so a stalled station can never stall the speaker.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum RadioError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("playlist {url} names no stream")]
    EmptyPlaylist { url: String },
    #[error("{url} sent no audio")]
    Silent { url: String },
}

/// How long a station may take to connect and start sending.
const CONNECT: Duration = Duration::from_secs(5);

fn client(total: Option<Duration>) -> reqwest::blocking::Client {
    crate::net::install_tls_provider();
    reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT)
        .timeout(total)
        .user_agent(concat!("sori/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("an HTTP client with default TLS settings builds")
}

fn unreachable(url: &str, e: impl std::fmt::Display) -> RadioError {
    RadioError::Unreachable {
        url: url.to_string(),
        reason: e.to_string(),
    }
}

/// The stream URL a playlist names (the first entry), or `None` if `body` is not a playlist.
pub fn parse_playlist(body: &str) -> Option<Option<String>> {
    let lower = body.trim_start().to_ascii_lowercase();
    let is_pls = lower.starts_with("[playlist]");
    let is_m3u = lower.starts_with("#extm3u")
        || body
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .is_some_and(|l| l.starts_with("http://") || l.starts_with("https://"));
    if !is_pls && !is_m3u {
        return None;
    }
    let url = body.lines().map(str::trim).find_map(|l| {
        let v = if is_pls {
            let (k, v) = l.split_once('=')?;
            k.trim()
                .to_ascii_lowercase()
                .starts_with("file")
                .then_some(v.trim())?
        } else {
            l
        };
        (v.starts_with("http://") || v.starts_with("https://")).then(|| v.to_string())
    });
    Some(url)
}

fn looks_like_playlist(url: &str, content_type: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    path.ends_with(".m3u")
        || path.ends_with(".pls")
        || content_type.contains("mpegurl")
        || content_type.contains("scpls")
}

/// Opens a station: follows a playlist to its stream and checks that audio arrives. Used by
/// the skill before it says "playing", so a dead station is a spoken error, not silence.
///
/// # Errors
/// The station is unreachable, answers an error, or sends nothing within a few seconds.
pub fn probe(url: &str) -> Result<String, RadioError> {
    let c = client(Some(CONNECT));
    let mut url = url.to_string();
    for _ in 0..3 {
        let mut resp = c.get(&url).send().map_err(|e| unreachable(&url, e))?;
        if !resp.status().is_success() {
            return Err(RadioError::Status {
                url,
                status: resp.status().as_u16(),
            });
        }
        let ct = content_type(&resp);
        let mut first = vec![0u8; 4096];
        let n = read_some(&mut resp, &mut first).map_err(|e| unreachable(&url, e))?;
        if n == 0 {
            return Err(RadioError::Silent { url });
        }
        first.truncate(n);
        if looks_like_playlist(&url, &ct) || !ct.starts_with("audio/") {
            if let Some(next) = parse_playlist(&String::from_utf8_lossy(&first)) {
                url = next.ok_or(RadioError::EmptyPlaylist { url: url.clone() })?;
                continue;
            }
        }
        return Ok(url);
    }
    Err(RadioError::EmptyPlaylist { url })
}

fn content_type(resp: &reqwest::blocking::Response) -> String {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Reads until `buf` is full, the stream ends or the client's timeout hits.
fn read_some(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A network stream as the decoder wants it: readable, "seekable" only to where it is.
struct Unseekable(std::sync::Mutex<Box<dyn Read + Send>>);

impl Read for Unseekable {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .get_mut()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .read(buf)
    }
}

impl Seek for Unseekable {
    fn seek(&mut self, _: SeekFrom) -> std::io::Result<u64> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "a live stream cannot seek",
        ))
    }
}

/// The decoder hint for a stream's content type.
fn hint(content_type: &str) -> Option<&'static str> {
    Some(match content_type {
        t if t.contains("mpeg") || t.contains("mp3") => "mp3",
        t if t.contains("ogg") => "ogg",
        t if t.contains("aac") => "aac",
        t if t.contains("flac") => "flac",
        t if t.contains("wav") => "wav",
        _ => return None,
    })
}

/// Seconds of decoded audio buffered ahead of the speaker.
#[cfg(feature = "device-audio")]
const BUFFER_SECONDS: usize = 4;

/// A live station as a music-channel source. Connecting and reading the first audio happen
/// here (bounded by timeouts, on the player's thread); decoding continues on a feeder thread.
///
/// # Errors
/// The station is unreachable or its audio cannot be decoded.
#[cfg(feature = "device-audio")]
pub fn decoder(url: &str) -> Result<Box<dyn rodio::Source + Send>, RadioError> {
    use rodio::Source;
    let stream = probe(url)?;
    let resp = client(None)
        .get(&stream)
        .send()
        .map_err(|e| unreachable(&stream, e))?;
    let ct = content_type(&resp);
    let mut b = rodio::Decoder::builder()
        .with_data(Unseekable(std::sync::Mutex::new(Box::new(resp))))
        .with_seekable(false);
    if let Some(h) = hint(&ct) {
        b = b.with_hint(h);
    }
    let dec = b.build().map_err(|e| unreachable(&stream, e))?;
    let (channels, rate) = (dec.channels(), dec.sample_rate());
    let cap = BUFFER_SECONDS * rate.get() as usize * usize::from(channels.get());
    let (mut tx, rx) = rtrb::RingBuffer::<f32>::new(cap);
    let done = Arc::new(AtomicBool::new(false));
    let (done2, live) = (done.clone(), Arc::new(AtomicBool::new(true)));
    let alive = live.clone();
    std::thread::Builder::new()
        .name("sori-radio".into())
        .spawn(move || {
            let ch = usize::from(channels.get());
            let mut frame = Vec::with_capacity(ch);
            for s in dec {
                frame.push(s);
                if frame.len() < ch {
                    continue;
                }
                // Whole frames only, so an underrun never swaps the channels.
                while tx.slots() < ch {
                    if !alive.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                for s in frame.drain(..) {
                    let _ = tx.push(s);
                }
            }
            tracing::info!(url = %stream, "radio stream ended");
            done2.store(true, Ordering::Relaxed);
        })
        .map_err(|e| unreachable(url, e))?;
    Ok(Box::new(Live {
        rx,
        channels,
        rate,
        done,
        live,
        in_frame: 0,
        real: false,
    }))
}

/// The music channel's side of a live station.
#[cfg(feature = "device-audio")]
struct Live {
    rx: rtrb::Consumer<f32>,
    channels: rodio::ChannelCount,
    rate: rodio::SampleRate,
    done: Arc<AtomicBool>,
    /// Cleared when the station is dropped (stop, next), which ends the feeder thread.
    live: Arc<AtomicBool>,
    in_frame: u16,
    /// Whether this frame comes from the buffer (else silence: an underrun).
    real: bool,
}

#[cfg(feature = "device-audio")]
impl Drop for Live {
    fn drop(&mut self) {
        self.live.store(false, Ordering::Relaxed);
    }
}

#[cfg(feature = "device-audio")]
impl Iterator for Live {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        let ch = self.channels.get();
        if self.in_frame == 0 {
            self.real = self.rx.slots() >= usize::from(ch);
            if !self.real && self.done.load(Ordering::Relaxed) {
                return None;
            }
        }
        self.in_frame = (self.in_frame + 1) % ch;
        if self.real {
            self.rx.pop().ok().or(Some(0.0))
        } else {
            Some(0.0)
        }
    }
}

#[cfg(feature = "device-audio")]
impl rodio::Source for Live {
    fn current_span_len(&self) -> Option<usize> {
        None
    }
    fn channels(&self) -> rodio::ChannelCount {
        self.channels
    }
    fn sample_rate(&self) -> rodio::SampleRate {
        self.rate
    }
    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playlists_name_their_stream() {
        let m3u = "#EXTM3U\n#EXTINF:-1,Jazz\nhttp://radio.example/jazz.mp3\n";
        assert_eq!(
            parse_playlist(m3u),
            Some(Some("http://radio.example/jazz.mp3".into()))
        );
        let bare = "\nhttps://radio.example/a.ogg\nhttps://radio.example/b.ogg\n";
        assert_eq!(
            parse_playlist(bare),
            Some(Some("https://radio.example/a.ogg".into()))
        );
        let pls =
            "[playlist]\nNumberOfEntries=1\nFile1=http://radio.example:8000/live\nTitle1=Live\n";
        assert_eq!(
            parse_playlist(pls),
            Some(Some("http://radio.example:8000/live".into()))
        );
        assert_eq!(
            parse_playlist("[playlist]\nNumberOfEntries=0\n"),
            Some(None)
        );
        assert_eq!(parse_playlist("ID3\u{3}binary mp3"), None);
        assert_eq!(hint("audio/mpeg"), Some("mp3"));
        assert_eq!(hint("application/octet-stream"), None);
    }
}
