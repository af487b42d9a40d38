//! Streaming synthesis: a reply is split into sentences and a synthesis thread works ahead of
//! playback, so the first sentence plays while the rest are made (and a Piper voice hands
//! over each sentence in slices). The channel holds one finished clip: synthesis stays at most
//! one clip ahead, and dropping the receiver (a stop) ends the job after the slice in progress.

use std::sync::mpsc;

use super::{Tts, TtsError};
use crate::audio::Clip;

/// Splits a reply into sentences at `.`, `!`, `?` (followed by a space or the end, so "3.5"
/// and "e.g." inside a sentence stay whole) and at line breaks.
pub fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '\n' {
            push_sentence(&mut out, &mut cur);
            continue;
        }
        cur.push(c);
        let at_end = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        let run_continues = chars
            .get(i + 1)
            .is_some_and(|n| matches!(n, '.' | '!' | '?'));
        if matches!(c, '.' | '!' | '?' | '。') && at_end && !run_continues {
            push_sentence(&mut out, &mut cur);
        }
    }
    push_sentence(&mut out, &mut cur);
    out
}

fn push_sentence(out: &mut Vec<String>, cur: &mut String) {
    let s = cur.trim();
    // A lone "." or "!" is not worth a sentence of its own.
    if s.chars().any(char::is_alphanumeric) {
        out.push(s.to_string());
    }
    cur.clear();
}

/// The pieces a reply is synthesised in: its sentences, with the first split after its first
/// clause ("Sure, I've set a timer for five minutes." → "Sure," + the rest) when the rest has
/// two words or more and the voice does not stream within a sentence (`streams`). A short
/// first piece plays sooner (measured: "Sure," is ready in 60 ms, the whole sentence in
/// 200 ms) and the rest is made while it plays; a voice that streams gets there without the
/// break in the sentence and the second run.
pub fn pieces(text: &str, streams: bool) -> Vec<String> {
    let mut out = sentences(text);
    if !streams
        && let Some(first) = out.first().cloned()
        && let Some((head, tail)) = split_first_clause(&first)
    {
        out.splice(0..1, [head, tail]);
    }
    out.into_iter().flat_map(|p| split_long(&p)).collect()
}

/// Words per piece before a long sentence is split at its commas. Piper's memory grows with
/// the length of what it synthesises at once (measured: +125 MB for a 30-word list sentence),
/// and shorter pieces stream sooner; Piper pauses at a comma either way.
const LONG_PIECE: usize = 12;

/// A sentence of more than `LONG_PIECE` words as runs of its comma-separated clauses, each
/// run as long as fits; one clause longer than that stays whole.
fn split_long(piece: &str) -> Vec<String> {
    if piece.split_whitespace().count() <= LONG_PIECE {
        return vec![piece.to_string()];
    }
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for clause in piece.split_inclusive(", ") {
        let words = |s: &str| s.split_whitespace().count();
        if !cur.is_empty() && words(&cur) + words(clause) > LONG_PIECE {
            out.push(cur.trim().to_string());
            cur.clear();
        }
        cur.push_str(clause);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn split_first_clause(sentence: &str) -> Option<(String, String)> {
    let at = sentence.char_indices().find(|&(i, c)| {
        matches!(c, ',' | ';' | ':')
            && sentence[i + 1..].starts_with(' ')
            && sentence[..i].split_whitespace().count() >= 1
    })?;
    let (head, tail) = sentence.split_at(at.0 + 1);
    (tail.split_whitespace().count() >= 2)
        .then(|| (head.trim().to_string(), tail.trim().to_string()))
}

/// The voice for one piece: the reply's, unless the piece is plainly in the other script (a
/// Korean message read out in an English reply, an English title in a Korean one).
fn piece_language<'a>(piece: &str, reply: &'a str) -> &'a str {
    let hangul = piece.chars().any(crate::lang::ko::is_hangul);
    let latin = piece.chars().filter(char::is_ascii_alphabetic).count();
    match reply {
        "en" if hangul => "ko",
        "ko" if !hangul && latin >= 2 => "en",
        other => other,
    }
}

/// One synthesised piece of a reply, or why it failed.
pub type Piece = Result<Clip, TtsError>;

struct Job {
    text: String,
    language: String,
    out: mpsc::SyncSender<Piece>,
}

