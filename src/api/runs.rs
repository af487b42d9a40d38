//! Run history: each run's events folded into one record (what woke Sori, what it heard,
//! understood and said, and how long each stage took), kept in the state database.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::pipeline::events::{Event, EventKind};
use crate::store::StoreError;

/// Per-stage latencies, milliseconds; `None` where the run had no such stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Length of the command, as the VAD heard it.
    pub speech_ms: Option<u64>,
    /// Whisper's time on the final transcript.
    pub stt_ms: Option<u64>,
    /// From the transcript to the skill's answer (understanding and the skill).
    pub handle_ms: Option<u64>,
    /// End of speech (or the typed command) to the first reply audio: what the user waits.
    pub first_audio_ms: Option<u64>,
    /// The whole run.
    pub total_ms: Option<u64>,
}

/// One run as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The daemon's run number (restarts at 1 with the daemon).
    pub run: u64,
    /// Unix ms.
    pub started_ms: u64,
    /// `voice`, `follow_up`, `text` (typed) or `announcement`.
    pub source: String,
    pub wake_word: Option<String>,
    pub transcript: Option<String>,
    pub language: Option<String>,
    pub intent: Option<String>,
    pub reply: Option<String>,
    /// As `RunEnd`: `answered`, `no_speech`, `stopped`, `error` …
    pub outcome: String,
    pub error: Option<String>,
    pub timings: Timings,
}

/// Folds events into runs; a run is finished at its `RunEnd`.
#[derive(Default)]
pub struct Recorder {
    open: std::collections::BTreeMap<u64, (Run, Marks)>,
}

/// Event times (monotonic ms) the timings are computed from.
#[derive(Default)]
struct Marks {
    start: u64,
    speech_end: Option<u64>,
    stt_end: Option<u64>,
    skill_end: Option<u64>,
    tts_start: Option<u64>,
}

impl Recorder {
    /// Takes one event; returns the run it finished, if any.
    pub fn event(&mut self, e: &Event) -> Option<Run> {
        if e.run == 0 {
            return None;
        }
        if let EventKind::RunStart { follow_up } = &e.kind {
            let run = Run {
                run: e.run,
                started_ms: e.unix_ms,
                source: if *follow_up { "follow_up" } else { "voice" }.into(),
                ..Run::default()
            };
            let marks = Marks {
                start: e.time_ms,
                ..Marks::default()
            };
            self.open.insert(e.run, (run, marks));
            return None;
        }
        let (r, m) = self.open.get_mut(&e.run)?;
        match &e.kind {
            EventKind::WakeDetected { name, .. } => r.wake_word = Some(name.clone()),
            EventKind::SpeechEnd { speech_ms, .. } => {
                r.timings.speech_ms = Some(*speech_ms);
                m.speech_end = Some(e.time_ms);
            }
            EventKind::SttEnd {
                text,
                language,
                stt_ms,
                ..
            } => {
                r.transcript = Some(text.clone());
                r.language = Some(language.clone());
                r.timings.stt_ms = Some(*stt_ms);
                m.stt_end = Some(e.time_ms);
            }
            EventKind::Text { text, language, .. } => {
                r.source = "text".into();
                r.transcript = Some(text.clone());
                r.language = Some(language.clone());
                // A typed command "ends speaking" when it arrives.
                m.speech_end = Some(e.time_ms);
                m.stt_end = Some(e.time_ms);
            }
            EventKind::Announce { speech, .. } => {
                r.source = "announcement".into();
                r.reply = Some(speech.clone());
            }
            EventKind::IntentEnd { intent } => r.intent = intent.clone(),
            EventKind::SkillEnd { speech, .. } => {
                r.reply = Some(speech.clone());
                m.skill_end = Some(e.time_ms);
            }
            EventKind::TtsStart => {
                m.tts_start.get_or_insert(e.time_ms);
            }
            EventKind::Error { stage, message } => r.error = Some(format!("{stage}: {message}")),
            EventKind::RunEnd { outcome } => {
                let (mut r, m) = self.open.remove(&e.run)?;
                r.outcome = outcome.clone();
                let span = |a: Option<u64>, b: Option<u64>| b?.checked_sub(a?);
                r.timings.handle_ms = span(m.stt_end, m.skill_end);
                r.timings.first_audio_ms = span(m.speech_end, m.tts_start);
                r.timings.total_ms = e.time_ms.checked_sub(m.start);
                return Some(r);
            }
            _ => {}
        }
        None
    }
}

