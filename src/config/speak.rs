//! `[tts]` and `[persona]`: how Sori sounds and who it says it is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

/// `[tts]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TtsConfig {
    /// Voice per language code. `piper:NAME` is `models/piper/NAME.onnx`, `piper:/path/x.onnx`
    /// any Piper voice (with its `.onnx.json` beside it), `espeak:VOICE` an espeak-ng voice,
    /// `tcp://HOST:PORT` a Wyoming TTS server (wyoming-piper; `#VOICE` picks one of its
    /// voices), with Sori's own voice for the language as the fallback. Languages without an
    /// entry speak with espeak-ng.
    pub voices: BTreeMap<String, String>,
    /// Speaking rate: 1.0 is the voice's own, 1.2 is 20 % faster.
    pub speed: f32,
    /// ONNX Runtime threads for Piper voices: 1 runs them on one thread; 0 (or more) on the
    /// process's pool of one thread per core (at most 4), shared by every voice.
    pub threads: u32,
    /// Wait this long (100-60000 ms) for a Wyoming TTS server before speaking on the device.
    pub remote_timeout_ms: u32,
    /// Give a Piper voice's working memory back after each reply (it grows with the longest
    /// sentence made, about 4 MB a word). The next reply's first sentence then takes about
    /// 10-15 % longer to make; `false` keeps it, for devices with memory to spare.
    pub release_memory: bool,
    /// Load a Piper voice's front (text encoder, durations, flow) with 8-bit weights, made once
    /// from the voice: 15 MB instead of 56 for a medium voice, as fast. `false` loads the
    /// published float weights.
    pub quantize: bool,
}

impl Default for TtsConfig {
    fn default() -> Self {
        TtsConfig {
            voices: BTreeMap::from([
                ("en".into(), "piper:en_US-joe-medium".into()),
                ("ko".into(), "espeak:ko".into()),
            ]),
            speed: 1.0,
            threads: 0,
            remote_timeout_ms: 5000,
            release_memory: true,
            quantize: true,
        }
    }
}

impl TtsConfig {
    /// Piper's intra-op threads.
    pub fn threads(&self) -> usize {
        match self.threads {
            0 => crate::stt::whisper::default_threads(),
            n => n as usize,
        }
    }
}

/// `[persona]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct PersonaConfig {
    /// The name Sori answers to in English replies ("I'm Sori").
    pub name: String,
    /// The name in Korean replies ("저는 소리예요").
    pub name_ko: String,
}

impl Default for PersonaConfig {
    fn default() -> Self {
        PersonaConfig {
            name: "Sori".into(),
            name_ko: "소리".into(),
        }
    }
}

pub(super) fn validate(tts: &TtsConfig, persona: &PersonaConfig) -> Result<(), ConfigError> {
    for (lang, voice) in &tts.voices {
        let remote = ["tcp://", "wyoming://", "unix://"]
            .iter()
            .any(|p| voice.starts_with(p));
        if remote {
            let uri = voice.split_once('#').map_or(voice.as_str(), |(u, _)| u);
            crate::wyoming::client::Address::parse(uri)
                .map_err(|e| invalid(&format!("tts.voices.{lang}"), e))?;
            continue;
        }
        let ok = voice
            .strip_prefix("piper:")
            .or_else(|| voice.strip_prefix("espeak:"))
            .is_some_and(|rest| !rest.is_empty());
        if !ok {
            return Err(invalid(
                &format!("tts.voices.{lang}"),
                format!(
                    "`{voice}` is not a voice; use `piper:NAME` (e.g. piper:en_US-joe-medium), `piper:/path/to/voice.onnx`, `espeak:VOICE` (e.g. espeak:ko) or a Wyoming server, tcp://HOST:PORT"
                ),
            ));
        }
    }
    if !(100..=60_000).contains(&tts.remote_timeout_ms) {
        return Err(invalid(
            "tts.remote_timeout_ms",
            format!("{} is out of range; use 100..=60000", tts.remote_timeout_ms),
        ));
    }
    if !(0.25..=4.0).contains(&tts.speed) {
        return Err(invalid(
            "tts.speed",
            format!(
                "{} is out of range; use 0.25 to 4.0 (1.0 is normal)",
                tts.speed
            ),
        ));
    }
    if persona.name.trim().is_empty() {
        return Err(invalid(
            "persona.name",
            "must not be empty; the default is \"Sori\"",
        ));
    }
    Ok(())
}
