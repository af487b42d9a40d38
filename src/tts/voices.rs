//! `Voices`: the configured voice for each language, loaded on first use (or up front with
//! `preload`), with text normalised first. A Piper voice that cannot load is reported once
//! and that language speaks with espeak-ng instead: a reply is never lost to a missing model.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::espeak::Espeak;
use super::normalize::normalize;
use super::piper::Piper;
use super::{Tts, TtsError};
use crate::audio::Clip;
use crate::config::Config;

/// A voice named in config: `piper:NAME`, `piper:/path/voice.onnx` or `espeak:VOICE`.
#[derive(Debug, Clone, PartialEq)]
pub enum VoiceSpec {
    Piper(PathBuf),
    Espeak(String),
}

/// As written in config: `piper:/path/voice.onnx` or `espeak:VOICE`.
impl std::fmt::Display for VoiceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VoiceSpec::Piper(p) => write!(f, "piper:{}", p.display()),
            VoiceSpec::Espeak(v) => write!(f, "espeak:{v}"),
        }
    }
}

impl VoiceSpec {
    /// Parses a voice spec; a bare name is a Piper voice in the models directory.
    ///
    /// # Errors
    /// `TtsError::BadSpec` for an empty name.
    pub fn parse(spec: &str, models_dir: &Path) -> Result<Self, TtsError> {
        let piper = |name: &str| {
            let p = Path::new(name);
            if p.extension().is_some_and(|e| e == "onnx") || p.is_absolute() {
                p.to_path_buf()
            } else {
                models_dir.join("piper").join(format!("{name}.onnx"))
            }
        };
        match spec.split_once(':') {
            Some(("espeak", v)) if !v.is_empty() => Ok(VoiceSpec::Espeak(v.to_string())),
            Some(("piper", v)) if !v.is_empty() => Ok(VoiceSpec::Piper(piper(v))),
            None if !spec.is_empty() => Ok(VoiceSpec::Piper(piper(spec))),
            _ => Err(TtsError::BadSpec(spec.to_string())),
        }
    }
}

pub struct Voices {
    specs: BTreeMap<String, VoiceSpec>,
    piper: HashMap<PathBuf, Piper>,
    /// Piper voices that failed to load: not retried on every sentence.
    broken: HashMap<PathBuf, String>,
    espeak: Espeak,
    models_dir: PathBuf,
    speed: f32,
    threads: usize,
}

impl Voices {
    /// The voices from `[tts]`.
    ///
    /// # Errors
    /// `TtsError::BadSpec` for a malformed voice (config validation catches these first).
    pub fn from_config(cfg: &Config) -> Result<Self, TtsError> {
        let models_dir = cfg.models_dir();
        let specs = cfg
            .tts
            .voices
            .iter()
            .map(|(l, s)| Ok((l.clone(), VoiceSpec::parse(s, &models_dir)?)))
            .collect::<Result<_, TtsError>>()?;
        Ok(Voices {
            specs,
            piper: HashMap::new(),
            broken: HashMap::new(),
            // The voice is chosen per call (`speak`), by language or spec.
            espeak: Espeak {
                speed: (165.0 * cfg.tts.speed) as u32,
                voice: None,
            },
            models_dir,
            speed: cfg.tts.speed,
            threads: cfg.tts.threads(),
        })
    }

    /// Uses `spec` for `language` (e.g. `sori say --voice`).
    pub fn set_voice(&mut self, language: &str, spec: VoiceSpec) {
        self.specs.insert(language.to_string(), spec);
    }

    /// The voice `language` speaks with.
    pub fn spec(&self, language: &str) -> VoiceSpec {
        self.specs
            .get(language)
            .cloned()
            .unwrap_or_else(|| VoiceSpec::Espeak(super::espeak::voice(language).to_string()))
    }

    /// Loads the voice for `language` now, so the first reply does not wait for it.
    ///
    /// # Errors
    /// The Piper voice could not load (Sori would fall back to espeak-ng for it).
    pub fn preload(&mut self, language: &str) -> Result<(), TtsError> {
        if let VoiceSpec::Piper(path) = self.spec(language) {
            self.piper_voice(&path)?;
        }
        Ok(())
    }

    fn piper_voice(&mut self, path: &Path) -> Result<&mut Piper, TtsError> {
        if let Some(reason) = self.broken.get(path) {
            return Err(TtsError::Voice {
                path: path.display().to_string(),
                reason: reason.clone(),
            });
        }
        if !self.piper.contains_key(path) {
            let started = std::time::Instant::now();
            match Piper::load(&self.models_dir, path, self.speed, self.threads) {
                Ok(p) => {
                    tracing::info!(
                        voice = p.name(),
                        ms = started.elapsed().as_millis() as u64,
                        "Piper voice loaded"
                    );
                    self.piper.insert(path.to_path_buf(), p);
                }
                Err(e) => {
                    tracing::warn!("{e}; speaking with espeak-ng instead");
                    self.broken.insert(path.to_path_buf(), e.to_string());
                    return Err(e);
                }
            }
        }
        Ok(self.piper.get_mut(path).expect("just inserted"))
    }

    /// A one-line description of the voice per configured language (for `sori doctor`).
    pub fn describe(&self) -> String {
        self.specs
            .iter()
            .map(|(l, s)| format!("{l}: {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Tts for Voices {
    fn synthesize(&mut self, text: &str, language: &str) -> Result<Clip, TtsError> {
        let text = normalize(text, language);
        match self.spec(language) {
            VoiceSpec::Piper(path) => match self.piper_voice(&path) {
                Ok(p) => p.synthesize(&text, language),
                // Already logged when the voice failed to load.
                Err(_) => self.espeak.speak(&text, super::espeak::voice(language)),
            },
            VoiceSpec::Espeak(v) => self.espeak.speak(&text, &v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let m = Path::new("/m");
        assert_eq!(
            VoiceSpec::parse("piper:en_US-joe-medium", m).unwrap(),
            VoiceSpec::Piper("/m/piper/en_US-joe-medium.onnx".into())
        );
        assert_eq!(
            VoiceSpec::parse("piper:/v/x.onnx", m).unwrap(),
            VoiceSpec::Piper("/v/x.onnx".into())
        );
        assert_eq!(
            VoiceSpec::parse("espeak:ko", m).unwrap(),
            VoiceSpec::Espeak("ko".into())
        );
        assert!(VoiceSpec::parse("espeak:", m).is_err());
    }
}