/// Stores a finished run and drops the oldest beyond `keep`.
///
/// # Errors
/// Database errors.
pub fn save(conn: &Connection, r: &Run, keep: usize) -> Result<(), StoreError> {
    let body = serde_json::to_string(r).unwrap_or_default();
    conn.execute(
        "INSERT INTO runs (started_ms, run, body) VALUES (?1, ?2, ?3)",
        params![r.started_ms as i64, r.run as i64, body],
    )?;
    conn.execute(
        "DELETE FROM runs WHERE id NOT IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?1)",
        [keep as i64],
    )?;
    Ok(())
}

/// The newest `limit` runs, newest first.
///
/// # Errors
/// Database errors.
pub fn recent(conn: &Connection, limit: usize) -> Result<Vec<Run>, StoreError> {
    let mut st = conn.prepare("SELECT body FROM runs ORDER BY id DESC LIMIT ?1")?;
    let rows = st.query_map([limit as i64], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for body in rows {
        if let Ok(run) = serde_json::from_str(&body?) {
            out.push(run);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(run: u64, time_ms: u64, kind: EventKind) -> Event {
        Event {
            run,
            audio_ms: 0,
            time_ms,
            unix_ms: 1_000_000 + time_ms,
            kind,
        }
    }

    #[test]
    fn a_voice_run_becomes_one_record_with_its_timings() {
        let mut rec = Recorder::default();
        let events = [
            ev(3, 100, EventKind::RunStart { follow_up: false }),
            ev(
                3,
                100,
                EventKind::WakeDetected {
                    name: "hey_jarvis".into(),
                    score: 0.9,
                },
            ),
            ev(
                3,
                1900,
                EventKind::SpeechEnd {
                    speech_ms: 1400,
                    reason: "silence".into(),
                },
            ),
            ev(
                3,
                2300,
                EventKind::SttEnd {
                    text: "what time is it".into(),
                    language: "en".into(),
                    stt_ms: 350,
                    audio_ms: 1400,
                },
            ),
            ev(
                3,
                2310,
                EventKind::IntentEnd {
                    intent: Some("HassGetCurrentTime".into()),
                },
            ),
            ev(
                3,
                2320,
                EventKind::SkillEnd {
                    speech: "It's 7 am.".into(),
                    expects_answer: false,
                },
            ),
            ev(3, 2500, EventKind::TtsStart),
            ev(3, 3500, EventKind::TtsEnd { cut: false }),
        ];
        for e in &events {
            assert_eq!(rec.event(e), None);
        }
        let r = rec
            .event(&ev(
                3,
                3510,
                EventKind::RunEnd {
                    outcome: "answered".into(),
                },
            ))
            .unwrap();
        assert_eq!(r.source, "voice");
        assert_eq!(r.wake_word.as_deref(), Some("hey_jarvis"));
        assert_eq!(r.transcript.as_deref(), Some("what time is it"));
        assert_eq!(r.intent.as_deref(), Some("HassGetCurrentTime"));
        assert_eq!(r.reply.as_deref(), Some("It's 7 am."));
        assert_eq!(r.started_ms, 1_000_100);
        assert_eq!(
            r.timings,
            Timings {
                speech_ms: Some(1400),
                stt_ms: Some(350),
                handle_ms: Some(20),
                first_audio_ms: Some(600),
                total_ms: Some(3410),
            }
        );
        let mut s = crate::store::Store::memory().unwrap();
        for i in 0..5 {
            save(
                s.conn(),
                &Run {
                    run: i,
                    ..r.clone()
                },
                3,
            )
            .unwrap();
        }
        let got: Vec<u64> = recent(s.conn(), 10)
            .unwrap()
            .iter()
            .map(|r| r.run)
            .collect();
        assert_eq!(got, [4, 3, 2], "newest first, three kept");
    }
}
