//! The wake word on another machine (`wake.remote`, e.g. wyoming-openwakeword): one long-lived
//! connection (`detect`, `audio-start`, then every 80 ms frame as an `audio-chunk`), with its
//! `detection`s read on their own thread. While the server is unreachable the local engine
//! listens instead (logged), and the server is tried again every 30 s, so a dead server never
//! leaves Sori deaf.

use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::Duration;

use super::{Detection, WakeError, WakeWord};
use crate::wyoming::client::{Address, Client, Retry};
use crate::wyoming::types;

/// An open stream to the server.
struct Stream {
    client: Client,
    /// Detections (names) from the reader thread; disconnected when the server went away.
    detections: Receiver<String>,
}

pub struct RemoteWake {
    addr: Address,
    /// The configured wake words, asked for by name.
    names: Vec<String>,
    timeout: Duration,
    /// The score given to a remote detection (the server sends none): the configured
    /// threshold, so the second stage confirms it as it would a marginal local one.
    score: f32,
    stream: Option<Stream>,
    retry: Retry,
    local: Box<dyn WakeWord>,
}

impl RemoteWake {
    pub fn new(
        addr: Address,
        names: Vec<String>,
        timeout: Duration,
        score: f32,
        local: Box<dyn WakeWord>,
    ) -> RemoteWake {
        RemoteWake {
            addr,
            names,
            timeout,
            score,
            stream: None,
            retry: Retry::default(),
            local,
        }
    }

    fn open(&self) -> Result<Stream, String> {
        let mut client = Client::connect(&self.addr, self.timeout).map_err(|e| e.to_string())?;
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        client
            .send(&types::detect(&names))
            .and_then(|()| client.send(&types::audio_start(types::MIC)))
            .map_err(|e| e.to_string())?;
        let mut reader = client.try_clone_reader().map_err(|e| e.to_string())?;
        let (tx, detections) = mpsc::channel();
        std::thread::Builder::new()
            .name("sori-wake-remote".into())
            .spawn(move || {
                // Ends (dropping `tx`) when the server closes the connection or breaks it.
                while let Ok(Some(e)) = crate::wyoming::read_event(&mut reader) {
                    if e.is("detection")
                        && tx
                            .send(e.str("name").unwrap_or_default().to_string())
                            .is_err()
                    {
                        return;
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Stream { client, detections })
    }

    /// Which configured wake word a server's name stands for (`hey_jarvis_v0.1` → `hey_jarvis`).
    fn ours(&self, name: &str) -> String {
        self.names
            .iter()
            .find(|n| name == n.as_str() || name.starts_with(&format!("{n}_v")))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    fn down(&mut self, why: &str) {
        tracing::warn!(remote = %self.addr, "remote wake word failed ({why}); listening for the wake word on this device");
        self.stream = None;
        self.retry.failed();
    }
}

impl WakeWord for RemoteWake {
    fn process(&mut self, frame: &[i16]) -> Result<Option<Detection>, WakeError> {
        if self.stream.is_none() && self.retry.should_try() {
            match self.open() {
                Ok(s) => {
                    if self.retry.succeeded() {
                        tracing::info!(remote = %self.addr, "remote wake word is back");
                    }
                    self.stream = Some(s);
                }
                Err(e) => self.down(&e),
            }
        }
        let Some(s) = &mut self.stream else {
            return self.local.process(frame);
        };
        if let Err(e) = s.client.send(&types::audio_chunk(types::MIC, frame)) {
            self.down(&e.to_string());
            return self.local.process(frame);
        }
        match s.detections.try_recv() {
            Ok(name) => Ok(Some(Detection {
                name: self.ours(&name),
                score: self.score,
            })),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => {
                self.down("the server closed the connection");
                self.local.process(frame)
            }
        }
    }

    fn scores(&self) -> Vec<(String, f32)> {
        self.local.scores()
    }
}
