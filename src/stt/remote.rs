//! Speech to text on another machine over Wyoming (`stt.remote`), with the local whisper as
//! the fallback: a remote that is down, slow or broken costs one timeout, the command is
//! transcribed locally and the log says so; the remote is tried again after a pause, so Sori
//! goes back to it when it returns.

use std::time::{Duration, Instant};

use super::{Stt, SttError, Transcript};
use crate::wyoming::client::{Address, Client, Retry};

pub struct RemoteStt {
    addr: Address,
    timeout: Duration,
    /// The configured language (`None`: let the server detect it).
    language: Option<String>,
    local: Box<dyn Stt>,
    retry: Retry,
}

/// Where the last transcript came from, for the log and `sori doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Used {
    Remote,
    Local,
}

impl RemoteStt {
    pub fn new(
        addr: Address,
        timeout: Duration,
        language: Option<String>,
        local: Box<dyn Stt>,
    ) -> RemoteStt {
        RemoteStt {
            addr,
            timeout,
            language,
            local,
            retry: Retry::default(),
        }
    }

    fn remote(&mut self, pcm: &[f32], language: Option<&str>) -> Result<Transcript, String> {
        let started = Instant::now();
        let samples: Vec<i16> = pcm.iter().map(|&s| crate::audio::f32_to_i16(s)).collect();
        let mut c = Client::connect(&self.addr, self.timeout).map_err(|e| e.to_string())?;
        let lang = language.or(self.language.as_deref());
        let (text, detected) = c.transcribe(&samples, lang).map_err(|e| e.to_string())?;
        Ok(Transcript {
            text,
            language: detected
                .or_else(|| lang.map(str::to_string))
                .unwrap_or_default(),
            audio_ms: pcm.len() as u64 / 16,
            stt_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Transcribes remotely, else locally; says which.
    ///
    /// # Errors
    /// Only the local engine's errors.
    pub fn transcribe_with(
        &mut self,
        pcm: &[f32],
        language: Option<&str>,
    ) -> Result<(Transcript, Used), SttError> {
        if self.retry.should_try() {
            match self.remote(pcm, language) {
                Ok(t) => {
                    if self.retry.succeeded() {
                        tracing::info!(remote = %self.addr, "remote speech to text is back");
                    }
                    return Ok((t, Used::Remote));
                }
                Err(e) => {
                    tracing::warn!(remote = %self.addr, "remote speech to text failed ({e}); transcribing on this device");
                    self.retry.failed();
                }
            }
        }
        let t = self.local.transcribe_in(pcm, language)?;
        Ok((t, Used::Local))
    }
}

impl Stt for RemoteStt {
    fn transcribe(&mut self, pcm: &[f32]) -> Result<Transcript, SttError> {
        self.transcribe_with(pcm, None).map(|(t, _)| t)
    }

    fn transcribe_in(
        &mut self,
        pcm: &[f32],
        language: Option<&str>,
    ) -> Result<Transcript, SttError> {
        self.transcribe_with(pcm, language).map(|(t, _)| t)
    }

    fn set_hints(&mut self, hints: &str) {
        self.local.set_hints(hints);
    }

    fn prepare(&mut self) {
        self.local.prepare();
    }

    fn rest(&mut self) {
        self.local.rest();
    }

    fn set_abort(&mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.local.set_abort(flag);
    }

    /// The wake word check stays local: it needs the decoder prompt, which Wyoming has no
    /// field for, and it must not wait on the network.
    fn transcribe_prompted(
        &mut self,
        pcm: &[f32],
        language: Option<&str>,
        prompt: &str,
    ) -> Result<Transcript, SttError> {
        self.local.transcribe_prompted(pcm, language, prompt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wyoming::{read_event, types, write_event};
    use std::io::BufReader;
    use std::net::TcpListener;

    /// A local engine that says it was used.
    struct Local;
    impl Stt for Local {
        fn transcribe(&mut self, pcm: &[f32]) -> Result<Transcript, SttError> {
            Ok(Transcript {
                text: "local".into(),
                language: "en".into(),
                audio_ms: pcm.len() as u64 / 16,
                stt_ms: 0,
            })
        }
    }

    /// A one-connection ASR server: checks the audio it gets, answers with its sample count.
    fn server() -> (Address, std::thread::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = Address::Tcp(l.local_addr().unwrap().to_string());
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            let mut n = 0;
            let mut lang = None;
            while let Some(e) = read_event(&mut r).unwrap() {
                match e.kind.as_str() {
                    "transcribe" => lang = e.str("language").map(str::to_string),
                    "audio-chunk" => n += types::chunk_samples(&e).unwrap().1.len(),
                    "audio-stop" => {
                        let text = format!("{n} samples");
                        write_event(&mut w, &types::transcript(&text, lang.as_deref())).unwrap();
                        return;
                    }
                    _ => {}
                }
            }
        });
        (addr, h)
    }

    #[test]
    fn the_remote_transcribes_and_a_dead_one_falls_back_to_local() {
        let (addr, h) = server();
        let mut stt = RemoteStt::new(
            addr,
            Duration::from_secs(5),
            Some("ko".into()),
            Box::new(Local),
        );
        let (t, used) = stt.transcribe_with(&vec![0.1; 16_000], None).unwrap();
        h.join().unwrap();
        assert_eq!(
            (t.text.as_str(), t.language.as_str(), used),
            ("16000 samples", "ko", Used::Remote)
        );
        // The server is gone now: local, and the remote is not retried at once.
        let (t, used) = stt.transcribe_with(&[0.0; 1600], None).unwrap();
        assert_eq!((t.text.as_str(), used), ("local", Used::Local));
        assert!(!stt.retry.should_try());
        let started = Instant::now();
        let (_, used) = stt.transcribe_with(&[0.0; 1600], None).unwrap();
        assert_eq!(used, Used::Local);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "no second timeout"
        );
    }

    #[test]
    fn a_silent_server_costs_one_timeout() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = Address::Tcp(l.local_addr().unwrap().to_string());
        let mut stt = RemoteStt::new(addr, Duration::from_millis(300), None, Box::new(Local));
        let (t, used) = stt.transcribe_with(&[0.0; 1600], None).unwrap();
        assert_eq!((t.text.as_str(), used), ("local", Used::Local));
        drop(l);
    }
}
