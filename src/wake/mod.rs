//! Wake word: the `WakeWord` trait and openWakeWord through ONNX Runtime, with pretrained
//! classifiers and personal wake words sharing one feature pipeline.

pub mod embedding;
pub mod features;
pub mod oww;
pub mod personal;
pub mod remote;
pub mod verify;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::onnx::OnnxError;

/// Samples per wake-word frame (80 ms at 16 kHz).
pub const FRAME: usize = features::CHUNK;

#[derive(Debug, thiserror::Error)]
pub enum WakeError {
    #[error(transparent)]
    Onnx(#[from] OnnxError),
    #[error(
        "unknown wake word `{name}`: pretrained ones are {pretrained}; personal ones are made with `sori wakeword add {name} --samples a.wav b.wav c.wav` (found: {personal})"
    )]
    Unknown {
        name: String,
        pretrained: String,
        personal: String,
    },
    #[error("personal wake word {path}: {reason}")]
    Personal { path: String, reason: String },
    #[error("{0}")]
    Samples(String),
}

/// A wake word was heard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// Which wake word (`hey_jarvis`, or a personal one's name).
    pub name: String,
    /// The classifier's score, 0-1.
    pub score: f32,
}

/// A wake word detector. Synchronous and I/O-free: the caller owns capture and threads.
pub trait WakeWord: Send {
    /// Feeds one frame of `FRAME` samples (16 kHz mono). Returns a detection on the frame where
    /// a wake word's score first crosses its threshold; it fires again only after the score has
    /// fallen back below it.
    ///
    /// # Errors
    /// A model failed to run, or the frame has the wrong size (a caller bug).
    fn process(&mut self, frame: &[i16]) -> Result<Option<Detection>, WakeError>;

    /// The latest score per wake word, for benchmarks and `sori doctor`.
    fn scores(&self) -> Vec<(String, f32)>;
}

/// Pretrained openWakeWord classifiers Sori ships (CC BY-NC-SA 4.0), by name.
pub const PRETRAINED: [(&str, &str); 4] = [
    ("hey_jarvis", "openwakeword/hey_jarvis_v0.1.onnx"),
    ("alexa", "openwakeword/alexa_v0.1.onnx"),
    ("hey_mycroft", "openwakeword/hey_mycroft_v0.1.onnx"),
    ("hey_marvin", "openwakeword/hey_marvin_v0.1.onnx"),
];

/// Where a wake word comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum WakeRef {
    Pretrained { name: String, model: PathBuf },
    Personal { name: String, file: PathBuf },
}

/// Directory of personal wake words inside the state directory.
pub fn personal_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("wakewords")
}

/// Names of the personal wake words saved in `state_dir`.
pub fn personal_names(state_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(personal_dir(state_dir))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// Resolves a configured wake word name: a pretrained one, a personal one in the state
/// directory, or a path to a classifier `.onnx` or personal `.json` file.
///
/// # Errors
/// `WakeError::Unknown` listing what exists.
pub fn resolve(name: &str, models_dir: &Path, state_dir: &Path) -> Result<WakeRef, WakeError> {
    if let Some((n, file)) = PRETRAINED.iter().find(|(n, _)| *n == name) {
        return Ok(WakeRef::Pretrained {
            name: n.to_string(),
            model: models_dir.join(file),
        });
    }
    let p = Path::new(name);
    let stem = || {
        p.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(name)
            .to_string()
    };
    if name.ends_with(".onnx") {
        return Ok(WakeRef::Pretrained {
            name: stem(),
            model: p.to_path_buf(),
        });
    }
    if name.ends_with(".json") {
        return Ok(WakeRef::Personal {
            name: stem(),
            file: p.to_path_buf(),
        });
    }
    let file = personal_dir(state_dir).join(format!("{name}.json"));
    if file.is_file() {
        return Ok(WakeRef::Personal {
            name: name.to_string(),
            file,
        });
    }
    let personal = personal_names(state_dir);
    Err(WakeError::Unknown {
        name: name.to_string(),
        pretrained: PRETRAINED
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", "),
        personal: if personal.is_empty() {
            "none".into()
        } else {
            personal.join(", ")
        },
    })
}

/// Loads the configured wake words into one detector.
///
/// # Errors
/// Unknown names, missing models or ONNX Runtime.
/// The wake word engine `sori run` listens with: the local one, behind a Wyoming server when
/// `wake.remote` is set.
///
/// # Errors
/// As `load`.
pub fn load_engine(cfg: &crate::config::Config) -> Result<Box<dyn WakeWord>, WakeError> {
    let local = Box::new(load(cfg)?);
    if cfg.wake.remote.is_empty() {
        return Ok(local);
    }
    let addr = crate::wyoming::client::Address::parse(&cfg.wake.remote)
        .map_err(|e| WakeError::Samples(format!("wake.remote: {e}")))?;
    tracing::info!(remote = %addr, "wake word on a Wyoming server, this device as fallback");
    Ok(Box::new(remote::RemoteWake::new(
        addr,
        cfg.wake.words.clone(),
        std::time::Duration::from_millis(u64::from(cfg.wake.remote_timeout_ms)),
        cfg.wake.threshold,
        local,
    )))
}

pub fn load(cfg: &crate::config::Config) -> Result<oww::OpenWakeWord, WakeError> {
    let models = cfg.models_dir();
    let state = cfg.state_dir();
    let refs = cfg
        .wake
        .words
        .iter()
        .map(|w| resolve(w, &models, &state))
        .collect::<Result<Vec<_>, _>>()?;
    oww::OpenWakeWord::load(&models, &refs, cfg.wake.threshold)
}
