//! Piper voices (VITS, ONNX) run through ONNX Runtime: espeak-ng IPA phonemes → ids from the
//! voice's `phoneme_id_map` (`^` start, `_` pad between phonemes, `$` end) → audio.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ort::session::{RunOptions, Session};
use ort::value::Tensor;
use serde::Deserialize;

use super::split_files::{self, Front};
use super::{Tts, TtsError, phonemize};
use crate::audio::{Clip, f32_to_i16};
use crate::onnx;

#[derive(Debug, Deserialize)]
struct VoiceConfig {
    audio: AudioSection,
    espeak: EspeakSection,
    #[serde(default)]
    inference: Inference,
    phoneme_id_map: HashMap<String, Vec<i64>>,
    #[serde(default)]
    num_speakers: u32,
}

#[derive(Debug, Deserialize)]
struct AudioSection {
    sample_rate: u32,
}

#[derive(Debug, Deserialize)]
struct EspeakSection {
    voice: String,
}

#[derive(Debug, Deserialize)]
struct Inference {
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
}

impl Default for Inference {
    fn default() -> Self {
        Inference {
            noise_scale: 0.667,
            length_scale: 1.0,
            noise_w: 0.8,
        }
    }
}

/// How the voice's model runs: whole (one run per piece), or cut at the vocoder (`split`) so
/// a piece's audio comes out in slices.
enum Net {
    Whole(Session),
    Split {
        front: Session,
        /// `z` → audio, or → the tail's input when there is a `tail`.
        decoder: Session,
        /// The decoder's input (the latent `z`).
        cut: String,
        /// The decoder's tail (see `split::TAIL_FIRST_NODE`) and its input.
        tail: Option<(Session, String)>,
    },
}

/// Frames of `z` (11.6 ms each at 22 kHz) in the first slice of a piece: about 0.37 s of
/// audio, enough to cover the decoding of the next slice.
const FIRST_FRAMES: usize = 32;
/// Frames per later slice: few decoder runs, bounded working memory.
const BLOCK_FRAMES: usize = 256;
/// Frames of context either side of a slice. The vocoder sees about ±8 frames; with 10 the
/// slices join bit-exactly to the whole (measured), 12 leaves a margin.
const CONTEXT_FRAMES: usize = 12;
/// Frames per run of the decoder's tail: its working memory grows with them (about 0.4 MB a
/// frame), its context made twice shrinks. Measured against 32: 32 peaks 12 MB lower in the
/// loop but makes a five-sentence reply about 10 % slower (twice the runs and context).
const TAIL_FRAMES: usize = 64;
/// Frames of context either side of a tail run: it sees about one (exact with one, measured);
/// the head's slice keeps `CONTEXT_FRAMES - TAIL_CONTEXT` frames of margin beyond them.
const TAIL_CONTEXT: usize = 2;

pub struct Piper {
    net: Net,
    ids: HashMap<char, Vec<i64>>,
    sample_rate: u32,
    espeak_voice: String,
    scales: [f32; 3],
    multi_speaker: bool,
    name: String,
    /// Release ONNX Runtime's working memory after the next run (`rest_after_next`).
    rest_after_next: bool,
    /// The loudest sample the voice has made (after the warm-up at load): sets the gain, so
    /// a piece can play before its own peak is known.
    peak: f32,
    /// Audio already made and not yet played when the next piece is needed, in seconds
    /// (`set_ahead`; 0: it is needed at once).
    ahead: f32,
    /// Seconds of synthesis per second of audio, from the pieces made so far (the warm-up at
    /// load first): how long a bigger first slice would take.
    rtf: f32,
}

impl Piper {
    /// Loads a voice from `model` (`NAME.onnx` with `NAME.onnx.json` beside it). `speed` > 1
    /// speaks faster; `threads` are ONNX Runtime intra-op threads.
    ///
    /// # Errors
    /// `TtsError::Voice` naming the file when the model or its config is missing or invalid.
    pub fn load(
        models_dir: &Path,
        model: &Path,
        speed: f32,
        threads: usize,
    ) -> Result<Self, TtsError> {
        Self::load_with(models_dir, model, speed, threads, true)
    }

