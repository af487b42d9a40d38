//! openWakeWord's shared feature pipeline: 80 ms of 16 kHz audio → melspectrogram model
//! (8 new frames of 32 bins, scaled `x/10 + 2`) → embedding model over the last 76 mel frames →
//! one 96-d embedding. Every wake word classifier (pretrained or personal) reads the same
//! embeddings, so several wake words cost little more than one.

use std::collections::VecDeque;
use std::path::Path;

use ort::session::Session;
use ort::value::TensorRef;

use crate::onnx::{self, OnnxError};

/// Samples per feature step (80 ms).
pub const CHUNK: usize = 1280;
/// Extra samples the melspectrogram model needs before each chunk (3 hops of 10 ms).
const MEL_CONTEXT: usize = 480;
/// Mel frames per embedding window.
const MEL_WINDOW: usize = 76;
pub const MEL_BINS: usize = 32;
pub const EMBEDDING: usize = 96;
/// Embeddings kept: enough for the longest classifier input (16) and personal wake words.
const KEEP_EMBEDDINGS: usize = 32;

pub struct Features {
    mel: Session,
    embedding: Session,
    mel_input: String,
    emb_input: String,
    /// The previous chunk's tail, so each mel call sees `MEL_CONTEXT` samples of history.
    audio: Vec<f32>,
    mels: VecDeque<[f32; MEL_BINS]>,
    embeddings: VecDeque<[f32; EMBEDDING]>,
    /// Scratch for the embedding model's input, reused every chunk.
    window: Vec<f32>,
    /// Chunks processed since start (for "not enough context yet").
    pub chunks: u64,
}

impl Features {
    /// Loads `openwakeword/melspectrogram.onnx` and `openwakeword/embedding_model.onnx`.
    ///
    /// # Errors
    /// Missing ONNX Runtime or models.
    pub fn load(models_dir: &Path) -> Result<Features, OnnxError> {
        let mel = onnx::session(
            models_dir,
            &models_dir.join("openwakeword/melspectrogram.onnx"),
        )?;
        let embedding = onnx::session(
            models_dir,
            &models_dir.join("openwakeword/embedding_model.onnx"),
        )?;
        let mel_input = mel.inputs()[0].name().to_string();
        let emb_input = embedding.inputs()[0].name().to_string();
        let mut f = Features {
            mel,
            embedding,
            mel_input,
            emb_input,
            audio: vec![0.0; MEL_CONTEXT + CHUNK],
            mels: std::iter::repeat_n([1.0; MEL_BINS], MEL_WINDOW).collect(),
            embeddings: VecDeque::with_capacity(KEEP_EMBEDDINGS + 1),
            window: vec![0.0; MEL_WINDOW * MEL_BINS],
            chunks: 0,
        };
        f.prime()?;
        Ok(f)
    }

    /// Fills the buffers with embeddings of quiet noise, as openWakeWord does, so the first
    /// seconds of real audio are scored against neutral history rather than zeros.
    fn prime(&mut self) -> Result<(), OnnxError> {
        let mut seed = 0x2545_f491u32;
        let mut chunk = [0i16; CHUNK];
        for _ in 0..KEEP_EMBEDDINGS {
            for s in chunk.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                *s = (seed % 2000) as i16 - 1000;
            }
            self.push(&chunk)?;
        }
        self.chunks = 0;
        Ok(())
    }

    /// Adds one 80 ms chunk and computes its embedding.
    ///
    /// # Errors
    /// `OnnxError::Run` if a model fails; a chunk of the wrong size is a bug in the caller and
    /// reported as such rather than silently skipped.
    pub fn push(&mut self, chunk: &[i16]) -> Result<&[f32; EMBEDDING], OnnxError> {
        if chunk.len() != CHUNK {
            return Err(OnnxError::Run {
                model: "openwakeword".into(),
                reason: format!("expected {CHUNK} samples per chunk, got {}", chunk.len()),
            });
        }
        // Slide the audio window: keep MEL_CONTEXT samples of history, append the chunk.
        self.audio.copy_within(CHUNK.., 0);
        for (d, &s) in self.audio[MEL_CONTEXT..].iter_mut().zip(chunk) {
            // The model takes int16-scaled floats, not [-1, 1].
            *d = s as f32;
        }
        {
            let input = TensorRef::from_array_view(([1usize, MEL_CONTEXT + CHUNK], &*self.audio))
                .map_err(onnx::run_err("melspectrogram"))?;
            let out = self
                .mel
                .run(ort::inputs![self.mel_input.as_str() => input])
                .map_err(onnx::run_err("melspectrogram"))?;
            let (_, data) = out[0]
                .try_extract_tensor::<f32>()
                .map_err(onnx::run_err("melspectrogram"))?;
            for frame in data.chunks_exact(MEL_BINS) {
                let mut m = [0.0; MEL_BINS];
                for (d, &v) in m.iter_mut().zip(frame) {
                    *d = v / 10.0 + 2.0;
                }
                self.mels.push_back(m);
            }
            while self.mels.len() > MEL_WINDOW {
                self.mels.pop_front();
            }
        }
        for (dst, m) in self.window.chunks_exact_mut(MEL_BINS).zip(self.mels.iter()) {
            dst.copy_from_slice(m);
        }
        let input = TensorRef::from_array_view(([1usize, MEL_WINDOW, MEL_BINS, 1], &*self.window))
            .map_err(onnx::run_err("embedding"))?;
        let out = self
            .embedding
            .run(ort::inputs![self.emb_input.as_str() => input])
            .map_err(onnx::run_err("embedding"))?;
        let (_, data) = out[0]
            .try_extract_tensor::<f32>()
            .map_err(onnx::run_err("embedding"))?;
        let mut e = [0.0; EMBEDDING];
        e.copy_from_slice(&data[..EMBEDDING]);
        if self.embeddings.len() == KEEP_EMBEDDINGS {
            self.embeddings.pop_front();
        }
        self.embeddings.push_back(e);
        self.chunks += 1;
        Ok(self.embeddings.back().expect("just pushed"))
    }

    /// The last `n` embeddings, oldest first, flattened into `out` (`n * 96` values).
    pub fn last(&self, n: usize, out: &mut Vec<f32>) {
        out.clear();
        let skip = self.embeddings.len().saturating_sub(n);
        for e in self.embeddings.iter().skip(skip) {
            out.extend_from_slice(e);
        }
    }

    /// The last `n` embeddings, oldest first.
    pub fn recent(&self, n: usize) -> impl Iterator<Item = &[f32; EMBEDDING]> {
        self.embeddings
            .iter()
            .skip(self.embeddings.len().saturating_sub(n))
    }
}
