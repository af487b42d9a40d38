//! `[wake]`, `[listen]` and `[state]`: the always-on loop's settings.

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

/// `[wake]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct WakeConfig {
    /// Wake words, any number sharing one feature pipeline: pretrained `hey_jarvis`, `alexa`,
    /// `hey_mycroft`, `hey_marvin`; a personal one made with `sori wakeword add NAME`; or a
    /// path to an openWakeWord classifier `.onnx`.
    pub words: Vec<String>,
    /// Score (0-1) above which a wake word counts as heard. Lower hears more, wakes falsely more.
    pub threshold: f32,
    /// After a wake, further wakes within this many milliseconds are ignored.
    pub refractory_ms: u32,
    /// Second stage: a borderline pretrained wake word (peak score below 0.8) is confirmed by
    /// transcribing it (cuts false wakes from music and similar words; delays that chime).
    pub verify: bool,
    /// A Wyoming wake word server (wyoming-openwakeword) that hears the wake words instead of
    /// this device (`tcp://HOST:PORT`); empty: on the device. The local engine stays loaded and
    /// listens whenever the server is unreachable.
    pub remote: String,
    /// Give up on connecting to (or writing to) the remote after this long (100-60000 ms).
    pub remote_timeout_ms: u32,
}

impl Default for WakeConfig {
    fn default() -> Self {
        WakeConfig {
            words: vec!["hey_jarvis".into()],
            threshold: 0.5,
            refractory_ms: 2000,
            verify: true,
            remote: String::new(),
            remote_timeout_ms: 2000,
        }
    }
}

/// `[listen]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ListenConfig {
    /// Silero VAD speech probability (0-1) above which a frame is speech.
    pub vad_threshold: f32,
    /// Audio kept from before the wake word ends, so a command spoken without a pause is whole.
    pub pre_roll_ms: u32,
    /// Silence after speech that ends the command.
    pub trailing_silence_ms: u32,
    /// Shorter bursts of sound are not a command (a cough, a click).
    pub min_speech_ms: u32,
    /// Hard cap on a command's length: Sori stops listening after this, whatever it hears.
    pub max_speech_ms: u32,
    /// No speech this long after the wake word: give up with an earcon and go back to idle.
    pub no_speech_ms: u32,
    /// After a reply that asks a question, listen this long for an answer without the wake word.
    pub follow_up_ms: u32,
    /// Play the wake, done and error earcons.
    pub earcons: bool,
    /// Start muted: the microphone is ignored until `sori mute off`.
    pub muted: bool,
}

impl Default for ListenConfig {
    fn default() -> Self {
        ListenConfig {
            vad_threshold: 0.5,
            pre_roll_ms: 500,
            trailing_silence_ms: 600,
            min_speech_ms: 200,
            max_speech_ms: 10_000,
            no_speech_ms: 4_000,
            follow_up_ms: 5_000,
            earcons: true,
            muted: false,
        }
    }
}

/// `[state]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StateConfig {
    /// Where Sori keeps what it learns and must not lose (personal wake words, mute, later the
    /// database). Empty: `$STATE_DIRECTORY` under systemd, else `$XDG_STATE_HOME/sori`
    /// (`~/.local/state/sori`).
    pub dir: String,
}

fn range(key: &str, v: u32, lo: u32, hi: u32, default: u32) -> Result<(), ConfigError> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("{v} is out of range; use {lo}..={hi} (default {default})"),
        ))
    }
}

pub(super) fn validate(w: &WakeConfig, l: &ListenConfig) -> Result<(), ConfigError> {
    if w.words.is_empty() {
        return Err(invalid(
            "wake.words",
            "at least one wake word is needed, e.g. words = [\"hey_jarvis\"]",
        ));
    }
    if !(0.05..=0.99).contains(&w.threshold) {
        return Err(invalid(
            "wake.threshold",
            format!(
                "{} is out of range; use 0.05..=0.99 (default 0.5)",
                w.threshold
            ),
        ));
    }
    range("wake.refractory_ms", w.refractory_ms, 0, 60_000, 2000)?;
    if !w.remote.is_empty() {
        crate::wyoming::client::Address::parse(&w.remote).map_err(|e| invalid("wake.remote", e))?;
    }
    range(
        "wake.remote_timeout_ms",
        w.remote_timeout_ms,
        100,
        60_000,
        2000,
    )?;
    if !(0.05..=0.99).contains(&l.vad_threshold) {
        return Err(invalid(
            "listen.vad_threshold",
            format!(
                "{} is out of range; use 0.05..=0.99 (default 0.5)",
                l.vad_threshold
            ),
        ));
    }
    range("listen.pre_roll_ms", l.pre_roll_ms, 300, 3000, 500)?;
    range(
        "listen.trailing_silence_ms",
        l.trailing_silence_ms,
        200,
        3000,
        600,
    )?;
    range("listen.min_speech_ms", l.min_speech_ms, 0, 2000, 200)?;
    range(
        "listen.max_speech_ms",
        l.max_speech_ms,
        1000,
        30_000,
        10_000,
    )?;
    range("listen.no_speech_ms", l.no_speech_ms, 1000, 15_000, 4000)?;
    range("listen.follow_up_ms", l.follow_up_ms, 0, 15_000, 5000)?;
    Ok(())
}
