//! Voice activity detection: Silero VAD (v5/v6 ONNX) on 32 ms chunks, stateful across calls.

use std::path::Path;

use ort::session::Session;
use ort::value::{Tensor, TensorRef};

use crate::onnx::{self, OnnxError};

/// Silero's chunk at 16 kHz, plus the 64 samples of context it expects in front of each.
const CHUNK: usize = 512;
const CONTEXT: usize = 64;
const STATE: usize = 2 * 128;
pub const MODEL: &str = "silero/silero_vad.onnx";

/// A speech-probability estimator for 16 kHz audio.
pub trait Vad: Send {
    /// Feeds any number of samples; returns the highest speech probability among the chunks
    /// completed by them (or the previous one if none completed).
    ///
    /// # Errors
    /// The model failed to run.
    fn process(&mut self, samples: &[i16]) -> Result<f32, OnnxError>;
    /// The probability of the latest window alone (`process` gives the highest of its windows).
    fn tail(&self) -> f32;
    /// Forgets all history (between runs).
    fn reset(&mut self);
}

pub struct SileroVad {
    session: Session,
    state: Vec<f32>,
    /// Context + chunk, the model's input.
    input: Vec<f32>,
    /// Samples waiting to complete a chunk.
    pending: Vec<f32>,
    last: f32,
    sr: Tensor<i64>,
}

impl SileroVad {
    /// # Errors
    /// Missing ONNX Runtime or model.
    pub fn load(models_dir: &Path) -> Result<SileroVad, OnnxError> {
        let session = onnx::session(models_dir, &models_dir.join(MODEL))?;
        let sr = Tensor::from_array((Vec::<i64>::new(), vec![16_000i64]))
            .map_err(onnx::run_err("silero"))?;
        Ok(SileroVad {
            session,
            state: vec![0.0; STATE],
            input: vec![0.0; CONTEXT + CHUNK],
            pending: Vec::with_capacity(CHUNK * 2),
            last: 0.0,
            sr,
        })
    }

    fn run_chunk(&mut self) -> Result<f32, OnnxError> {
        let err = onnx::run_err("silero");
        let input =
            TensorRef::from_array_view(([1usize, CONTEXT + CHUNK], &*self.input)).map_err(&err)?;
        let state = TensorRef::from_array_view(([2usize, 1, 128], &*self.state)).map_err(&err)?;
        let out = self
            .session
            .run(ort::inputs!["input" => input, "state" => state, "sr" => &self.sr])
            .map_err(&err)?;
        let (_, p) = out[0].try_extract_tensor::<f32>().map_err(&err)?;
        let p = p[0];
        let (_, s) = out[1].try_extract_tensor::<f32>().map_err(&err)?;
        self.state.copy_from_slice(&s[..STATE]);
        Ok(p)
    }
}

impl Vad for SileroVad {
    fn process(&mut self, samples: &[i16]) -> Result<f32, OnnxError> {
        self.pending
            .extend(samples.iter().map(|&s| s as f32 / 32768.0));
        let mut best: Option<f32> = None;
        let mut used = 0;
        while self.pending.len() - used >= CHUNK {
            // The context is the tail of the previous chunk.
            self.input.copy_within(CHUNK.., 0);
            self.input[CONTEXT..].copy_from_slice(&self.pending[used..used + CHUNK]);
            used += CHUNK;
            let p = self.run_chunk()?;
            self.last = p;
            best = Some(best.map_or(p, |b: f32| b.max(p)));
        }
        self.pending.drain(..used);
        Ok(best.unwrap_or(self.last))
    }

    fn tail(&self) -> f32 {
        self.last
    }

    fn reset(&mut self) {
        self.state.fill(0.0);
        self.input.fill(0.0);
        self.pending.clear();
        self.last = 0.0;
    }
}
