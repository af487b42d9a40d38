//! Language helpers shared by text normalisation for TTS and, later, value parsing for intents:
//! spelling numbers and times the way each language says them.

pub mod en;
pub mod ko;

/// The language of a text from its script: Hangul → `ko`, otherwise `en`.
pub fn detect(text: &str) -> &'static str {
    if text.chars().any(ko::is_hangul) {
        "ko"
    } else {
        "en"
    }
}
