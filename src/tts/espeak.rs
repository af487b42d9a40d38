//! espeak-ng through its command line: `espeak-ng -v VOICE --stdout TEXT` gives a WAV.

use std::process::Command;

use super::{Tts, TtsError};
use crate::audio::Clip;

pub struct Espeak {
    /// Words per minute.
    pub speed: u32,
    /// espeak-ng voice; `None` picks one from the language.
    pub voice: Option<String>,
}

impl Default for Espeak {
    fn default() -> Self {
        Espeak {
            speed: 165,
            voice: None,
        }
    }
}

/// espeak-ng voice for a language code.
pub fn voice(language: &str) -> &str {
    match language {
        "en" | "" => "en-us",
        "ko" => "ko",
        other => other,
    }
}

impl Espeak {
    /// Speaks `text` with espeak-ng voice `voice` (e.g. `ko`, `en-us`).
    ///
    /// # Errors
    /// espeak-ng is missing or failed.
    pub fn speak(&self, text: &str, voice: &str) -> Result<Clip, TtsError> {
        let out = Command::new("espeak-ng")
            .args([
                "-v",
                voice,
                "-s",
                &self.speed.to_string(),
                "--stdout",
                "--",
                text,
            ])
            .output()
            .map_err(|e| TtsError::Missing(e.to_string()))?;
        if !out.status.success() {
            return Err(TtsError::Failed(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        // espeak-ng's streamed WAV header has unknown lengths; read the samples after it.
        let bytes = &out.stdout;
        let data = bytes
            .windows(4)
            .position(|w| w == b"data")
            .ok_or_else(|| TtsError::Failed("no WAV data from espeak-ng".into()))?;
        let rate = u32::from_le_bytes(
            bytes[24..28]
                .try_into()
                .map_err(|_| TtsError::Failed("short WAV header".into()))?,
        );
        let samples = bytes[data + 8..]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        Ok(Clip {
            sample_rate: rate,
            samples,
        })
    }
}

impl Tts for Espeak {
    fn synthesize(&mut self, text: &str, language: &str) -> Result<Clip, TtsError> {
        self.speak(text, self.voice.as_deref().unwrap_or(voice(language)))
    }
}
