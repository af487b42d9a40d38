//! The STT thread: whisper runs one job at a time (commands, speculative transcripts, wake
//! word checks, overheard stop phrases) off the async runtime and sends results back.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};

use tokio::sync::mpsc;

use super::Handler;
use super::actor::Msg;
use super::state::Input;
use crate::audio::Clip;
use crate::stt::Stt;

pub(super) enum SttJob {
    Verify {
        run: u64,
        audio: Vec<i16>,
        key: &'static str,
    },
    Command {
        run: u64,
        audio: Vec<i16>,
        /// A speculation's number (`Abort::issue`), to skip it once it is stale; `None` for
        /// the command as the endpoint ended it.
        speculation: Option<u64>,
    },
    StopCheck {
        run: u64,
        audio: Vec<i16>,
    },
    /// The first words of `run`'s command: which language is it?
    Identify {
        run: u64,
        audio: Vec<i16>,
    },
    /// A spoken command is starting (`Stt::prepare`).
    Prepare,
    /// Nothing to transcribe for now (`Stt::rest`).
    Rest,
}

/// Stops a speculative transcription that more speech made stale, so whisper frees the CPU
/// for the next one at once. The lock makes sure only the speculation it names is stopped,
/// never a job that started after it. A stale speculation still waiting in the queue (behind
/// the language identification, say) is skipped when its turn comes.
#[derive(Default)]
pub(super) struct Abort {
    /// The run whose speculation is being transcribed now.
    running: Mutex<Option<u64>>,
    flag: Arc<AtomicBool>,
    /// Speculations sent to the worker, and how many of them (the first ones) are stale.
    issued: AtomicU64,
    dropped: AtomicU64,
}

impl Abort {
    /// Numbers a new speculation.
    pub(super) fn issue(&self) -> u64 {
        self.issued.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The state machine dropped `run`'s speculation: at most one is live at a time, so every
    /// speculation issued so far is stale.
    pub(super) fn stale(&self, run: u64) {
        self.dropped
            .store(self.issued.load(Ordering::Relaxed), Ordering::Relaxed);
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if *running == Some(run) {
            self.flag.store(true, Ordering::Relaxed);
        }
    }

    fn is_stale(&self, number: u64) -> bool {
        number <= self.dropped.load(Ordering::Relaxed)
    }

    /// Shutting down: whatever whisper is doing stops.
    pub(super) fn all(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// A job starts: `speculation` is its run and number if it is one (stopped at once if it
    /// went stale since it was taken from the queue).
    fn start(&self, speculation: Option<(u64, u64)>) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        *running = speculation.map(|(run, _)| run);
        let stale = speculation.is_some_and(|(_, number)| self.is_stale(number));
        self.flag.store(stale, Ordering::Relaxed);
    }

    /// Ends a job; true if it was stopped.
    fn finish(&self) -> bool {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        *running = None;
        self.flag.swap(false, Ordering::Relaxed)
    }
}

pub(super) fn spawn_stt(
    mut stt: Box<dyn Stt>,
    handler: Arc<Mutex<Box<dyn Handler>>>,
    tx: mpsc::Sender<Msg>,
) -> (
    std_mpsc::Sender<SttJob>,
    Arc<Abort>,
    std::thread::JoinHandle<()>,
) {
    let (jobs, rx) = std_mpsc::channel::<SttJob>();
    let abort = Arc::new(Abort::default());
    stt.set_abort(abort.flag.clone());
    let abort_in = abort.clone();
    let thread = std::thread::Builder::new()
        .name("sori-stt".into())
        .spawn(move || {
            lower_priority();
            // Loading warmed whisper up; until someone speaks it holds no working memory.
            stt.rest();
            let abort = abort_in;
            let mut queue = std::collections::VecDeque::new();
            // The language of the latest run, once identified.
            let mut known: Option<(u64, String)> = None;
            loop {
                if queue.is_empty() {
                    match rx.recv() {
                        Ok(j) => queue.push_back(j),
                        Err(_) => return,
                    }
                }
                queue.extend(rx.try_iter());
                // A speculation followed by a newer job is stale (more speech came): skip it, as
                // whisper runs one job at a time and stale work would delay the answer.
                let job = queue.pop_front().expect("not empty");
                if let SttJob::Command {
                    run,
                    speculation: Some(number),
                    ..
                } = &job
                    && (abort.is_stale(*number)
                        || queue.iter().any(|j| matches!(j, SttJob::Command { .. })))
                {
                    tracing::debug!(run, "stale speculative transcription skipped");
                    continue;
                }
                match job {
                    SttJob::Verify { run, audio, key } => {
                        let pcm = crate::audio::i16_to_f32(&audio);
                        // Pretrained wake words are English phrases.
                        let (ok, heard) = match stt.transcribe_prompted(
                            &pcm,
                            Some("en"),
                            &crate::wake::verify::prompt(key),
                        ) {
                            Ok(t) => (crate::wake::verify::heard(key, &t.text), t.text),
                            Err(e) => {
                                tracing::warn!(
                                    "wake word check failed, accepting the wake word: {e}"
                                );
                                (true, String::new())
                            }
                        };
                        if tx
                            .blocking_send(Msg::Input(Input::Verified { run, ok, heard }))
                            .is_err()
                        {
                            return;
                        }
                    }
                    SttJob::Command {
                        run,
                        audio,
                        speculation,
                    } => {
                        let speculative = speculation.is_some();
                        save_for_debugging(run, speculative, &audio);
                        let started = std::time::Instant::now();
                        let among = match handler.lock() {
                            Ok(h) => {
                                stt.set_hints(&h.hints());
                                h.languages()
                            }
                            Err(_) => Vec::new(),
                        };
                        let pcm = crate::audio::i16_to_f32(&audio);
                        let lang = match &known {
                            Some((r, l)) if *r == run => Some(l.clone()),
                            _ => stt.identify(&pcm, &among).map(|(l, _)| {
                                known = Some((run, l.clone()));
                                l
                            }),
                        };
                        abort.start(speculation.map(|number| (run, number)));
                        let result = stt
                            .transcribe_in(&pcm, lang.as_deref())
                            .map(|mut t| {
                                // The identification is part of the cost.
                                t.stt_ms = started.elapsed().as_millis() as u64;
                                t
                            })
                            .map_err(|e| e.to_string());
                        if abort.finish() && result.is_err() {
                            tracing::debug!(run, "stale speculative transcription stopped");
                            continue;
                        }
                        let complete = match &result {
                            Ok(t) => handler
                                .lock()
                                .map(|h| h.is_complete(&t.text))
                                .unwrap_or(false),
                            Err(_) => false,
                        };
                        if tx
                            .blocking_send(Msg::Input(Input::Transcribed {
                                run,
                                speculative,
                                result,
                                complete,
                            }))
                            .is_err()
                        {
                            return;
                        }
                    }
                    // Sent once per run, during its speech; a speculation taken at an early pause
                    // may have identified the language already.
                    SttJob::Identify { run, .. }
                        if known.as_ref().is_some_and(|(r, _)| *r == run) => {}
                    SttJob::Identify { run, audio } => {
                        let among = handler.lock().map(|h| h.languages()).unwrap_or_default();
                        let pcm = crate::audio::i16_to_f32(&audio);
                        match stt.identify(&pcm, &among) {
                            Some((lang, share)) if share >= crate::stt::SURE_SHARE => known = Some((run, lang)),
                            Some((lang, share)) => {
                                tracing::debug!(run, %lang, share, "language unsure from the first words");
                            }
                            None => {}
                        }
                    }
                    SttJob::Prepare => stt.prepare(),
                    // Later work is already queued: resting now would only re-create it.
                    SttJob::Rest if queue.is_empty() => stt.rest(),
                    SttJob::Rest => {}
                    SttJob::StopCheck { run, audio } => {
                        let pcm = crate::audio::i16_to_f32(&audio);
                        if let Ok(t) = stt.transcribe_aside(&pcm) {
                            tracing::debug!(text = %t.text, "overheard while speaking");
                            let _ = tx
                                .blocking_send(Msg::Input(Input::Overheard { run, text: t.text }));
                        }
                    }
                }
            }
        })
        .expect("spawning the STT thread");
    (jobs, abort, thread)
}

/// Whisper takes every core while it runs; the listener thread (wake word, VAD) must still
/// keep up with the microphone, or frames are judged late, against the wrong playback state
/// (a command heard while an earcon plays is taken for silence). On Linux the nice value is
/// per thread and ggml's compute threads inherit it from this one.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread (tid from gettid).
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, 10) != 0 {
            tracing::debug!("could not lower the STT thread's priority");
        }
    }
}

