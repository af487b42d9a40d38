//! Text to speech: the `Tts` trait. espeak-ng (run as a program, so Sori stays non-GPL) speaks
//! every language; Piper voices and streaming come with the speaking issue.

pub mod espeak;

use crate::audio::Clip;

#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("espeak-ng is not installed ({0}); install it: `sudo apt-get install espeak-ng`")]
    Missing(String),
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
}
