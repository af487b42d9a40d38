//! Speech to text: the `Stt` trait and the whisper.cpp engine behind it.

pub mod remote;
pub mod whisper;
mod whisper_log;

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum SttError {
    #[error(transparent)]
    Model(#[from] crate::models::ModelError),
    #[error(
        "whisper failed to load {path}: {reason}. The file may be damaged: run `sori models fetch` again"
    )]
    Load { path: String, reason: String },
    #[error("whisper failed: {0}")]
    Inference(String),
}

/// What was said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    pub text: String,
    /// Language code, detected or configured (`en`, `ko`, …).
    pub language: String,
    /// Length of the audio transcribed.
    pub audio_ms: u64,
    /// Time spent transcribing.
    pub stt_ms: u64,
}

/// `Stt::identify` is sure of a language from a command's first words when it has at least
/// this share of the probability; otherwise the whole command is identified at the end.
pub const SURE_SHARE: f32 = 0.8;

/// A speech-to-text engine. Synchronous and CPU-heavy: call it from a blocking thread.
pub trait Stt: Send {
    /// Transcribes 16 kHz mono audio in [-1, 1].
    ///
    /// # Errors
    /// `SttError::Inference` when the engine fails.
    fn transcribe(&mut self, pcm: &[f32]) -> Result<Transcript, SttError>;

    /// Transcribes in a given language (`Some("en")`), whatever the configured one.
    ///
    /// # Errors
    /// As `transcribe`.
    fn transcribe_in(
        &mut self,
        pcm: &[f32],
        language: Option<&str>,
    ) -> Result<Transcript, SttError> {
        let _ = language;
        self.transcribe(pcm)
    }

    /// Names the speaker is likely to say (artists, contacts), to bias recognition toward
    /// them when no `stt.initial_prompt` is configured. Empty: none.
    fn set_hints(&mut self, hints: &str) {
        let _ = hints;
    }

    /// Transcribes with a decoder prompt instead of the configured one (the wake word check).
    ///
    /// # Errors
    /// As `transcribe`.
    fn transcribe_prompted(
        &mut self,
        pcm: &[f32],
        language: Option<&str>,
        prompt: &str,
    ) -> Result<Transcript, SttError> {
        let _ = prompt;
        self.transcribe_in(pcm, language)
    }

    /// Transcribes something that is not a command (speech overheard while Sori speaks, checked
    /// for a stop phrase): never sent to a satellite's Home Assistant.
    ///
    /// # Errors
    /// As `transcribe`.
    fn transcribe_aside(&mut self, pcm: &[f32]) -> Result<Transcript, SttError> {
        self.transcribe(pcm)
    }

    /// Which of `among` (language codes) `pcm` is spoken in, with that language's share of the
    /// probability among them. `None` when the engine has a fixed language or cannot tell
    /// (then `transcribe` decides as configured).
    fn identify(&mut self, pcm: &[f32], among: &[String]) -> Option<(String, f32)> {
        let _ = (pcm, among);
        None
    }

    /// A command is coming (the wake word was heard): get ready for it, so the first
    /// transcription does not pay for it. Engines with nothing to prepare ignore it.
    fn prepare(&mut self) {}

    /// No command is being transcribed: give back the working memory a transcription needs
    /// (on a 512 MB device it is worth more to the rest of the daemon). The next call
    /// re-creates it.
    fn rest(&mut self) {}

    /// A flag that, once set, makes the transcription in progress give up early with an error
    /// (a speculative transcript that more speech made stale). Engines that cannot stop midway
    /// ignore it.
    fn set_abort(&mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        let _ = flag;
    }
}

/// Model names Sori knows, and their files in the models directory.
pub const MODELS: [(&str, &str); 2] = [
    ("base", "whisper/ggml-base-q8_0.bin"),
    ("tiny.en", "whisper/ggml-tiny.en-q8_0.bin"),
];

/// Where a model lives: a known name's file in the models dir, or a path to a ggml file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelRef {
    Known(&'static str),
    Path(std::path::PathBuf),
}

/// Resolves `stt.model`.
///
/// # Errors
/// A message naming the known models, for config validation.
pub fn resolve_model_name(name: &str) -> Result<ModelRef, String> {
    if let Some((_, file)) = MODELS.iter().find(|(n, _)| *n == name) {
        return Ok(ModelRef::Known(file));
    }
    if name.ends_with(".bin") || name.contains('/') {
        return Ok(ModelRef::Path(name.into()));
    }
    let known: Vec<&str> = MODELS.iter().map(|(n, _)| *n).collect();
    Err(format!(
        "unknown model `{name}`; use one of {} or a path to a ggml .bin file",
        known.join(", ")
    ))
}

