//! The openWakeWord detector: shared features, then one small classifier per pretrained wake
//! word (input: the last 16 embeddings) and a template matcher per personal wake word.

use std::path::Path;

use ort::session::Session;
use ort::value::TensorRef;

use super::features::{EMBEDDING, Features};
use super::personal::Personal;
use super::{Detection, WakeError, WakeRef, WakeWord};
use crate::onnx;

/// openWakeWord ignores the first frames after start while its buffers hold only priming noise.
const WARMUP_FRAMES: u64 = 5;
/// After the score crosses the threshold, wait at most this many frames for its peak, so the
/// detection carries the peak score (the second stage trusts high peaks without a check).
/// A score that is already confident is reported at once.
const PEAK_WAIT: u8 = 5;

struct Classifier {
    name: String,
    session: Session,
    input: String,
    /// Embeddings the model looks at (16 for the pretrained models).
    frames: usize,
    threshold: f32,
    score: f32,
    /// True while the score is above threshold, so one utterance gives one detection.
    active: bool,
    /// A crossing waiting for its peak: (peak score, frames waited).
    pending: Option<(f32, u8)>,
}

pub struct OpenWakeWord {
    features: Features,
    classifiers: Vec<Classifier>,
    personal: Vec<(Personal, bool)>,
    scratch: Vec<f32>,
}

impl OpenWakeWord {
    /// Loads the feature models once and a classifier per wake word.
    ///
    /// # Errors
    /// Missing or broken models, a personal wake word file that does not parse.
    pub fn load(
        models_dir: &Path,
        words: &[WakeRef],
        threshold: f32,
    ) -> Result<OpenWakeWord, WakeError> {
        let features = Features::load(models_dir)?;
        let mut classifiers = Vec::new();
        let mut personal = Vec::new();
        for w in words {
            match w {
                WakeRef::Pretrained { name, model } => {
                    let session = onnx::session(models_dir, model)?;
                    let input = session.inputs()[0].name().to_string();
                    let frames = match session.inputs()[0].dtype() {
                        ort::value::ValueType::Tensor { shape, .. }
                            if shape.len() == 3 && shape[1] > 0 =>
                        {
                            shape[1] as usize
                        }
                        _ => 16,
                    };
                    classifiers.push(Classifier {
                        name: name.clone(),
                        session,
                        input,
                        frames,
                        threshold,
                        score: 0.0,
                        active: false,
                        pending: None,
                    });
                }
                WakeRef::Personal { file, .. } => personal.push((Personal::open(file)?, false)),
            }
        }
        Ok(OpenWakeWord {
            features,
            classifiers,
            personal,
            scratch: Vec::with_capacity(16 * EMBEDDING),
        })
    }

    /// The shared features (personal wake word enrolment reads embeddings from them).
    pub fn features_mut(&mut self) -> &mut Features {
        &mut self.features
    }
}

impl WakeWord for OpenWakeWord {
    fn process(&mut self, frame: &[i16]) -> Result<Option<Detection>, WakeError> {
        self.features.push(frame)?;
        let warm = self.features.chunks > WARMUP_FRAMES;
        let mut best: Option<Detection> = None;
        for c in &mut self.classifiers {
            self.features.last(c.frames, &mut self.scratch);
            let input = TensorRef::from_array_view(([1usize, c.frames, EMBEDDING], &*self.scratch))
                .map_err(onnx::run_err(&c.name))?;
            let out = c
                .session
                .run(ort::inputs![c.input.as_str() => input])
                .map_err(onnx::run_err(&c.name))?;
            let (_, data) = out[0]
                .try_extract_tensor::<f32>()
                .map_err(onnx::run_err(&c.name))?;
            c.score = if warm { data[0] } else { 0.0 };
            let above = c.score >= c.threshold;
            if above && !c.active {
                c.pending = Some((c.score, 0));
            } else if let Some((peak, waited)) = c.pending {
                c.pending = Some((peak.max(c.score), waited + 1));
            }
            // Report once the score stops rising, or after PEAK_WAIT frames.
            if let Some((peak, waited)) = c.pending
                && (c.score < peak || waited >= PEAK_WAIT || peak >= super::verify::CONFIDENT)
            {
                c.pending = None;
                if best.as_ref().is_none_or(|b| b.score < peak) {
                    best = Some(Detection {
                        name: c.name.clone(),
                        score: peak,
                    });
                }
            }
            c.active = above;
        }
        for (p, active) in &mut self.personal {
            let score = if warm { p.score(&self.features) } else { 0.0 };
            let above = score >= p.threshold();
            if above && !*active && best.as_ref().is_none_or(|b| b.score < score) {
                best = Some(Detection {
                    name: p.name().to_string(),
                    score,
                });
            }
            *active = above;
        }
        Ok(best)
    }

    fn scores(&self) -> Vec<(String, f32)> {
        let mut v: Vec<(String, f32)> = self
            .classifiers
            .iter()
            .map(|c| (c.name.clone(), c.score))
            .collect();
        v.extend(
            self.personal
                .iter()
                .map(|(p, _)| (p.name().to_string(), p.last_score())),
        );
        v
    }
}