/// With `SORI_SAVE_AUDIO=DIR`, every command's audio is written there as a WAV (for tuning
/// endpointing or reporting a misheard command).
fn save_for_debugging(run: u64, speculative: bool, audio: &[i16]) {
    if let Some(dir) = std::env::var_os("SORI_SAVE_AUDIO") {
        let path = PathBuf::from(dir).join(format!(
            "run-{run}{}.wav",
            if speculative { "-speculative" } else { "" }
        ));
        let clip = Clip {
            sample_rate: crate::audio::SAMPLE_RATE,
            samples: audio.to_vec(),
        };
        if let Err(e) = crate::audio::wav::write_clip(&path, &clip) {
            tracing::warn!("SORI_SAVE_AUDIO: {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Abort;

    #[test]
    fn a_speculation_dropped_while_queued_is_stopped_when_it_starts() {
        let abort = Abort::default();
        let first = abort.issue();
        // Dropped before the worker took it (it was busy identifying the language).
        abort.stale(1);
        abort.start(Some((1, first)));
        assert!(abort.finish(), "the stale speculation ran");
        // The next speculation, and jobs that are not speculations, run.
        let second = abort.issue();
        abort.start(Some((1, second)));
        assert!(!abort.finish());
        abort.start(None);
        assert!(!abort.finish());
    }

    #[test]
    fn only_the_running_speculation_of_the_dropped_run_is_stopped() {
        let abort = Abort::default();
        let first = abort.issue();
        abort.start(Some((1, first)));
        abort.stale(2);
        assert!(
            abort.is_stale(first),
            "every speculation issued so far is stale"
        );
        assert!(!abort.finish(), "another run's drop stopped run 1's job");
        let second = abort.issue();
        abort.start(Some((1, second)));
        abort.stale(1);
        assert!(abort.finish());
    }
}
