//! whisper.cpp through whisper-rs: the model is loaded once (`WhisperContext`), one scratch
//! state (KV caches and compute buffers) serves a command's transcriptions and is released
//! between commands, and short commands use an encoder window scaled to their length instead
//! of whisper's fixed 30 s (the largest single speed-up on a Pi).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::{SttError, Transcript, collapse_repeats, is_runaway};

/// Encoder frames per second of audio (whisper: 1500 frames for 30 s).
const CTX_PER_SEC: f32 = 50.0;
/// The full window.
const FULL_CTX: i32 = 1500;
/// Smallest window used (7.7 s). Below it whisper degrades and repeats itself on short clips
/// (measured on 301 spoken digits and 16 synthesised commands: 320 loses words, 256 repeats
/// whole commands); at 384 the transcripts are as good as at 512 and the encoder takes a third
/// less time, which is most of a command's transcription.
const MIN_CTX: i32 = 384;
/// The window language identification encodes (2.56 s): the language shows in a command's first
/// words, and a third of the smallest transcription window takes 40 % of its time (104 against
/// 270 ms here), and it chose right as often or more on 59 clips of both languages (54 against
/// 50 of 59 from their first 0.4 s).
const ID_CTX: i32 = 128;
/// Headroom after the end of speech, in encoder frames (2 s).
const CTX_MARGIN: i32 = 100;

/// Settings for the engine (from `[stt]`).
#[derive(Debug, Clone)]
pub struct WhisperOptions {
    /// `None` detects the language.
    pub language: Option<String>,
    pub threads: usize,
    /// Scale the encoder window to the audio (`stt.window = "auto"`).
    pub adaptive_window: bool,
    pub initial_prompt: String,
}

impl Default for WhisperOptions {
    fn default() -> Self {
        WhisperOptions {
            language: None,
            threads: default_threads(),
            adaptive_window: true,
            initial_prompt: String::new(),
        }
    }
}

/// Cores, at most 4 (more threads don't help whisper on small models).
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4)
}

/// The encoder window for `samples` of 16 kHz audio.
pub fn audio_ctx_for(samples: usize) -> i32 {
    let needed = (samples as f32 / 16_000.0 * CTX_PER_SEC).ceil() as i32 + CTX_MARGIN;
    // Round up to a multiple of 64 so nearby lengths share one compute graph size.
    (((needed + 63) / 64) * 64).clamp(MIN_CTX, FULL_CTX)
}

pub struct WhisperStt {
    // Field order matters: the state must drop before the context it came from.
    /// `None` at rest (`Stt::rest`): the state is most of whisper's memory beyond its weights.
    state: Option<WhisperState>,
    ctx: WhisperContext,
    opts: WhisperOptions,
    /// How long loading took, for benchmarks and `sori doctor`.
    pub load_ms: u64,
    multilingual: bool,
    /// Likely names, used as the prompt when none is configured.
    hints: String,
    /// Set by the loop to stop a transcription that is no longer wanted.
    abort: Option<Arc<AtomicBool>>,
}

impl WhisperStt {
    /// Loads the ggml model at `path` and warms it up.
    ///
    /// # Errors
    /// `SttError::Load` when the file is not a whisper model.
    pub fn load(path: &Path, opts: WhisperOptions) -> Result<Self, SttError> {
        super::whisper_log::install();
        crate::memory::configure();
        let started = Instant::now();
        let load_err = |reason: String| SttError::Load {
            path: path.display().to_string(),
            reason,
        };
        let ctx = WhisperContext::new_with_params(path, WhisperContextParameters::default())
            .map_err(|e| load_err(e.to_string()))?;
        let multilingual = ctx.is_multilingual();
        let mut stt = WhisperStt {
            state: None,
            ctx,
            opts,
            load_ms: 0,
            multilingual,
            hints: String::new(),
            abort: None,
        };
        // The first run allocates whisper's compute buffers; pay for it now, not on the first
        // command.
        // In a fixed language: language detection would encode at whisper's default 30 s
        // window and leave compute buffers of that size allocated (~110 MB more).
        stt.run(&vec![0.0; 16_000], MIN_CTX, Some("en"))
            .map_err(|e| load_err(e.to_string()))?;
        stt.load_ms = started.elapsed().as_millis() as u64;
        tracing::info!(model = %path.display(), load_ms = stt.load_ms, threads = stt.opts.threads, "whisper loaded");
        Ok(stt)
    }

