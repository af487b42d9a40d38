//! openWakeWord's shared feature pipeline: 80 ms of 16 kHz audio → melspectrogram model
//! (8 new frames of 32 bins, scaled `x/10 + 2`) → embedding model over the last 76 mel frames →
//! one 96-d embedding (run incrementally, see `embedding`). Every wake word classifier
//! (pretrained or personal) reads the same embeddings, so several wake words cost little more
//! than one.

use std::collections::VecDeque;
use std::path::Path;

use ort::session::Session;
use ort::value::TensorRef;

use super::embedding::Embedding;
use crate::onnx::{self, OnnxError};

/// Samples per feature step (80 ms).
pub const CHUNK: usize = 1280;
/// Extra samples the melspectrogram model needs before each chunk (3 hops of 10 ms).
const MEL_CONTEXT: usize = 480;
pub const MEL_BINS: usize = 32;
pub const EMBEDDING: usize = 96;
/// Embeddings kept: enough for the longest classifier input (16) and personal wake words.
const KEEP_EMBEDDINGS: usize = 32;

pub struct Features {
    mel: Session,
    embedding: Embedding,
    mel_input: String,
    /// The previous chunk's tail, so each mel call sees `MEL_CONTEXT` samples of history.
    audio: Vec<f32>,
    embeddings: VecDeque<[f32; EMBEDDING]>,
    /// The chunk's new mel frames, reused every chunk.
    new_mels: Vec<f32>,
    /// Chunks processed since start (for "not enough context yet").
    pub chunks: u64,
}

impl Features {
    /// Loads `openwakeword/melspectrogram.onnx` and `openwakeword/embedding_model.onnx`.
    ///
    /// # Errors
    /// Missing ONNX Runtime or models.
    pub fn load(models_dir: &Path) -> Result<Features, OnnxError> {
        Features::load_with(models_dir, true)
    }

    /// As `load`; with `stream` false the embedding model runs whole on every window.
    ///
    /// # Errors
    /// Missing ONNX Runtime or models.
    pub fn load_with(models_dir: &Path, stream: bool) -> Result<Features, OnnxError> {
        let mel = onnx::session(
            models_dir,
            &models_dir.join("openwakeword/melspectrogram.onnx"),
        )?;
        let embedding = Embedding::load_with(models_dir, stream)?;
        let mel_input = mel.inputs()[0].name().to_string();
        let mut f = Features {
            mel,
            embedding,
            mel_input,
            audio: vec![0.0; MEL_CONTEXT + CHUNK],
            embeddings: VecDeque::with_capacity(KEEP_EMBEDDINGS + 1),
            new_mels: Vec::with_capacity(super::embedding::MEL_HOP * MEL_BINS),
            chunks: 0,
        };
        f.prime()?;
        Ok(f)
    }

    /// Whether the embedding model runs incrementally (see `embedding`).
    pub fn is_streaming(&self) -> bool {
        self.embedding.is_streaming()
    }

    /// Fills the buffers with embeddings of quiet noise, as openWakeWord does, so the first
    /// seconds of real audio are scored against neutral history rather than zeros.
    fn prime(&mut self) -> Result<(), OnnxError> {
        let mut seed = 0x2545_f491u32;
        let mut chunk = [0i16; CHUNK];
        for _ in 0..KEEP_EMBEDDINGS {
            for s in chunk.iter_mut() {
                *s = (xorshift(&mut seed) % 2000) as i16 - 1000;
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
            self.new_mels.clear();
            self.new_mels.extend(data.iter().map(|v| v / 10.0 + 2.0));
        }
        let e = self.embedding.push(&self.new_mels)?;
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

/// The next value of a 32-bit xorshift generator: cheap, repeatable noise for priming and
/// self-checks.
pub(super) fn xorshift(seed: &mut u32) -> u32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    *seed
}
