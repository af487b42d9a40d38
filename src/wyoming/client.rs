//! A blocking Wyoming client for one remote service (wyoming-faster-whisper, wyoming-piper,
//! wyoming-openwakeword, …): `tcp://host:port` (also written `wyoming://host:port`) or
//! `unix:///path`. Every read and write has a timeout, so a slow or dead server costs at most
//! that long before the caller falls back to its local engine.

use std::io::{BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::types::{self, AudioFormat};
use super::{Event, WyomingError, read_event, write_event};

/// Where a service listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Tcp(String),
    Unix(std::path::PathBuf),
}

impl Address {
    /// `tcp://host:port`, `wyoming://host:port` or `unix:///path`.
    ///
    /// # Errors
    /// Anything else, with the accepted forms.
    pub fn parse(uri: &str) -> Result<Address, String> {
        let bad = || {
            format!(
                "`{uri}` is not a Wyoming address; use tcp://HOST:PORT (or wyoming://HOST:PORT) or unix:///PATH"
            )
        };
        if let Some(p) = uri.strip_prefix("unix://") {
            return if p.starts_with('/') {
                Ok(Address::Unix(p.into()))
            } else {
                Err(bad())
            };
        }
        let hp = uri
            .strip_prefix("tcp://")
            .or_else(|| uri.strip_prefix("wyoming://"))
            .ok_or_else(bad)?
            .trim_end_matches('/');
        match hp.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => {
                Ok(Address::Tcp(hp.into()))
            }
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Tcp(hp) => write!(f, "tcp://{hp}"),
            Address::Unix(p) => write!(f, "unix://{}", p.display()),
        }
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// One connection.
pub struct Client {
    reader: BufReader<Stream>,
    timeout: Duration,
}

/// Samples per `audio-chunk` Sori sends: 64 ms at 16 kHz, like Home Assistant's satellites.
const CHUNK: usize = 1024;

impl Client {
    /// Connects within `timeout`; reads and writes then wait at most `timeout` each.
    ///
    /// # Errors
    /// The address does not resolve or does not answer.
    pub fn connect(addr: &Address, timeout: Duration) -> Result<Client, WyomingError> {
        let stream = match addr {
            Address::Tcp(hp) => {
                let sa = hp
                    .to_socket_addrs()?
                    .next()
                    .ok_or_else(|| std::io::Error::other(format!("{hp} does not resolve")))?;
                let s = TcpStream::connect_timeout(&sa, timeout)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(timeout))?;
                s.set_write_timeout(Some(timeout))?;
                Stream::Tcp(s)
            }
            Address::Unix(p) => {
                let s = UnixStream::connect(p)?;
                s.set_read_timeout(Some(timeout))?;
                s.set_write_timeout(Some(timeout))?;
                Stream::Unix(s)
            }
        };
        Ok(Client {
            reader: BufReader::new(stream),
            timeout,
        })
    }

    /// A second handle that reads this connection on another thread, without a read timeout
    /// (a wake word server speaks only when it hears something). This handle keeps writing.
    ///
    /// # Errors
    /// The socket cannot be duplicated.
    pub fn try_clone_reader(&self) -> std::io::Result<BufReader<Box<dyn Read + Send>>> {
        let r: Box<dyn Read + Send> = match self.reader.get_ref() {
            Stream::Tcp(s) => {
                let c = s.try_clone()?;
                c.set_read_timeout(None)?;
                Box::new(c)
            }
            Stream::Unix(s) => {
                let c = s.try_clone()?;
                c.set_read_timeout(None)?;
                Box::new(c)
            }
        };
        Ok(BufReader::new(r))
    }

    /// # Errors
    /// The connection fails or times out.
    pub fn send(&mut self, e: &Event) -> Result<(), WyomingError> {
        write_event(self.reader.get_mut(), e)
    }