/// Whisper's tendency on short or odd audio is to loop: the same words over and over. True if
/// some 1-4 word sequence repeats back to back at least four times (e.g. "the the the the").
pub fn is_runaway(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (1..=4).any(|n| {
        let mut run = 1;
        let mut i = n;
        while i + n <= words.len() {
            if words[i..i + n] == words[i - n..i] {
                run += 1;
                if run >= 4 {
                    return true;
                }
                i += n;
            } else {
                run = 1;
                i += 1;
            }
        }
        false
    })
}

/// Whisper's other loop on a short command: the whole sentence twice or more ("What time is
/// it? What time is it?"), which no intent matches. Returns the sentence once when `text` is
/// nothing but copies of one sentence of two or more words (a last copy cut short by the token
/// cap counts). Someone who really says a sentence twice loses the repeat, which a command or a
/// dictated message can spare.
pub fn collapse_repeats(text: &str) -> Option<&str> {
    let ends = |c: char| matches!(c, '.' | '?' | '!' | '。' | '？' | '！');
    let mut sentences = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if ends(c) {
            let end = i + c.len_utf8();
            sentences.push(text[start..end].trim());
            start = end;
        }
    }
    let tail = text[start..].trim();
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .map(normal)
            .filter(|w| !w.is_empty())
            .collect()
    };
    let by_sentence = sentences.first().and_then(|&first| {
        let once = words(first);
        if once.len() < 2 || (sentences.len() < 2 && tail.is_empty()) {
            return None;
        }
        let copies = sentences[1..].iter().all(|s| words(s) == once);
        let cut_copy = tail.is_empty() || once.starts_with(&words(tail));
        (copies && cut_copy).then_some(first)
    });
    by_sentence.or_else(|| repeated_words(text))
}

/// The loop whose copies do not line up with sentences ("good evening. the timer is done good
/// evening! the timer is done …"): `text` is two or more copies of the same 4 or more words (the
/// last one may be cut short); the first copy is returned.
fn repeated_words(text: &str) -> Option<&str> {
    let mut words = Vec::new(); // (normalised word, where it ends in `text`)
    for (start, w) in text
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
    {
        let n = normal(w);
        if !n.is_empty() {
            words.push((n, start + w.len()));
        }
    }
    let len = words.len();
    (4..=len / 2)
        .find(|&p| (p..len).all(|i| words[i].0 == words[i % p].0))
        .map(|p| &text[..words[p - 1].1])
}

/// A word as copies are compared: lower case, without the punctuation around it.
fn normal(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runaway_detection() {
        assert!(is_runaway("I'm going to go to the store. I'm going to go to the store. I'm going to go to the store. I'm going to go to the store."
            .replace('.', "").as_str()) || is_runaway("go go go go"));
        assert!(is_runaway("thank you thank you thank you thank you"));
        assert!(is_runaway("5 5 5 5 5"));
        assert!(!is_runaway(
            "ask not what your country can do for you, ask what you can do for your country"
        ));
        assert!(!is_runaway("one two one two one two"));
    }

    #[test]
    fn a_sentence_said_twice_is_said_once() {
        let once = |t| collapse_repeats(t);
        assert_eq!(
            once("What time is it? What time is it?"),
            Some("What time is it?")
        );
        assert_eq!(
            once("What can you do? what can you do. What can"),
            Some("What can you do?")
        );
        assert_eq!(once("지금 몇 시야? 지금 몇 시야?"), Some("지금 몇 시야?"));
        assert_eq!(once("What time is it?"), None);
        assert_eq!(once("Stop. Stop."), None);
        assert_eq!(once("Play jazz. Play rock."), None);
        assert_eq!(once("Play jazz. Play jazz. And rock"), None);
        assert_eq!(once("no question mark here"), None);
        // Copies that do not line up with sentences, the last one cut by the token cap.
        assert_eq!(
            once(
                "good evening. the timer is done good evening! the timer is done good evening! the"
            ),
            Some("good evening. the timer is done")
        );
        assert_eq!(once("one two one two one two"), None);
        assert_eq!(once("play new york new york"), None);
        assert_eq!(once("the timer is done the timer is"), None);
        assert_eq!(once(""), None);
    }

    #[test]
    fn model_names_resolve() {
        assert_eq!(
            resolve_model_name("base"),
            Ok(ModelRef::Known("whisper/ggml-base-q8_0.bin"))
        );
        assert!(matches!(
            resolve_model_name("/x/ggml-small.bin"),
            Ok(ModelRef::Path(_))
        ));
        assert!(
            resolve_model_name("large")
                .unwrap_err()
                .contains("base, tiny.en")
        );
    }
}
