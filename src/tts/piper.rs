//! Piper voices (VITS, ONNX) run through ONNX Runtime: espeak-ng IPA phonemes → ids from the
//! voice's `phoneme_id_map` (`^` start, `_` pad between phonemes, `$` end) → audio.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ort::session::{RunOptions, Session};
use ort::value::Tensor;
use serde::Deserialize;

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

pub struct Piper {
    session: Session,
    ids: HashMap<char, Vec<i64>>,
    sample_rate: u32,
    espeak_voice: String,
    scales: [f32; 3],
    multi_speaker: bool,
    name: String,
    /// Release ONNX Runtime's working memory after the next run (`rest_after_next`).
    rest_after_next: bool,
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
        let session = onnx::session_with_threads(models_dir, model, threads).map_err(|e| {
            TtsError::Voice {
                path: model.display().to_string(),
                reason: e.to_string(),
            }
        })?;
        let i = cfg.inference;
        let name = model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Piper {
            session,
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
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// After the next run, ONNX Runtime frees the memory arena's unused blocks: a reply's
    /// working memory (about 4 MB per word of the longest piece) is not kept between replies.
    /// Only at the end of a reply: within one, the next piece would allocate it again.
    pub fn rest_after_next(&mut self) {
        self.rest_after_next = true;
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

    /// Audio for a phoneme string, as f32 samples at the voice's rate.
    ///
    /// # Errors
    /// `TtsError::Failed` when inference fails.
    pub fn infer(&mut self, phonemes: &str) -> Result<Vec<f32>, TtsError> {
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
        let out = if self.multi_speaker {
            let sid = Tensor::from_array(([1usize], vec![0i64])).map_err(err)?;
            self.session.run_with_options(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales, "sid" => sid], &opts)
        } else {
            self.session.run_with_options(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales], &opts)
        }
        .map_err(err)?;
        let (_, audio) = out[0].try_extract_tensor::<f32>().map_err(err)?;
        let audio = audio.to_vec();
        if rest {
            drop(out);
            crate::memory::give_back();
        }
        Ok(audio)
    }
}

impl Tts for Piper {
    fn synthesize(&mut self, text: &str, _language: &str) -> Result<Clip, TtsError> {
        let started = std::time::Instant::now();
        let phonemes = phonemize::phonemize(text, &self.espeak_voice)?;
        let phonemized = started.elapsed();
        if phonemes.trim().is_empty() {
            return Ok(Clip {
                sample_rate: self.sample_rate,
                samples: Vec::new(),
            });
        }
        let audio = self.infer(&phonemes)?;
        tracing::debug!(
            phonemize_ms = phonemized.as_secs_f32() * 1000.0,
            infer_ms = (started.elapsed() - phonemized).as_secs_f32() * 1000.0,
            "piper"
        );
        // Piper's output peaks vary by voice; normalise quiet output up like Piper does, never
        // amplifying more than 10×, so replies are equally loud.
        let peak = audio.iter().fold(0.01f32, |m, x| m.max(x.abs()));
        let gain = 0.95 / peak;
        Ok(Clip {
            sample_rate: self.sample_rate,
            samples: audio.iter().map(|x| f32_to_i16(x * gain)).collect(),
        })
    }
}