    /// `load`, choosing the weights of the voice's front: `quantized` loads them in 8 bits
    /// (`quantize`; 15 MB instead of 56 for a medium voice), else in float as published.
    ///
    /// # Errors
    /// As `load`.
    pub fn load_with(
        models_dir: &Path,
        model: &Path,
        speed: f32,
        threads: usize,
        quantized: bool,
    ) -> Result<Self, TtsError> {
        let json: PathBuf = format!("{}.json", model.display()).into();
        let bad = |reason: String| TtsError::Voice {
            path: json.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(&json).map_err(|e| bad(e.to_string()))?;
        let cfg: VoiceConfig = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let mut ids = HashMap::new();
        for (k, v) in cfg.phoneme_id_map {
            let mut chars = k.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                ids.insert(c, v);
            }
        }
        for special in ['^', '_', '$'] {
            if !ids.contains_key(&special) {
                return Err(bad(format!("phoneme_id_map has no `{special}`")));
            }
        }
        // The voice's phonemizer starts now and loads its data while the model does, so the
        // first reply does not wait for it.
        phonemize::prewarm(&cfg.espeak.voice);
        let voice_err = |e: onnx::OnnxError| TtsError::Voice {
            path: model.display().to_string(),
            reason: e.to_string(),
        };
        let session =
            |path: &Path| onnx::session_with_threads(models_dir, path, threads).map_err(voice_err);
        let net = match split_files::halves(models_dir, model) {
            Some(h) => Net::Split {
                // The front's weights in 8 bits when asked for and they can be made; else the
                // float ones.
                front: match quantized
                    .then(|| split_files::quantized_front(&h.front))
                    .flatten()
                {
                    Some(Front::File(q)) => session(&q)?,
                    Some(Front::Memory(bytes)) => {
                        let label = format!("{} (8-bit front)", model.display());
                        onnx::session_from_memory(models_dir, &label, &bytes, threads)
                            .map_err(voice_err)?
                    }
                    None => session(&h.front)?,
                },
                decoder: session(&h.decoder)?,
                cut: h.cut,
                tail: match h.tail {
                    Some((path, input)) => Some((session(&path)?, input)),
                    None => None,
                },
            },
            None => Net::Whole(session(model)?),
        };
        let i = cfg.inference;
        let name = model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut piper = Piper {
            net,
            ids,
            sample_rate: cfg.audio.sample_rate,
            espeak_voice: cfg.espeak.voice,
            scales: [
                i.noise_scale,
                i.length_scale / speed.clamp(0.25, 4.0),
                i.noise_w,
            ],
            multi_speaker: cfg.num_speakers > 1,
            name,
            rest_after_next: false,
            peak: 0.0,
            ahead: 0.0,
            rtf: 1.0,
        };
        // One sentence now: ONNX Runtime's first run is slow, and it gives the voice's level.
        piper.rest_after_next = true;
        piper.synthesize(WARM_UP, "en")?;
        Ok(piper)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The scales the model is run with: noise, length, noise width.
    pub fn scales(&self) -> [f32; 3] {
        self.scales
    }

    /// Sets the noise scales (0 and 0 make the output deterministic, for tests).
    pub fn set_noise(&mut self, noise: f32, noise_w: f32) {
        self.scales[0] = noise;
        self.scales[2] = noise_w;
    }

    /// Whether the voice streams slices of a piece (its model could be cut, see `split`).
    pub fn streams(&self) -> bool {
        matches!(self.net, Net::Split { .. })
    }

    /// After the next run, ONNX Runtime frees the memory arena's unused blocks: a reply's
    /// working memory is not kept between replies. Only at the end of a reply: within one,
    /// the next piece would allocate it again.
    pub fn rest_after_next(&mut self) {
        self.rest_after_next = true;
    }

    /// The next piece is needed only after `secs` of audio already made have played (a later
    /// sentence of a reply): if the voice can make a whole block in well under that, the piece
    /// starts with a block instead of a short first slice, which saves the short slice's
    /// context frames (made twice) and a run. Applies to the next piece only.
    pub fn set_ahead(&mut self, secs: f32) {
        self.ahead = secs;
    }

    /// Starts phonemizing `text` (already normalised) in the background.
    pub fn prepare(&self, text: &str) {
        phonemize::start(text, &self.espeak_voice);
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Phoneme ids for a phoneme string; phonemes the voice does not know are skipped.
    pub fn ids(&self, phonemes: &str) -> Vec<i64> {
        let mut out = Vec::with_capacity(phonemes.len() * 2 + 3);
        out.extend(&self.ids[&'^']);
        out.extend(&self.ids[&'_']);
        for c in phonemes.chars() {
            if let Some(id) = self.ids.get(&c) {
                out.extend(id);
                out.extend(&self.ids[&'_']);
            }
        }
        out.extend(&self.ids[&'$']);
        out
    }

    /// Audio for a phoneme string, as f32 samples at the voice's rate, handed to `emit` slice
    /// by slice (one slice for a voice that runs whole); stops early when `emit` says false.
    ///
    /// # Errors
    /// `TtsError::Failed` when inference fails.
    pub fn infer(
        &mut self,
        phonemes: &str,
        emit: &mut dyn FnMut(&[f32]) -> bool,
    ) -> Result<(), TtsError> {
        let ids = self.ids(phonemes);
        let name = &self.name;
        let err = |e: ort::Error| TtsError::Failed(format!("piper {name}: {e}"));
        let n = ids.len();
        let input = Tensor::from_array(([1usize, n], ids)).map_err(err)?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(err)?;
        let scales = Tensor::from_array(([3usize], self.scales.to_vec())).map_err(err)?;
        let mut opts = RunOptions::new().map_err(err)?;
        let rest = std::mem::take(&mut self.rest_after_next);
        if rest {
            opts.set("memory.enable_memory_arena_shrinkage", "cpu:0")
                .map_err(err)?;
        }
        let multi_speaker = self.multi_speaker;
        // A block's audio is about BLOCK_FRAMES × 256 samples; twice its expected synthesis
        // time leaves room for the front and a slower moment.
        let block_secs = (BLOCK_FRAMES * 256) as f32 / self.sample_rate as f32;
        let first_frames = if std::mem::take(&mut self.ahead) > 2.0 * self.rtf * block_secs {
            BLOCK_FRAMES
        } else {
            FIRST_FRAMES
        };
        let (front, split) = match &mut self.net {
            Net::Whole(s) => (s, None),
            Net::Split {
                front,
                decoder,
                cut,
                tail,
            } => (front, Some((decoder, cut.as_str(), tail))),
        };
        let started = std::time::Instant::now();
        let mut parts = PartTimes::default();
        let first = if multi_speaker {
            let sid = Tensor::from_array(([1usize], vec![0i64])).map_err(err)?;
            front.run_with_options(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales, "sid" => sid], &opts)
        } else {
            front.run_with_options(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales], &opts)
        }
        .map_err(err)?;
        let (shape, out) = first[0].try_extract_tensor::<f32>().map_err(err)?;
        parts.front = started.elapsed();
        match split {
            None => {
                emit(out);
            }
            Some((decoder, cut, tail)) => {
                let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
                let [1, channels, frames] = dims[..] else {
                    return Err(TtsError::Failed(format!(
                        "piper {name}: z has shape {dims:?}"
                    )));
                };
                let plain = RunOptions::new().map_err(err)?;
                let mut start = 0;
                while start < frames {
                    let size = if start == 0 {
                        first_frames
                    } else {
                        BLOCK_FRAMES
                    };
                    let len = next_run(frames - start, size);
                    let lo = start.saturating_sub(CONTEXT_FRAMES);
                    let hi = (start + len + CONTEXT_FRAMES).min(frames);
                    let z = window(out, channels, frames, lo..hi);
                    let z = Tensor::from_array(([1usize, channels, hi - lo], z)).map_err(err)?;
                    let last = start + len == frames;
                    let run_opts = if last && rest { &opts } else { &plain };
                    let at = std::time::Instant::now();
                    let audio = decoder
                        .run_with_options(ort::inputs![cut => z], run_opts)
                        .map_err(err)?;
                    parts.head += at.elapsed();
                    let at = std::time::Instant::now();
                    let (shape, audio) = audio[0].try_extract_tensor::<f32>().map_err(err)?;
                    let done = match tail {
                        None => {
                            let hop = audio.len() / (hi - lo);
                            let from = (start - lo) * hop;
                            emit(&audio[from..from + len * hop])
                        }
                        Some((tail, input)) => {
                            let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
                            let [1, width, _] = dims[..] else {
                                return Err(TtsError::Failed(format!(
                                    "piper {name}: the tail's input has shape {dims:?}"
                                )));
                            };
                            let mut run = TailRun {
                                tail,
                                input: input.as_str(),
                                channels: width,
                                frames: hi - lo,
                                plain: &plain,
                            };
                            let slice = run.slice(audio, start - lo, len, run_opts, &err)?;
                            parts.tail += at.elapsed();
                            emit(&slice)
                        }
                    };
                    if !done {
                        break;
                    }
                    start += len;
                }
            }
        }
        if rest {
            drop(first);
            crate::memory::give_back();
        }
        tracing::trace!(
            front_ms = parts.front.as_secs_f32() * 1000.0,
            head_ms = parts.head.as_secs_f32() * 1000.0,
            tail_ms = parts.tail.as_secs_f32() * 1000.0,
            released = rest,
            "piper parts"
        );
        Ok(())
    }

