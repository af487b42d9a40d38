//! Sori (소리, "sound, voice"): an on-device smart-speaker voice assistant.
//!
//! Microphone audio comes in through an [`audio::AudioSource`] as 16 kHz mono frames, speech
//! becomes text through an [`stt::Stt`] engine (whisper.cpp), and replies go out through an
//! [`audio::AudioSink`]. Every model is fetched and verified by [`models::fetch`].
//!
//! # Layout
//! - `config`: the TOML schema, layered loading (file < `SORI_*` env < flags), validation.
//! - `audio`: `AudioSource`/`AudioSink` traits and backends (cpal, rodio, WAV file, null), resampling.
//! - `stt`: the `Stt` trait and the whisper.cpp engine (adaptive encoder window, loop guard).
//! - `onnx`: ONNX Runtime loaded from the fetched library, one environment, single-thread sessions.
//! - `wake`: the `WakeWord` trait, openWakeWord (shared features + classifiers), personal wake words.
//! - `vad`: the `Vad` trait and Silero VAD.
//! - `daemon`: `sori run`: builds the loop from config, runs it until shutdown, mute state.
//! - `doctor`: `sori doctor`: checks config, models, ONNX Runtime, audio in/out, with fixes.
//! - `pipeline`: the listening loop: pure state machine, event bus, the actor that runs it.
//! - `tts`: the `Tts` trait: Piper voices, espeak-ng, per-language routing, normalisation, streaming.
//! - `persona`: Sori's name and its own lines, with variants, per language.
//! - `lang`: numbers and times in words, per language.
//! - `values`: numbers, durations, times, days and levels parsed from words, English and Korean.
//! - `intent`: hassil templates (Home Assistant's format) compiled into a matcher; fuzzy names.
//! - `skill`: the `Skill` trait, registry, dialog, built-in and external skills, `sori ask`.
//! - `models`: the model manifest, PyPI downloads, CTranslate2 → ggml conversion and q8_0 quantization.
//! - `net`: shared HTTP/TLS setup.
//! - `text`: small text helpers (edit distance, "did you mean").

pub mod api;
pub mod audio;
pub mod config;
pub mod daemon;
pub mod doctor;
pub mod graph;
pub mod intent;
pub mod lang;
pub mod memory;
pub mod messaging;
pub mod models;
pub mod music;
pub mod net;
pub mod onnx;
pub mod persona;
pub mod pipeline;
pub mod skill;
pub mod store;
pub mod stt;
pub mod text;
pub mod tts;
pub mod vad;
pub mod values;
pub mod wake;
pub mod wyoming;

use std::path::PathBuf;

/// Opens the configured whisper model (loaded once, warmed up).
///
/// # Errors
/// A missing model says to run `sori models fetch`; a damaged one fails to load.
pub fn load_stt(cfg: &config::Config) -> Result<stt::whisper::WhisperStt, stt::SttError> {
    let path: PathBuf = match stt::resolve_model_name(&cfg.stt.model) {
        Ok(stt::ModelRef::Known(file)) => models::ModelsDir(cfg.models_dir()).require(file)?,
        Ok(stt::ModelRef::Path(p)) => p,
        Err(e) => {
            return Err(stt::SttError::Load {
                path: cfg.stt.model.clone(),
                reason: e,
            });
        }
    };
    if !path.is_file() {
        return Err(models::ModelError::Missing {
            path: path.display().to_string(),
            dir: cfg.models_dir().display().to_string(),
        }
        .into());
    }
    let s = &cfg.stt;
    let opts = stt::whisper::WhisperOptions {
        language: (s.language != "auto").then(|| s.language.clone()),
        threads: if s.threads == 0 {
            stt::whisper::default_threads()
        } else {
            s.threads as usize
        },
        adaptive_window: s.window == "auto",
        initial_prompt: s.initial_prompt.clone(),
    };
    stt::whisper::WhisperStt::load(&path, opts)
}

/// The speech-to-text engine `sori run` uses: the local whisper, behind a Wyoming server when
/// `stt.remote` names one (the local model then is its fallback).
///
/// # Errors
/// As `load_stt`; a bad `stt.remote` was refused when the config loaded.
pub fn load_stt_engine(cfg: &config::Config) -> Result<Box<dyn stt::Stt>, stt::SttError> {
    let local = Box::new(load_stt(cfg)?);
    if cfg.stt.remote.is_empty() {
        return Ok(local);
    }
    let addr =
        wyoming::client::Address::parse(&cfg.stt.remote).map_err(|e| stt::SttError::Load {
            path: cfg.stt.remote.clone(),
            reason: e,
        })?;
    tracing::info!(remote = %addr, "speech to text on a Wyoming server, the local model as fallback");
    let language = (cfg.stt.language != "auto").then(|| cfg.stt.language.clone());
    Ok(Box::new(stt::remote::RemoteStt::new(
        addr,
        std::time::Duration::from_millis(u64::from(cfg.stt.remote_timeout_ms)),
        language,
        local,
    )))
}

/// Reads `seconds` of audio from `source` into a 16 kHz clip (used by `sori record` and
/// `sori transcribe --mic`).
///
/// # Errors
/// Whatever the source reports (a stalled or vanished device).
pub fn record(
    source: &mut dyn audio::AudioSource,
    seconds: f32,
) -> Result<audio::Clip, audio::AudioError> {
    let total = (seconds * audio::SAMPLE_RATE as f32) as usize;
    let mut samples = Vec::with_capacity(total);
    let mut frame = [0i16; 320];
    while samples.len() < total {
        let more = source.read_frame(&mut frame)?;
        samples.extend_from_slice(&frame[..frame.len().min(total - samples.len())]);
        if !more {
            break;
        }
    }
    Ok(audio::Clip {
        sample_rate: audio::SAMPLE_RATE,
        samples,
    })
}
