//! The second stage: a wake word candidate is confirmed by transcribing the audio that held it
//! and looking for the wake phrase in the text. openWakeWord's classifiers occasionally fire on
//! music or similar words; whisper rarely hears "alexa" where nobody said it.

use crate::text::sounds_like;

/// Detections whose peak score reaches this are trusted without the check: clear wake words
/// peak near 1.0, while false accepts from music and look-alike words hover near the threshold.
pub const CONFIDENT: f32 = 0.8;

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

/// The decoder prompt for the check: it teaches whisper the unusual spelling ("Jarvis", not
/// "Jarrow with") without making it hear the word in audio that does not hold it ("Americano"
/// stays "Americano").
pub fn prompt(key: &str) -> String {
    match key {
        "alexa" => "Alexa.".into(),
        k => {
            let mut c = k.chars();
            let cap: String = c
                .next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default();
            format!("Hey {cap}.")
        }
    }
}

fn normalise(text: &str) -> Vec<String> {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// True if `text` contains `key` or a word that differs from it in at most 40 % of the letters
/// of the longer of the two ("Jaravith" for "jarvis", not "David"), alone or as two words run
/// together ("my croft", "a lexa").
pub fn heard(key: &str, text: &str) -> bool {
    let words = normalise(text);
    let close = |w: &str| w.chars().count() >= 3 && sounds_like(w, key);
    words.iter().any(|w| close(w))
        || words
            .windows(2)
            .any(|p| close(&format!("{}{}", p[0], p[1])))
}

/// True if `text` could carry wake word `wake`: it says its key word, or the wake word has no
/// known text (a personal one), so nothing can be ruled out. Sori's own reply passes through
/// the microphone, and without echo cancellation this is how its own voice is told apart.
pub fn may_say(text: &str, wake: &str) -> bool {
    key_word(wake).is_none_or(|k| heard(k, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hears_the_wake_word_through_transcription_noise() {
        for t in [
            "Hey Jarvis.",
            "hey jervis",
            "Jarvis, what time is it?",
            "Hey, Jarvi.",
            "Hey Jaravith!",
        ] {
            assert!(heard("jarvis", t), "{t}");
        }
        for t in ["Alexa.", "Alexia?", "a lexa", "Alexa, play music"] {
            assert!(heard("alexa", t), "{t}");
        }
        assert!(heard("mycroft", "Hey, my croft."));
        for t in ["", "play some music", "I said yes", "Hey, David, let's go"] {
            assert!(!heard("jarvis", t), "{t}");
        }
        assert!(!heard("alexa", "Texas"));
        assert!(!heard("alexa", "let's go"));
    }
}
