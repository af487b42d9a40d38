//! The second stage: a wake word candidate is confirmed by transcribing the audio that held it
//! and looking for the wake phrase in the text. openWakeWord's classifiers occasionally fire on
//! music or similar words; whisper rarely hears "alexa" where nobody said it.

use crate::text::edit_distance;

/// The word whisper should hear for a pretrained wake word, or `None` (personal wake words
/// have no known text; their template match is already strict).
pub fn key_word(wake: &str) -> Option<&'static str> {
    match wake {
        "hey_jarvis" => Some("jarvis"),
        "alexa" => Some("alexa"),
        "hey_mycroft" => Some("mycroft"),
        "hey_marvin" => Some("marvin"),
        _ => None,
    }
}

fn normalise(text: &str) -> Vec<String> {
    text.chars()
        .map(|c| if c.is_alphanumeric() { c.to_lowercase().next().unwrap_or(c) } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// True if `text` contains `key` or something within a third of its letters of it, alone or
/// as two words run together ("my croft", "a lexa").
pub fn heard(key: &str, text: &str) -> bool {
    let words = normalise(text);
    let close = |w: &str| edit_distance(w, key) * 3 <= key.chars().count();
    words.iter().any(|w| close(w)) || words.windows(2).any(|p| close(&format!("{}{}", p[0], p[1])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hears_the_wake_word_through_transcription_noise() {
        for t in ["Hey Jarvis.", "hey jervis", "Jarvis, what time is it?", "Hey, Jarvi."] {
            assert!(heard("jarvis", t), "{t}");
        }
        for t in ["Alexa.", "Alexia?", "a lexa", "Alexa, play music"] {
            assert!(heard("alexa", t), "{t}");
        }
        assert!(heard("mycroft", "Hey, my croft."));
        for t in ["", "play some music", "I said yes", "Hey, Javier, let's go"] {
            assert!(!heard("jarvis", t), "{t}");
        }
        assert!(!heard("alexa", "Texas"));
        assert!(!heard("alexa", "let's go"));
    }
}