    fn run(
        &mut self,
        pcm: &[f32],
        audio_ctx: i32,
        language: Option<&str>,
    ) -> Result<(String, String), SttError> {
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        p.set_n_threads(self.opts.threads as i32);
        let lang = match (
            language.or(self.opts.language.as_deref()),
            self.multilingual,
        ) {
            (_, false) => "en",
            (Some(l), true) => l,
            (None, true) => "auto",
        };
        p.set_language(Some(lang));
        p.set_translate(false);
        p.set_no_context(true);
        p.set_no_timestamps(true);
        p.set_single_segment(true);
        p.set_print_special(false);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        p.set_suppress_nst(true);
        p.set_audio_ctx(audio_ctx);
        if let Some(flag) = &self.abort {
            // whisper.cpp asks after every node of the encoder's graphs (patched in,
            // patches/whisper-cpp.cmake) and after every decoded token, so a stale speculation
            // stops within milliseconds and frees the CPU for the next one. Not through
            // whisper-rs 0.16's `set_abort_callback_safe`: its trampoline reads the boxed
            // closure as the wrong type and aborts at random.
            // SAFETY: the pointer is the `AtomicBool` inside `self.abort`'s Arc, which lives
            // in `self` for the whole of `full` below; the callback only loads from it.
            unsafe {
                p.set_abort_callback(Some(abort_requested));
                p.set_abort_callback_user_data(Arc::as_ptr(flag) as *mut std::ffi::c_void);
            }
        }

        // A hard cap on tokens: ~10 tokens per second of speech is generous even for Korean.
        let secs = pcm.len() as f32 / 16_000.0;
        p.set_max_tokens((16.0 + secs * 10.0) as i32);
        if !self.opts.initial_prompt.is_empty() {
            p.set_initial_prompt(&self.opts.initial_prompt);
        } else if !self.hints.is_empty() {
            p.set_initial_prompt(&self.hints);
        }
        let state = ensure_state(&mut self.state, &self.ctx)?;
        state
            .full(p, &at_least_a_second(pcm))
            .map_err(|e| SttError::Inference(e.to_string()))?;
        let mut text = String::new();
        for seg in state.as_iter() {
            text.push_str(
                &seg.to_str_lossy()
                    .map_err(|e| SttError::Inference(e.to_string()))?,
            );
        }
        let language = whisper_rs::get_lang_str(state.full_lang_id_from_state())
            .unwrap_or(lang)
            .to_string();
        Ok((text.trim().to_string(), language))
    }
}

/// The scratch state in `slot`, created if the engine is at rest.
fn ensure_state<'s>(
    slot: &'s mut Option<WhisperState>,
    ctx: &WhisperContext,
) -> Result<&'s mut WhisperState, SttError> {
    if slot.is_none() {
        let started = Instant::now();
        let state = ctx
            .create_state()
            .map_err(|e| SttError::Inference(e.to_string()))?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "whisper state ready"
        );
        *slot = Some(state);
    }
    Ok(slot.as_mut().expect("just created"))
}

/// Sets the encoder window the state's next encoder pass outside `full` (language
/// identification) uses: whisper.cpp keeps the window of the last `full` call in the state, and
/// on a fresh one would encode (and allocate) the full 30 s. whisper-rs has no setter: `full`
/// sets it and is stopped right after.
fn set_window(state: &mut WhisperState, audio_ctx: i32) {
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    p.set_n_threads(1);
    p.set_language(Some("en"));
    p.set_audio_ctx(audio_ctx);
    p.set_print_progress(false);
    // SAFETY: the callback ignores its arguments and returns false, stopping `full` right
    // after it has set the window and before the encoder runs.
    unsafe { p.set_start_encoder_callback(Some(stop_before_encoding)) };
    // Fails on purpose (whisper.cpp logs that as an error; `whisper_log` makes it debug).
    let _ = state.full(p, &[0.0; 16_100]);
}

/// whisper.cpp wants at least 1 s: short clips are padded with silence (longer ones are not
/// copied).
fn at_least_a_second(pcm: &[f32]) -> std::borrow::Cow<'_, [f32]> {
    if pcm.len() < 16_100 {
        std::borrow::Cow::Owned([pcm, &vec![0.0; 16_100 - pcm.len()]].concat())
    } else {
        std::borrow::Cow::Borrowed(pcm)
    }
}

/// whisper.cpp's encoder-begin callback when arming a new state: stop before encoding.
unsafe extern "C" fn stop_before_encoding(
    _ctx: *mut whisper_rs::whisper_rs_sys::whisper_context,
    _state: *mut whisper_rs::whisper_rs_sys::whisper_state,
    _data: *mut std::ffi::c_void,
) -> bool {
    false
}

