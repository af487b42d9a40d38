//! The loop's speech to text and handler when Sori is a satellite: commands go to Home
//! Assistant while it is connected, and to Sori's own engines otherwise (or when it fails to
//! answer in time). Wake word checks and overheard stop phrases always stay on the device.

use std::sync::Arc;
use std::time::Instant;

use super::Link;
use crate::pipeline::{Handler, Reply};
use crate::stt::{Stt, SttError, Transcript};

/// The intent name `IntentEnd` reports for Home Assistant's answers.
pub const INTENT: &str = "homeassistant";

pub struct SatelliteStt {
    link: Arc<Link>,
    local: Box<dyn Stt>,
}

impl SatelliteStt {
    pub fn new(link: Arc<Link>, local: Box<dyn Stt>) -> SatelliteStt {
        SatelliteStt { link, local }
    }

    fn command(&mut self, pcm: &[f32], language: Option<&str>) -> Result<Transcript, SttError> {
        let started = Instant::now();
        let samples: Vec<i16> = pcm.iter().map(|&s| crate::audio::f32_to_i16(s)).collect();
        match self.link.converse(&samples) {
            Ok(Some((text, lang))) => Ok(Transcript {
                text,
                language: lang
                    .or_else(|| language.map(str::to_string))
                    .unwrap_or_default(),
                audio_ms: pcm.len() as u64 / 16,
                stt_ms: started.elapsed().as_millis() as u64,
            }),
            Ok(None) => self.local.transcribe_in(pcm, language),
            Err(e) => Err(SttError::Inference(e)),
        }
    }
}

impl Stt for SatelliteStt {
    fn transcribe(&mut self, pcm: &[f32]) -> Result<Transcript, SttError> {
        self.command(pcm, None)
    }

    fn transcribe_in(
        &mut self,
        pcm: &[f32],
        language: Option<&str>,
    ) -> Result<Transcript, SttError> {
        self.command(pcm, language)
    }

    fn set_hints(&mut self, hints: &str) {
        self.local.set_hints(hints);
    }

    fn prepare(&mut self) {
        self.local.prepare();
    }

    /// A stale speculation transcribed on this device (Home Assistant not connected) stops
    /// early, as it does without a satellite.
    fn set_abort(&mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.local.set_abort(flag);
    }

    fn rest(&mut self) {
        self.local.rest();
    }

    fn transcribe_prompted(
        &mut self,
        pcm: &[f32],
        language: Option<&str>,
        prompt: &str,
    ) -> Result<Transcript, SttError> {
        self.local.transcribe_prompted(pcm, language, prompt)
    }

    fn transcribe_aside(&mut self, pcm: &[f32]) -> Result<Transcript, SttError> {
        self.local.transcribe_aside(pcm)
    }
}

pub struct SatelliteHandler {
    link: Arc<Link>,
    local: Box<dyn Handler>,
}

impl SatelliteHandler {
    pub fn new(link: Arc<Link>, local: Box<dyn Handler>) -> SatelliteHandler {
        SatelliteHandler { link, local }
    }
}

impl Handler for SatelliteHandler {
    /// Home Assistant decides what a command means, so Sori never answers early while it is
    /// connected.
    fn is_complete(&self, text: &str) -> bool {
        !self.link.is_ready() && self.local.is_complete(text)
    }

    fn handle(&mut self, t: &Transcript) -> Result<Reply, String> {
        match self.link.reply() {
            None => self.local.handle(t),
            Some(Err(e)) => Err(e),
            Some(Ok(super::HaReply {
                text,
                language,
                audio,
            })) => Ok(Reply {
                speech: text,
                language: language
                    .map(|l| l.split(['-', '_']).next().unwrap_or_default().to_string())
                    .filter(|l| !l.is_empty())
                    .unwrap_or_else(|| t.language.clone()),
                expects_answer: false,
                intent: Some(INTENT.into()),
                action: None,
                ring: false,
                chime: false,
                audio: audio.map(Arc::new),
            }),
        }
    }

    fn hints(&self) -> String {
        self.local.hints()
    }
}
