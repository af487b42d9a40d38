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
use crate::wyoming::client::{Address, Client, Retry};

/// A voice named in config: `piper:NAME`, `piper:/path/voice.onnx`, `espeak:VOICE`, or a
/// Wyoming TTS server (`tcp://HOST:PORT`, optionally `#VOICE` for one of its voices).
#[derive(Debug, Clone, PartialEq)]
pub enum VoiceSpec {
    Piper(PathBuf),
    Espeak(String),
    Remote {
        addr: Address,
        voice: Option<String>,
    },
}

/// As written in config: `piper:/path/voice.onnx` or `espeak:VOICE`.
impl std::fmt::Display for VoiceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VoiceSpec::Piper(p) => write!(f, "piper:{}", p.display()),
            VoiceSpec::Espeak(v) => write!(f, "espeak:{v}"),
            VoiceSpec::Remote { addr, voice: None } => write!(f, "{addr}"),
            VoiceSpec::Remote {
                addr,
                voice: Some(v),
            } => write!(f, "{addr}#{v}"),
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
        if ["tcp://", "wyoming://", "unix://"]
            .iter()
            .any(|p| spec.starts_with(p))
        {
            let (uri, voice) = match spec.split_once('#') {
                Some((u, v)) if !v.is_empty() => (u, Some(v.to_string())),
                Some((u, _)) => (u, None),
                None => (spec, None),
            };
            let addr = Address::parse(uri).map_err(|_| TtsError::BadSpec(spec.to_string()))?;
            return Ok(VoiceSpec::Remote { addr, voice });
        }
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
    remote_timeout: std::time::Duration,
    /// `tts.release_memory`.
    release_memory: bool,
    /// `tts.quantize`.
    quantize: bool,
    /// Per Wyoming server: whether it is worth trying now.
    remotes: HashMap<String, Retry>,
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
            remote_timeout: std::time::Duration::from_millis(u64::from(cfg.tts.remote_timeout_ms)),
            release_memory: cfg.tts.release_memory,
            quantize: cfg.tts.quantize,
            remotes: HashMap::new(),
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
            match Piper::load_with(
                &self.models_dir,
                path,
                self.speed,
                self.threads,
                self.quantize,
            ) {
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

impl Voices {
    fn speak_with(
        &mut self,
        spec: VoiceSpec,
        text: &str,
        language: &str,
    ) -> Result<Clip, TtsError> {
        match spec {
            VoiceSpec::Piper(path) => match self.piper_voice(&path) {
                Ok(p) => p.synthesize(text, language),
                // Already logged when the voice failed to load.
                Err(_) => self.espeak.speak(text, super::espeak::voice(language)),
            },
            VoiceSpec::Espeak(v) => self.espeak.speak(text, &v),
            VoiceSpec::Remote { addr, voice } => {
                match self.remote(&addr, voice.as_deref(), text, language) {
                    Some(clip) => Ok(clip),
                    None => {
                        let local = self.local_fallback(language);
                        self.speak_with(local, text, language)
                    }
                }
            }
        }
    }

    /// Speech from a Wyoming server; `None` (logged) when it is down, slow or broken, and
    /// while it is left alone after a failure.
    fn remote(
        &mut self,
        addr: &Address,
        voice: Option<&str>,
        text: &str,
        language: &str,
    ) -> Option<Clip> {
        let timeout = self.remote_timeout;
        let retry = self.remotes.entry(addr.to_string()).or_default();
        if !retry.should_try() {
            return None;
        }
        let result = Client::connect(addr, timeout)
            .and_then(|mut c| c.synthesize(text, voice, Some(language)));
        match result {
            Ok((rate, samples)) if !samples.is_empty() => {
                if retry.succeeded() {
                    tracing::info!(remote = %addr, "remote text to speech is back");
                }
                Some(Clip {
                    sample_rate: rate,
                    samples,
                })
            }
            Ok(_) => {
                tracing::warn!(remote = %addr, "remote text to speech sent no audio; speaking on this device");
                retry.failed();
                None
            }
            Err(e) => {
                tracing::warn!(remote = %addr, "remote text to speech failed ({e}); speaking on this device");
                retry.failed();
                None
            }
        }
    }

    /// The voice a language falls back to when its remote fails: Sori's own default for it.
    fn local_fallback(&self, language: &str) -> VoiceSpec {
        crate::config::TtsConfig::default()
            .voices
            .get(language)
            .and_then(|s| VoiceSpec::parse(s, &self.models_dir).ok())
            .unwrap_or_else(|| VoiceSpec::Espeak(super::espeak::voice(language).to_string()))
    }
}

impl Tts for Voices {
    fn synthesize(&mut self, text: &str, language: &str) -> Result<Clip, TtsError> {
        let text = normalize(text, language);
        let spec = self.spec(language);
        self.speak_with(spec, &text, language)
    }

    fn synthesize_into(
        &mut self,
        text: &str,
        language: &str,
        out: &mut dyn FnMut(Clip) -> bool,
    ) -> Result<(), TtsError> {
        let text = normalize(text, language);
        let spec = self.spec(language);
        if let VoiceSpec::Piper(path) = &spec
            && let Ok(p) = self.piper_voice(path)
        {
            return p.synthesize_into(&text, out);
        }
        out(self.speak_with(spec, &text, language)?);
        Ok(())
    }

    fn streams(&self, language: &str) -> bool {
        matches!(self.spec(language), VoiceSpec::Piper(path)
            if self.piper.get(&path).is_some_and(Piper::streams))
    }

    fn prepare(&mut self, text: &str, language: &str) {
        if let VoiceSpec::Piper(path) = self.spec(language)
            && let Some(p) = self.piper.get(&path)
        {
            p.prepare(&normalize(text, language));
        }
    }

    fn set_ahead(&mut self, secs: f32, language: &str) {
        if let VoiceSpec::Piper(path) = self.spec(language)
            && let Some(p) = self.piper.get_mut(&path)
        {
            p.set_ahead(secs);
        }
    }

    fn rest_after_next(&mut self, language: &str) {
        if self.release_memory
            && let VoiceSpec::Piper(path) = self.spec(language)
            && let Some(p) = self.piper.get_mut(&path)
        {
            p.rest_after_next();
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
        let remote = VoiceSpec::parse("tcp://tts.lan:10200#en_US-lessac-medium", m).unwrap();
        assert_eq!(
            remote,
            VoiceSpec::Remote {
                addr: Address::Tcp("tts.lan:10200".into()),
                voice: Some("en_US-lessac-medium".into())
            }
        );
        assert_eq!(
            remote.to_string(),
            "tcp://tts.lan:10200#en_US-lessac-medium"
        );
        assert_eq!(
            VoiceSpec::parse("wyoming://tts.lan:10200", m).unwrap(),
            VoiceSpec::Remote {
                addr: Address::Tcp("tts.lan:10200".into()),
                voice: None
            }
        );
        assert!(VoiceSpec::parse("tcp://nohost", m).is_err());
    }
}
