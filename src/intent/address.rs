//! A command that begins by addressing the assistant: "Jarvis, what time is it", "Hey Sori, …",
//! "소리야, 몇 시야". The address is not part of the command. People name the assistant as
//! they would a person, and the tail of the wake phrase often reaches the recording.

use crate::text::sounds_like;

/// Words that may open an address on their own or before a name.
const GREETINGS: [&str; 7] = ["hey", "hi", "hello", "ok", "okay", "헤이", "야"];

/// `text` after a leading address, or `None` when it does not open with one or nothing
/// follows it. `names` are what the assistant answers to ("Hey Jarvis", "Sori", "소리"); a
/// name counts when it is heard approximately ("Jarvi", "Harvis"), or with the Korean
/// vocative ("소리야").
pub fn strip<'a>(text: &'a str, names: &[String]) -> Option<&'a str> {
    let words = words(text);
    let mut at = 0;
    if words
        .first()
        .is_some_and(|(w, _)| GREETINGS.contains(&w.as_str()))
    {
        at = 1;
    }
    let keys = names.iter().map(|n| key_words(n)).filter(|k| !k.is_empty());
    let named = keys
        .filter_map(|k| name_len(&words[at..], &k))
        .max()
        .unwrap_or(0);
    at += named;
    if at == 0 {
        return None;
    }
    let end = words[at - 1].1;
    let rest = text[end..].trim_start_matches(|c: char| !c.is_alphanumeric());
    (!rest.is_empty()).then_some(rest)
}

/// Lower-cased words with the byte offset where each ends.
fn words(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() || c == '\'' {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push((std::mem::take(&mut cur), i));
        }
    }
    if !cur.is_empty() {
        out.push((cur, text.len()));
    }
    out
}

/// A name's words without its greeting: "Hey Jarvis" → ["jarvis"].
fn key_words(name: &str) -> Vec<String> {
    let mut w: Vec<String> = words(name).into_iter().map(|(w, _)| w).collect();
    if w.len() > 1 && GREETINGS.contains(&w[0].as_str()) {
        w.remove(0);
    }
    w
}

/// How many of `words` say the name `key`: its words one by one, or all run together as one
/// ("heysori"), or a single-word name split in two ("my croft").
fn name_len(words: &[(String, usize)], key: &[String]) -> Option<usize> {
    let joined = key.concat();
    if key.len() > 1
        && words.len() >= key.len()
        && words.iter().zip(key).all(|((w, _), k)| close(w, k))
    {
        return Some(key.len());
    }
    if words.first().is_some_and(|(w, _)| close(w, &joined)) {
        return Some(1);
    }
    match words {
        [(a, _), (b, _), ..] if close(&format!("{a}{b}"), &joined) => Some(2),
        _ => None,
    }
}

/// `heard` is `key`, give or take 40 % of its letters, or `key` with the Korean vocative.
fn close(heard: &str, key: &str) -> bool {
    let heard = match heard.strip_suffix(['야', '아']) {
        Some(stem) if stem == key => return true,
        _ => heard,
    };
    heard.chars().count() >= 2 && sounds_like(heard, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["Hey Jarvis", "Alexa", "Hey Mycroft", "Sori", "소리"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn the_address_is_taken_off_the_command() {
        for (said, command) in [
            ("Jarvis, what time is it?", "what time is it?"),
            (
                "Hey Jarvis, tell me what time it is.",
                "tell me what time it is.",
            ),
            ("Hey Jarvi tell me the time", "tell me the time"),
            ("Harvis, play some jazz", "play some jazz"),
            ("Alexa, stop", "stop"),
            ("Hey, my croft, what's the weather", "what's the weather"),
            (
                "Sori, set a timer for five minutes",
                "set a timer for five minutes",
            ),
            ("Hey Sori: pause", "pause"),
            ("Hey, what's the date?", "what's the date?"),
            ("소리야, 몇 시야?", "몇 시야?"),
            ("헤이 소리 음악 틀어 줘", "음악 틀어 줘"),
        ] {
            assert_eq!(strip(said, &names()), Some(command), "{said}");
        }
    }

    #[test]
    fn other_commands_and_a_bare_address_are_left_alone() {
        for said in [
            "what time is it",
            "play Sorry by Justin Bieber",
            "David, what time is it",
            "Hey Jarvis",
            "Jarvis?",
            "",
        ] {
            assert_eq!(strip(said, &names()), None, "{said}");
        }
    }
}