/// A synthesis thread that owns the TTS engine.
pub struct Synth {
    jobs: mpsc::Sender<Job>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Synth {
    /// Ends the thread and waits for it (at most the piece it is making), so the voices are
    /// released before the process exits: ONNX Runtime torn down at exit under a running
    /// session crashes the process.
    fn drop(&mut self) {
        drop(std::mem::replace(&mut self.jobs, mpsc::channel().0));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Synth {
    /// Starts the thread; `tts` lives on it from now on.
    pub fn spawn(mut tts: Box<dyn Tts>) -> Synth {
        let (jobs, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("sori-tts".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    let pieces = pieces(&job.text, tts.streams(&job.language));
                    let prepare = |tts: &mut Box<dyn Tts>, i: usize| {
                        if let Some(p) = pieces.get(i) {
                            tts.prepare(p, piece_language(p, &job.language));
                        }
                    };
                    // The first piece takes the phonemizer that is already waiting; the next
                    // one starts its own, ready by the time the first is synthesised.
                    prepare(&mut tts, 0);
                    // Audio sent so far and when the first of it went out: what has not
                    // played yet by now (at least; playback starts at the first clip or later).
                    let mut sent = 0.0f32;
                    let mut first_sent: Option<std::time::Instant> = None;
                    for (i, sentence) in pieces.iter().enumerate() {
                        let lang = piece_language(sentence, &job.language);
                        prepare(&mut tts, i + 1);
                        if let Some(t) = first_sent {
                            tts.set_ahead(sent - t.elapsed().as_secs_f32(), lang);
                        }
                        if i + 1 == pieces.len() {
                            tts.rest_after_next(lang);
                        }
                        // Slices of the piece go out as they are made. The listener hung up
                        // (stopped): drop the rest of this reply.
                        let mut listening = true;
                        let made = tts.synthesize_into(sentence, lang, &mut |clip| {
                            first_sent.get_or_insert_with(std::time::Instant::now);
                            sent += clip.samples.len() as f32 / clip.sample_rate.max(1) as f32;
                            listening = job.out.send(Ok(clip)).is_ok();
                            listening
                        });
                        if let Err(e) = made {
                            let _ = job.out.send(Err(e));
                            break;
                        }
                        if !listening {
                            break;
                        }
                    }
                }
            })
            .expect("spawning the TTS thread");
        Synth {
            jobs,
            thread: Some(thread),
        }
    }

    /// Streams `text` piece by piece (see `pieces`). The receiver yields the clips (a piece, or
    /// a slice of one from a Piper voice) in
    /// order and ends after the last (or after the first error).
    pub fn speak(&self, text: &str, language: &str) -> mpsc::Receiver<Piece> {
        let (out, rx) = mpsc::sync_channel(1);
        let job = Job {
            text: text.to_string(),
            language: language.to_string(),
            out,
        };
        if let Err(mpsc::SendError(job)) = self.jobs.send(job) {
            let _ = job
                .out
                .send(Err(TtsError::Failed("the TTS thread has stopped".into())));
        }
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::{piece_language, pieces, sentences};

    #[test]
    fn a_piece_in_the_other_script_gets_that_voice() {
        assert_eq!(piece_language("From Mom.", "en"), "en");
        assert_eq!(piece_language("늦을 거야.", "en"), "ko");
        assert_eq!(piece_language("I'll be late.", "ko"), "en");
        assert_eq!(piece_language("엄마에게서 온 메시지예요.", "ko"), "ko");
        assert_eq!(piece_language("3시 5분.", "ko"), "ko");
    }

    #[test]
    fn the_first_clause_goes_first() {
        assert_eq!(
            pieces("Okay then, timer set for five minutes. Bye.", false),
            vec!["Okay then,", "timer set for five minutes.", "Bye."]
        );
        assert_eq!(
            pieces("Sure, I set a timer.", false),
            vec!["Sure,", "I set a timer."]
        );
        // A long sentence goes in runs of clauses of up to 12 words.
        assert_eq!(
            pieces(
                "Right now I can tell you the time and the date, set timers, set alarms, \
                 tell you the weather, play music and change the volume, send messages and \
                 repeat after you.",
                false
            ),
            vec![
                "Right now I can tell you the time and the date,",
                "set timers, set alarms, tell you the weather,",
                "play music and change the volume, send messages and repeat after you."
            ]
        );
        // A voice that streams within a sentence keeps the sentence whole.
        assert_eq!(
            pieces("Sure, I set a timer. Bye.", true),
            vec!["Sure, I set a timer.", "Bye."]
        );
        // A one-word tail is not worth a piece of its own.
        assert_eq!(pieces("Sure, done.", false), vec!["Sure, done."]);
        assert_eq!(pieces("네, 알겠어요.", false), vec!["네, 알겠어요."]);
        assert_eq!(
            pieces("It is 3.5 degrees, sunny.", false),
            vec!["It is 3.5 degrees, sunny."]
        );
    }

    #[test]
    fn splits_sentences_but_not_numbers() {
        assert_eq!(
            sentences("It's 3.5 degrees. Tomorrow rain! OK?"),
            vec!["It's 3.5 degrees.", "Tomorrow rain!", "OK?"]
        );
        assert_eq!(
            sentences("Wait... what?! Yes"),
            vec!["Wait...", "what?!", "Yes"]
        );
        assert_eq!(
            sentences("지금은 세 시예요. 좋은 하루 보내세요!"),
            vec!["지금은 세 시예요.", "좋은 하루 보내세요!"]
        );
        assert_eq!(
            sentences("line one\nline two"),
            vec!["line one", "line two"]
        );
        assert!(sentences(" . ").is_empty());
    }
}