    /// Speaks `text` (already normalised) slice by slice into `out` (see `infer`).
    ///
    /// # Errors
    /// Phonemizing or inference failed.
    pub fn synthesize_into(
        &mut self,
        text: &str,
        out: &mut dyn FnMut(Clip) -> bool,
    ) -> Result<(), TtsError> {
        let started = std::time::Instant::now();
        let phonemes = phonemize::phonemize(text, &self.espeak_voice)?;
        let phonemized = started.elapsed();
        if phonemes.trim().is_empty() {
            return Ok(());
        }
        let rate = self.sample_rate;
        let mut peak = self.peak;
        let mut gain = None;
        let mut first_ms = None;
        let mut samples = 0;
        self.infer(&phonemes, &mut |audio| {
            samples += audio.len();
            let loudest = audio.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            // Piper's output level varies by voice and sentence; normalise quiet output up
            // like Piper does, never more than 10×. The gain is set on the piece's first slice
            // from the loudest the voice has been, so slices and pieces play at one level.
            let g = *gain.get_or_insert_with(|| 0.95 / peak.max(loudest).max(0.095));
            peak = peak.max(loudest);
            first_ms.get_or_insert_with(|| started.elapsed().as_secs_f32() * 1000.0);
            out(Clip {
                sample_rate: rate,
                samples: audio.iter().map(|x| f32_to_i16(x * g)).collect(),
            })
        })?;
        self.peak = peak;
        let secs = samples as f32 / rate as f32;
        if secs > 0.5 {
            self.rtf = started.elapsed().as_secs_f32() / secs;
        }
        tracing::debug!(
            phonemize_ms = phonemized.as_secs_f32() * 1000.0,
            first_audio_ms = first_ms.unwrap_or(0.0),
            total_ms = started.elapsed().as_secs_f32() * 1000.0,
            "piper"
        );
        Ok(())
    }
}