/// whisper.cpp's abort callback: `data` is an `AtomicBool` set when the job is stale.
unsafe extern "C" fn abort_requested(data: *mut std::ffi::c_void) -> bool {
    // SAFETY: `run` passes a pointer to an `AtomicBool` that outlives the call.
    unsafe { (*(data as *const AtomicBool)).load(Ordering::Relaxed) }
}

impl super::Stt for WhisperStt {
    fn transcribe(&mut self, pcm: &[f32]) -> Result<Transcript, SttError> {
        self.transcribe_in(pcm, None)
    }

    fn set_hints(&mut self, hints: &str) {
        if hints != self.hints {
            self.hints = hints.to_string();
        }
    }

    fn set_abort(&mut self, flag: Arc<AtomicBool>) {
        self.abort = Some(flag);
    }

    fn prepare(&mut self) {
        if let Err(e) = ensure_state(&mut self.state, &self.ctx) {
            tracing::warn!("could not prepare whisper: {e}");
        }
    }

    fn rest(&mut self) {
        if self.state.take().is_some() {
            // The big buffers were unmapped as they were freed (`memory::configure`); the
            // state's smaller pieces leave freed heap pages, resident until trimmed.
            crate::memory::give_back();
            tracing::debug!("whisper state released");
        }
    }

    /// Whisper's own language detection, but only among the languages Sori understands: among
    /// all 99 it takes espeak's "how are you" for Finnish. One encoder pass over the first
    /// 2.56 s (`ID_CTX`) plus one decoder step.
    fn identify(&mut self, pcm: &[f32], among: &[String]) -> Option<(String, f32)> {
        if !self.multilingual || self.opts.language.is_some() {
            return None;
        }
        let started = Instant::now();
        let pcm = at_least_a_second(pcm);
        let threads = self.opts.threads;
        let state = ensure_state(&mut self.state, &self.ctx)
            .map_err(|e| tracing::warn!("language detection failed: {e}"))
            .ok()?;
        set_window(state, ID_CTX);
        let probs = state
            .pcm_to_mel(&pcm, threads)
            .and_then(|()| state.lang_detect(0, threads))
            .map_err(|e| tracing::warn!("language detection failed: {e}"))
            .ok()?
            .1;
        let scored: Vec<(&String, f32)> = among
            .iter()
            .filter_map(|l| {
                let id = whisper_rs::get_lang_id(l)?;
                Some((l, *probs.get(usize::try_from(id).ok()?)?))
            })
            .collect();
        let total: f32 = scored.iter().map(|(_, p)| p).sum();
        let (lang, p) = scored
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|_| total > 0.0)?;
        tracing::debug!(
            lang = %lang,
            share = p / total,
            ms = started.elapsed().as_millis() as u64,
            audio_ms = pcm.len() / 16,
            "language identified"
        );
        Some((lang.clone(), p / total))
    }

    fn transcribe_prompted(
        &mut self,
        pcm: &[f32],
        lang: Option<&str>,
        prompt: &str,
    ) -> Result<Transcript, SttError> {
        let saved = std::mem::replace(&mut self.opts.initial_prompt, prompt.to_string());
        let t = self.transcribe_in(pcm, lang);
        self.opts.initial_prompt = saved;
        t
    }

    fn transcribe_in(&mut self, pcm: &[f32], lang: Option<&str>) -> Result<Transcript, SttError> {
        let started = Instant::now();
        let ctx = if self.opts.adaptive_window {
            audio_ctx_for(pcm.len())
        } else {
            FULL_CTX
        };
        let (mut text, mut language) = self.run(pcm, ctx, lang)?;
        if ctx < FULL_CTX && is_runaway(&text) {
            // A shortened window occasionally makes whisper loop; the full one is the safe answer.
            tracing::debug!(audio_ctx = ctx, %text, "runaway transcript; retrying with the full window");
            (text, language) = self.run(pcm, FULL_CTX, lang)?;
        }
        if let Some(once) = collapse_repeats(&text) {
            tracing::debug!(%text, "whisper repeated the sentence; keeping one copy");
            text = once.to_string();
        }
        Ok(Transcript {
            text,
            language,
            audio_ms: pcm.len() as u64 * 1000 / 16_000,
            stt_ms: started.elapsed().as_millis() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn window_scales_with_length_within_bounds() {
        assert_eq!(super::audio_ctx_for(16_000), 384);
        assert_eq!(super::audio_ctx_for(16_000 * 10), 640);
        assert_eq!(super::audio_ctx_for(16_000 * 40), 1500);
    }
}
