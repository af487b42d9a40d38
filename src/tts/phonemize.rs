//! IPA phonemes from the `espeak-ng` program, the way Piper voices were trained on them: one
//! line per clause, with the clause's punctuation put back (", " after a comma, "." at the
//! end), stress marks kept, decomposed to NFD code points.
//!
//! Sori runs espeak-ng as a separate program rather than linking libespeak-ng, so Sori itself
//! stays MIT/Apache-2.0 (espeak-ng is GPL-3.0+).

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
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

/// One espeak-ng per voice, kept running: with its stdin a pipe left open, espeak-ng
/// phonemizes line by line and flushes each line's clauses. Starting the program and loading
/// its voice data costs 10-40 ms of CPU, which a process per sentence paid on the path to a
/// reply's first audio (and its next piece's start competed with the synthesis on a 2-core
/// device); one long-lived process answers a sentence in 1-5 ms.
static RUNNING: LazyLock<Mutex<HashMap<String, Espeak>>> = LazyLock::new(Mutex::default);

/// A line no reply contains, sent after each text: its phonemes mark where that text's
/// output ends (espeak writes one line per clause, and how many is its own decision).
const SENTINEL: &str = "zzyzx qqq";

/// Sentences written to espeak-ng ahead of need whose phonemes were read by none yet; more
/// than this and the oldest results are dropped.
const KEPT: usize = 4;

struct Espeak {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The sentinel's phonemes, read from the process's first line of output.
    sentinel: Option<String>,
    /// Texts written and not read back yet, oldest first.
    pending: VecDeque<String>,
    /// Texts read back whose phonemes nobody collected yet.
    done: VecDeque<(String, String)>,
}

impl Espeak {
    fn spawn(voice: &str) -> std::io::Result<Espeak> {
        let mut child = Command::new("espeak-ng")
            .args(["-q", "--ipa", "-v", voice])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(std::io::Error::other("espeak-ng without pipes"));
        };
        let mut e = Espeak {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            sentinel: None,
            pending: VecDeque::new(),
            done: VecDeque::new(),
        };
        // Its phonemes are learned from the first answer; loading happens meanwhile.
        e.write_line(SENTINEL)?;
        Ok(e)
    }

    fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        self.stdin.write_all(line.as_bytes())?;
        self.stdin.write_all(b"\n")?;
        self.stdin.flush()
    }

    /// Writes `text` to be phonemized; its output is read by `collect`.
    fn submit(&mut self, text: &str) -> std::io::Result<()> {
        for line in lines(text) {
            self.write_line(&line)?;
        }
        self.write_line(SENTINEL)?;
        self.pending.push_back(text.to_string());
        Ok(())
    }

    /// Raw output lines up to the next sentinel.
    fn read_until_sentinel(&mut self) -> std::io::Result<String> {
        if self.sentinel.is_none() {
            let mut first = String::new();
            while first.trim().is_empty() {
                first.clear();
                if self.stdout.read_line(&mut first)? == 0 {
                    return Err(self.died());
                }
            }
            self.sentinel = Some(first.trim().to_string());
        }
        let mut out = String::new();
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                return Err(self.died());
            }
            if Some(line.trim()) == self.sentinel.as_deref() {
                return Ok(out);
            }
            out.push_str(&line);
        }
    }

    /// The output for `text`, reading (and keeping) that of texts written before it.
    fn collect(&mut self, text: &str) -> std::io::Result<String> {
        if let Some(i) = self.done.iter().position(|(t, _)| t == text) {
            return Ok(self.done.remove(i).map(|(_, p)| p).unwrap_or_default());
        }
        if !self.pending.iter().any(|t| t == text) {
            self.submit(text)?;
        }
        while let Some(next) = self.pending.pop_front() {
            let ipa = self.read_until_sentinel()?;
            if next == text {
                return Ok(ipa);
            }
            if self.done.len() >= KEPT {
                self.done.pop_front();
            }
            self.done.push_back((next, ipa));
        }
        Err(std::io::Error::other("espeak-ng lost a request"))
    }

    /// Why the process stopped answering: its exit and what it said on stderr.
    fn died(&mut self) -> std::io::Error {
        let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
        let mut said = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut said);
        }
        std::io::Error::other(format!("espeak-ng stopped ({status}): {}", said.trim()))
    }
}

/// espeak-ng reads its input in pieces of up to 1,000 bytes, and a word across the boundary
/// would be cut in two; a longer text goes as several lines, split between words.
const LINE_MAX: usize = 900;

/// `text` as the lines to write: newlines become spaces (each line is its own request), and
/// no line is longer than `LINE_MAX` bytes unless one word is.
fn lines(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in text.split_whitespace() {
        let cur = out.last_mut().expect("never empty");
        if !cur.is_empty() && cur.len() + 1 + word.len() > LINE_MAX {
            out.push(String::new());
        }
        let cur = out.last_mut().expect("never empty");
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    out
}

/// Runs `f` on the voice's process, starting one if none runs; a process that fails is
/// dropped, so the next call starts a fresh one.
fn with_espeak<T>(
    voice: &str,
    f: impl FnOnce(&mut Espeak) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let mut running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
    if !running.contains_key(voice) {
        running.insert(voice.to_string(), Espeak::spawn(voice)?);
    }
    let e = running.get_mut(voice).expect("inserted above");
    let result = f(e);
    if result.is_err()
        && let Some(mut dead) = running.remove(voice)
    {
        let _ = dead.child.kill();
        let _ = dead.child.wait();
    }
    result
}

/// Starts the voice's process if none runs (when a voice loads), so the first reply does not
/// wait for it.
pub fn prewarm(voice: &str) {
    let _ = with_espeak(voice, |_| Ok(()));
}

/// Starts phonemizing `text` now, so a later `phonemize` of the same text only collects it.
pub fn start(text: &str, voice: &str) {
    // A failure shows when the text is needed (`phonemize` reports it).
    let _ = with_espeak(voice, |e| e.submit(text));
}

/// Phonemes of one sentence for espeak-ng voice `voice` (e.g. `en-us`).
///
/// # Errors
/// `TtsError::Missing` when espeak-ng is not installed, `TtsError::Failed` when it fails.
pub fn phonemize(text: &str, voice: &str) -> Result<String, TtsError> {
    let once = || with_espeak(voice, |e| e.collect(text));
    // A process that died meanwhile (killed, out of memory) is replaced once.
    let ipa = once().or_else(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Err(e),
        _ => once(),
    });
    let ipa = ipa.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => TtsError::Missing(format!("espeak-ng: {e}")),
        _ => TtsError::Failed(format!("espeak-ng: {e}")),
    })?;
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
        // Several ahead, collected out of order: each gets its own.
        let (a, b) = ("It will be sunny.", "Tomorrow looks warmer and dry.");
        let (pa, pb) = (
            phonemize(a, "en-us").unwrap(),
            phonemize(b, "en-us").unwrap(),
        );
        start(a, "en-us");
        start(b, "en-us");
        assert_eq!(phonemize(b, "en-us").unwrap(), pb);
        assert_eq!(phonemize(a, "en-us").unwrap(), pa);
        // A text longer than espeak-ng reads at once keeps every word whole.
        let long = vec!["supercalifragilistic"; 70].join(" ");
        assert!(long.len() > 1000 && lines(&long).len() == 2);
        let p = phonemize(&long, "en-us").unwrap();
        assert_eq!(p.split_whitespace().count(), 70, "{p}");
        // A process that died is replaced.
        let pid = RUNNING.lock().unwrap()["en-us"].child.id();
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        assert_eq!(phonemize(a, "en-us").unwrap(), pa);
    }
}