/// Said once at load (see `Piper::load`).
const WARM_UP: &str = "Okay, it's twelve o'clock.";

impl Tts for Piper {
    fn synthesize(&mut self, text: &str, _language: &str) -> Result<Clip, TtsError> {
        let mut whole = Clip {
            sample_rate: self.sample_rate,
            samples: Vec::new(),
        };
        self.synthesize_into(text, &mut |c| {
            whole.samples.extend_from_slice(&c.samples);
            true
        })?;
        Ok(whole)
    }

    fn streams(&self, _language: &str) -> bool {
        Piper::streams(self)
    }

    fn synthesize_into(
        &mut self,
        text: &str,
        _language: &str,
        out: &mut dyn FnMut(Clip) -> bool,
    ) -> Result<(), TtsError> {
        Piper::synthesize_into(self, text, out)
    }
}

/// Frames for the next run out of `left`, runs of `size`: a short rest is not worth a run of
/// its own, so up to half a run more goes with this one.
fn next_run(left: usize, size: usize) -> usize {
    if left <= size + size / 2 { left } else { size }
}

/// Columns `cols` of each of the `rows` rows (`row_len` values each) of `x`, row after row: a
/// stretch of frames of a `[1, channels, frames]` tensor, for a run on that stretch alone.
fn window(x: &[f32], rows: usize, row_len: usize, cols: std::ops::Range<usize>) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * cols.len());
    for r in 0..rows {
        out.extend_from_slice(&x[r * row_len + cols.start..r * row_len + cols.end]);
    }
    out
}

/// Time spent in each part of the voice for one piece (traced).
#[derive(Default)]
struct PartTimes {
    front: std::time::Duration,
    head: std::time::Duration,
    tail: std::time::Duration,
}

/// The decoder's tail over one slice of the head's output.
struct TailRun<'a> {
    tail: &'a mut Session,
    input: &'a str,
    channels: usize,
    /// Frames of `z` the head's output covers.
    frames: usize,
    /// Options for every run but the slice's last.
    plain: &'a RunOptions,
}

impl TailRun<'_> {
    /// Audio for frames `from..from + len` of the head's output `h` (channels × samples, some
    /// samples per frame), made `TAIL_FRAMES` at a time.
    fn slice(
        &mut self,
        h: &[f32],
        from: usize,
        len: usize,
        last_opts: &RunOptions,
        err: &dyn Fn(ort::Error) -> TtsError,
    ) -> Result<Vec<f32>, TtsError> {
        let per_frame = h.len() / (self.channels * self.frames);
        let mut out = Vec::new();
        let mut at = 0;
        while at < len {
            let n = next_run(len - at, TAIL_FRAMES);
            let first = from + at;
            let lo = first.saturating_sub(TAIL_CONTEXT);
            let hi = (first + n + TAIL_CONTEXT).min(self.frames);
            let x = window(
                h,
                self.channels,
                self.frames * per_frame,
                lo * per_frame..hi * per_frame,
            );
            let x = Tensor::from_array(([1usize, self.channels, (hi - lo) * per_frame], x))
                .map_err(err)?;
            let opts = if at + n == len { last_opts } else { self.plain };
            let audio = self
                .tail
                .run_with_options(ort::inputs![self.input => x], opts)
                .map_err(err)?;
            let (_, audio) = audio[0].try_extract_tensor::<f32>().map_err(err)?;
            let hop = audio.len() / (hi - lo);
            out.extend_from_slice(&audio[(first - lo) * hop..(first - lo + n) * hop]);
            at += n;
        }
        Ok(out)
    }
}
