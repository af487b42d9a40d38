//! Text to speech. The `Tts` trait has three implementations: Piper voices (`piper`, ONNX
//! through ONNX Runtime, phonemes from the espeak-ng program), espeak-ng itself (`espeak`,
//! every language incl. Korean), and `Voices`, which routes each language to its configured
//! voice after normalising the text (`normalize`). `stream` splits replies into sentences
//! and synthesises ahead of playback on its own thread; `split` cuts a Piper voice at its
//! vocoder so a sentence plays in slices as they are made.
//!
//! Licence: espeak-ng is GPL-3.0+, so Sori runs it as a program and never links it; Sori
//! stays MIT OR Apache-2.0.

pub mod espeak;
pub mod normalize;
pub mod phonemize;
pub mod piper;
pub mod quantize;
pub mod split;
pub mod split_files;
pub mod stream;
pub mod voices;

pub use voices::Voices;

use crate::audio::Clip;

#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("espeak-ng is not installed ({0}); install it: `sudo apt-get install espeak-ng`")]
    Missing(String),
    #[error(
        "voice {path}: {reason}. Run `sori models fetch --only piper`, or set [tts.voices] to another voice"
    )]
    Voice { path: String, reason: String },
    #[error("`{0}` is not a voice; use piper:NAME, piper:/path/to/voice.onnx or espeak:VOICE")]
    BadSpec(String),
    #[error("speech synthesis failed: {0}")]
    Failed(String),
}

/// A speech synthesiser. Synchronous: call it from a blocking thread.
pub trait Tts: Send {
    /// Speaks `text` in `language` (`en`, `ko`, …) into a clip.
    ///
    /// # Errors
    /// The engine is missing or failed.
    fn synthesize(&mut self, text: &str, language: &str) -> Result<Clip, TtsError>;

    /// Speaks `text` into `out` in slices as they are made (a Piper voice starts playing a
    /// sentence before it has made all of it); stops early when `out` returns false. The
    /// default hands over the whole clip at once.
    ///
    /// # Errors
    /// As `synthesize`.
    fn synthesize_into(
        &mut self,
        text: &str,
        language: &str,
        out: &mut dyn FnMut(Clip) -> bool,
    ) -> Result<(), TtsError> {
        out(self.synthesize(text, language)?);
        Ok(())
    }

    /// Whether the voice for `language` streams a sentence in slices (`synthesize_into`), so
    /// replies need not be cut into short pieces to start soon. Default: no.
    fn streams(&self, language: &str) -> bool {
        let _ = language;
        false
    }

    /// `text` will be synthesised next: an engine may start on it now (Piper phonemizes it
    /// while the current piece is being synthesised). Only a hint; the default does nothing.
    fn prepare(&mut self, text: &str, language: &str) {
        let _ = (text, language);
    }

    /// The next piece, in `language`, is needed only after `secs` of audio already made have
    /// played: an engine may make it in fewer, bigger runs. Only a hint; the default does
    /// nothing.
    fn set_ahead(&mut self, secs: f32, language: &str) {
        let _ = (secs, language);
    }

    /// The next piece, in `language`, is the last of the reply: an engine may give back its
    /// working memory once it is synthesised, so it is not held between replies (a Piper
    /// voice's grows with the longest piece it has made). Only a hint; the default does nothing.
    fn rest_after_next(&mut self, language: &str) {
        let _ = language;
    }
}
