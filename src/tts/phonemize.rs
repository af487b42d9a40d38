//! IPA phonemes from the `espeak-ng` program, the way Piper voices were trained on them: one
//! line per clause, with the clause's punctuation put back (", " after a comma, "." at the
//! end), stress marks kept, decomposed to NFD code points.
//!
//! Sori runs espeak-ng as a separate program rather than linking libespeak-ng, so Sori itself
//! stays MIT/Apache-2.0 (espeak-ng is GPL-3.0+).

use std::collections::HashMap;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{LazyLock, Mutex};

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

/// One espeak-ng per voice, started ahead and waiting for its text on stdin: starting the
/// program and loading its voice data (10-40 ms here) is then off the path to the first audio.
/// espeak-ng reads all its input before it speaks, so each process serves one sentence.
static WARM: LazyLock<Mutex<HashMap<String, Child>>> = LazyLock::new(Mutex::default);

fn spawn(voice: &str) -> std::io::Result<Child> {
    Command::new("espeak-ng")
        .args(["-q", "--ipa", "-v", voice])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Starts a process for `voice` if none is waiting (when a voice loads).
pub fn prewarm(voice: &str) {
    let mut warm = WARM.lock().unwrap_or_else(|p| p.into_inner());
    if !warm.contains_key(voice)
        && let Ok(c) = spawn(voice)
    {
        warm.insert(voice.to_string(), c);
    }
}

/// A ready process for `voice` (or a new one), and the next one started in its place.
fn take(voice: &str) -> std::io::Result<Child> {
    let mut warm = WARM.lock().unwrap_or_else(|p| p.into_inner());
    let ready = warm
        .remove(voice)
        // One that died meanwhile (killed, out of memory) is replaced, not used.
        .map(|mut c| match c.try_wait() {
            Ok(None) => Ok(c),
            _ => spawn(voice),
        });
    let child = match ready {
        Some(c) => c?,
        None => spawn(voice)?,
    };
    if let Ok(next) = spawn(voice) {
        warm.insert(voice.to_string(), next);
    }
    Ok(child)
}

/// Phonemizations started ahead of need (`start`): the next piece of a reply is phonemized
/// while the current one is synthesised. At most a few; the oldest is dropped.
static AHEAD: LazyLock<Mutex<Vec<(String, String, Child)>>> = LazyLock::new(Mutex::default);
const AHEAD_MAX: usize = 4;

/// Starts phonemizing `text` now, so a later `phonemize` of the same text only collects it.
pub fn start(text: &str, voice: &str) {
    let Ok(child) = submit(text, voice) else {
        return; // `phonemize` will report the failure when the text is needed
    };
    let mut ahead = AHEAD.lock().unwrap_or_else(|p| p.into_inner());
    if ahead.len() >= AHEAD_MAX {
        let (_, _, mut old) = ahead.remove(0);
        let _ = old.kill();
        let _ = old.wait();
    }
    ahead.push((voice.to_string(), text.to_string(), child));
}

fn submit(text: &str, voice: &str) -> Result<Child, TtsError> {
    let mut child = take(voice).map_err(|e| TtsError::Missing(e.to_string()))?;
    // One line: espeak-ng reads stdin to its end; a newline inside would only split a clause.
    let line = text.replace(['\n', '\r'], " ");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(line.as_bytes())
            .map_err(|e| TtsError::Failed(format!("espeak-ng: {e}")))?;
    }
    Ok(child)
}

/// Phonemes of one sentence for espeak-ng voice `voice` (e.g. `en-us`).
///
/// # Errors
/// `TtsError::Missing` when espeak-ng is not installed, `TtsError::Failed` when it fails.
pub fn phonemize(text: &str, voice: &str) -> Result<String, TtsError> {
    let started = {
        let mut ahead = AHEAD.lock().unwrap_or_else(|p| p.into_inner());
        ahead
            .iter()
            .position(|(v, t, _)| v == voice && t == text)
            .map(|i| ahead.remove(i).2)
    };
    let child = match started {
        Some(c) => c,
        None => submit(text, voice)?,
    };
    let out = child
        .wait_with_output()
        .map_err(|e| TtsError::Failed(format!("espeak-ng: {e}")))?;
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
        // Through the warm process (stdin), exactly what the text as an argument gives.
        for text in [
            "Hello world, this is Sori.",
            "It's 7:05 AM. Time to get up!",
        ] {
            let arg = Command::new("espeak-ng")
                .args(["-q", "--ipa", "-v", "en-us", "--", text])
                .output()
                .unwrap();
            let expected = join_clauses(&String::from_utf8_lossy(&arg.stdout), &clause_marks(text));
            assert_eq!(phonemize(text, "en-us").unwrap(), expected);
        }
        assert!(phonemize("안녕하세요.", "ko").unwrap().ends_with('.'));
        // Started ahead, collected later: the same phonemes.
        let text = "Clouds come in after lunch.";
        let direct = phonemize(text, "en-us").unwrap();
        start(text, "en-us");
        assert_eq!(phonemize(text, "en-us").unwrap(), direct);
        assert!(AHEAD.lock().unwrap().iter().all(|(_, t, _)| t != text));
    }
}
