//! IPA phonemes from the `espeak-ng` program, the way Piper voices were trained on them: one
//! line per clause, with the clause's punctuation put back (", " after a comma, "." at the
//! end), stress marks kept, decomposed to NFD code points.
//!
//! Sori runs espeak-ng as a separate program rather than linking libespeak-ng, so Sori itself
//! stays MIT/Apache-2.0 (espeak-ng is GPL-3.0+).

use std::process::Command;

use unicode_normalization::UnicodeNormalization;

use super::TtsError;

/// Punctuation that ends a clause, and what Piper puts in the phoneme string for it.
fn clause_mark(c: char) -> Option<&'static str> {
    match c {
        '.' | '。' => Some("."),
        '!' => Some("!"),
        '?' => Some("?"),
        ',' => Some(", "),
        ';' => Some("; "),
        ':' => Some(": "),
        _ => None,
    }
}

/// The clause marks in `text`, in order (only those followed by a space or the end, as espeak
/// splits clauses).
fn clause_marks(text: &str) -> Vec<&'static str> {
    let chars: Vec<char> = text.chars().collect();
    let mut marks = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        let ends = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        // Runs like "?!" or "..." count once, at their last character.
        let next_is_mark = chars.get(i + 1).is_some_and(|&n| clause_mark(n).is_some());
        if let Some(m) = clause_mark(c).filter(|_| ends && !next_is_mark) {
            marks.push(m);
        }
    }
    marks
}

/// Phonemes of one sentence for espeak-ng voice `voice` (e.g. `en-us`).
///
/// # Errors
/// `TtsError::Missing` when espeak-ng is not installed, `TtsError::Failed` when it fails.
pub fn phonemize(text: &str, voice: &str) -> Result<String, TtsError> {
    let out = Command::new("espeak-ng")
        .args(["-q", "--ipa", "-v", voice, "--", text])
        .output()
        .map_err(|e| TtsError::Missing(e.to_string()))?;
    if !out.status.success() {
        return Err(TtsError::Failed(format!(
            "espeak-ng: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let ipa = String::from_utf8_lossy(&out.stdout);
    Ok(join_clauses(&ipa, &clause_marks(text)))
}

/// Joins espeak's clause lines, putting each clause's punctuation back. If espeak split the
/// text differently from the marks found, the clauses are joined with spaces and the final
/// mark (if any) ends the sentence.
fn join_clauses(ipa: &str, marks: &[&str]) -> String {
    let lines: Vec<&str> = ipa
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = String::new();
    if lines.len() == marks.len() {
        for (line, mark) in lines.iter().zip(marks) {
            out.push_str(line);
            out.push_str(mark);
        }
    } else {
        out = lines.join(" ");
        if let Some(last) = marks.last() {
            out.push_str(last.trim_end());
        }
    }
    out.trim_end().nfd().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_marks_follow_espeak_rules() {
        assert_eq!(clause_marks("Hello world, this is Sori."), vec![", ", "."]);
        assert_eq!(clause_marks("Really?! Yes"), vec!["!"]);
        assert_eq!(clause_marks("It is 3.5 degrees"), Vec::<&str>::new());
    }

    #[test]
    fn clauses_get_their_punctuation_back() {
        assert_eq!(
            join_clauses("həlˈoʊ\nðɪs ɪz sˈɔːɹi\n", &[", ", "."]),
            "həlˈoʊ, ðɪs ɪz sˈɔːɹi."
        );
        assert_eq!(join_clauses("a\nb\nc\n", &["?"]), "a b c?");
    }

    #[test]
    fn phonemizes_with_the_espeak_program() {
        if Command::new("espeak-ng").arg("--version").output().is_err() {
            eprintln!("espeak-ng is not installed; skipping");
            return;
        }
        let p = phonemize("Hello world, this is Sori.", "en-us").unwrap();
        assert!(p.contains("wˈɜːld, ") && p.ends_with("i."), "{p}");
    }
}