    /// The next event; the server closing the connection is an error here.
    ///
    /// # Errors
    /// A timeout, a closed connection, or a malformed event.
    pub fn recv(&mut self) -> Result<Event, WyomingError> {
        read_event(&mut self.reader)?.ok_or_else(|| {
            WyomingError::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ))
        })
    }

    /// Reads until an event of one of `kinds` (skipping others, as the protocol asks), within
    /// `timeout` overall; an `error` event from the server is returned as an error.
    ///
    /// # Errors
    /// As `recv`, the server's `error`, or the overall timeout.
    pub fn recv_until(&mut self, kinds: &[&str]) -> Result<Event, WyomingError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let e = self.recv()?;
            if kinds.contains(&e.kind.as_str()) {
                return Ok(e);
            }
            if e.is("error") {
                return Err(WyomingError::Io(std::io::Error::other(format!(
                    "the server says: {}",
                    e.str("text").unwrap_or("an error")
                ))));
            }
            if Instant::now() > deadline {
                return Err(WyomingError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no {} within {:?}", kinds.join("/"), self.timeout),
                )));
            }
        }
    }

    /// `describe` → `info`.
    ///
    /// # Errors
    /// As `recv_until`.
    pub fn describe(&mut self) -> Result<Event, WyomingError> {
        self.send(&types::describe())?;
        self.recv_until(&["info"])
    }

    /// Streams 16 kHz mono audio to an ASR service and returns its transcript and language.
    ///
    /// # Errors
    /// As `recv_until`.
    pub fn transcribe(
        &mut self,
        samples: &[i16],
        language: Option<&str>,
    ) -> Result<(String, Option<String>), WyomingError> {
        self.send(&types::transcribe(language))?;
        self.send(&types::audio_start(types::MIC))?;
        for c in samples.chunks(CHUNK) {
            self.send(&types::audio_chunk(types::MIC, c))?;
        }
        self.send(&types::audio_stop())?;
        let t = self.recv_until(&["transcript"])?;
        Ok((
            t.str("text").unwrap_or("").trim().to_string(),
            t.str("language").map(str::to_string),
        ))
    }

    /// Asks a TTS service to speak `text`; returns its audio as 16-bit mono and its rate.
    ///
    /// # Errors
    /// As `recv_until`, or audio that is not 16-bit PCM.
    pub fn synthesize(
        &mut self,
        text: &str,
        voice: Option<&str>,
        language: Option<&str>,
    ) -> Result<(u32, Vec<i16>), WyomingError> {
        self.send(&types::synthesize(text, voice, language))?;
        let start = self.recv_until(&["audio-start"])?;
        let mut format: Option<AudioFormat> = AudioFormat::of(&start);
        let mut out = Vec::new();
        loop {
            let e = self.recv_until(&["audio-chunk", "audio-stop"])?;
            if e.is("audio-stop") {
                break;
            }
            let (f, s) = types::chunk_samples(&e)
                .ok_or_else(|| WyomingError::Malformed("TTS audio is not 16-bit PCM".into()))?;
            format.get_or_insert(f);
            out.extend(s);
        }
        let rate = format.map_or(22_050, |f| f.rate);
        Ok((rate, out))
    }
}

/// How long a failed remote is left alone before it is tried again: a dead server costs one
/// timeout, not one per command, and Sori goes back to it when it returns.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// Tracks whether a remote is worth trying (see [`RETRY_AFTER`]).
#[derive(Debug, Default)]
pub struct Retry {
    down_since: Option<Instant>,
}

impl Retry {
    /// True unless the remote failed less than `RETRY_AFTER` ago.
    pub fn should_try(&self) -> bool {
        self.down_since.is_none_or(|t| t.elapsed() >= RETRY_AFTER)
    }

    pub fn failed(&mut self) {
        self.down_since = Some(Instant::now());
    }

    /// Marks the remote as working; true if it had been down (worth a log line).
    pub fn succeeded(&mut self) -> bool {
        self.down_since.take().is_some()
    }
}

/// For `sori doctor`: asks a server to describe itself; a line naming what it offers for
/// `service` (`asr`, `tts`, `wake`), or why it cannot be reached.
///
/// # Errors
/// The server is down, too slow, or not a Wyoming server, as a message.
pub fn probe(uri: &str, service: &str, timeout: Duration) -> Result<String, String> {
    let addr = Address::parse(uri)?;
    let info = Client::connect(&addr, timeout)
        .and_then(|mut c| c.describe())
        .map_err(|e| format!("{addr}: {e}"))?;
    let models = types::info_models(&info, service);
    Ok(if models.is_empty() {
        format!("{addr} answers, but offers no installed {service} models")
    } else {
        format!("{addr} answers: {}", models.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            Address::parse("tcp://127.0.0.1:10300"),
            Ok(Address::Tcp("127.0.0.1:10300".into()))
        );
        assert_eq!(
            Address::parse("wyoming://whisper.lan:10300/"),
            Ok(Address::Tcp("whisper.lan:10300".into()))
        );
        assert_eq!(
            Address::parse("unix:///run/wyoming.sock"),
            Ok(Address::Unix("/run/wyoming.sock".into()))
        );
        for bad in [
            "127.0.0.1:10300",
            "tcp://host",
            "tcp://:1",
            "unix://rel",
            "http://x:1",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Address::parse("wyoming://a:1").unwrap().to_string(),
            "tcp://a:1"
        );
    }
}
