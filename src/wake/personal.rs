//! Personal wake words in any language ("소리야", "헤이 소리"), made on the device from 3-8
//! recordings: each recording becomes a template, the sequence of openWakeWord embeddings over
//! the spoken phrase, and live audio is scored by dynamic time warping (DTW) of its latest
//! embeddings against every template (rustpotter-style references, on openWakeWord features).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::WakeError;
use super::features::{CHUNK, EMBEDDING, Features};

/// Fewest and most recordings `sori wakeword add` accepts.
pub const MIN_SAMPLES: usize = 3;
pub const MAX_SAMPLES: usize = 8;
/// Template length bounds, in 80 ms embeddings.
const MIN_LEN: usize = 4;
const MAX_LEN: usize = 20;
/// Embeddings lag the audio: one covers the 0.76 s before it, so a phrase's last embeddings
/// come up to this many frames after its last loud frame.
const TAIL: usize = 2;
/// The threshold sits this far below the weakest leave-one-out match between the samples.
const MARGIN: f32 = 0.06;
/// …but never below this, whatever the samples say.
const FLOOR: f32 = 0.65;

/// The file saved under `<state>/wakewords/NAME.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PersonalFile {
    pub version: u32,
    pub name: String,
    /// Detection threshold on the 0-1 similarity score, calibrated from the samples.
    pub threshold: f32,
    /// Mean embedding over the recordings and their surrounding silence. Embeddings share a
    /// large common component; subtracting it before comparing spreads the scores, so other
    /// phrases score far lower than the wake phrase.
    pub background: Vec<f32>,
    /// One template per sample: embeddings minus `background`, each `EMBEDDING` values, unit length.
    pub templates: Vec<Vec<Vec<f32>>>,
}

pub struct Personal {
    file: PersonalFile,
    last: f32,
    live: Vec<[f32; EMBEDDING]>,
}

impl Personal {
    /// Reads a personal wake word file.
    ///
    /// # Errors
    /// Unreadable or malformed file.
    pub fn open(path: &Path) -> Result<Personal, WakeError> {
        let err = |reason: String| WakeError::Personal {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let file: PersonalFile = serde_json::from_str(&text)
            .map_err(|e| err(format!("{e}; record it again with `sori wakeword add`")))?;
        if file.templates.is_empty()
            || file.background.len() != EMBEDDING
            || file
                .templates
                .iter()
                .flatten()
                .any(|e| e.len() != EMBEDDING)
        {
            return Err(err(
                "no usable templates; record it again with `sori wakeword add`".into(),
            ));
        }
        Ok(Personal::from_file(file))
    }

    pub fn from_file(file: PersonalFile) -> Personal {
        Personal {
            file,
            last: 0.0,
            live: Vec::with_capacity(MAX_LEN),
        }
    }

    pub fn name(&self) -> &str {
        &self.file.name
    }

    pub fn threshold(&self) -> f32 {
        self.file.threshold
    }

    pub fn last_score(&self) -> f32 {
        self.last
    }

    /// Best similarity of the latest embeddings to any template.
    pub fn score(&mut self, features: &Features) -> f32 {
        let longest = self.file.templates.iter().map(Vec::len).max().unwrap_or(0);
        self.live.clear();
        let bg = &self.file.background;
        self.live
            .extend(features.recent(longest).map(|e| unit(e, bg)));
        self.last = best_score(&self.file.templates, &self.live);
        self.last
    }
}

fn best_score(templates: &[Vec<Vec<f32>>], live: &[[f32; EMBEDDING]]) -> f32 {
    templates
        .iter()
        .filter(|t| t.len() <= live.len())
        .map(|t| {
            let tail = &live[live.len() - t.len()..];
            1.0 - dtw(t, tail)
        })
        .fold(0.0, f32::max)
}

/// `e - background`, scaled to unit length.
fn unit(e: &[f32; EMBEDDING], background: &[f32]) -> [f32; EMBEDDING] {
    let mut out = [0.0; EMBEDDING];
    for ((o, v), b) in out.iter_mut().zip(e).zip(background) {
        *o = v - b;
    }
    let n = out.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-6);
    out.iter_mut().for_each(|o| *o /= n);
    out
}

/// Mean cosine distance along the best DTW path between two sequences of unit vectors.
fn dtw(a: &[Vec<f32>], b: &[[f32; EMBEDDING]]) -> f32 {
    let m = b.len();
    let inf = f32::INFINITY;
    // (cost, path length) per cell; one row at a time.
    let mut prev = vec![(inf, 0u32); m + 1];
    let mut cur = vec![(inf, 0u32); m + 1];
    prev[0] = (0.0, 0);
    for ai in a {
        cur[0] = (inf, 0);
        for j in 1..=m {
            let d = 1.0 - ai.iter().zip(&b[j - 1]).map(|(x, y)| x * y).sum::<f32>();
            let best = [prev[j - 1], prev[j], cur[j - 1]]
                .into_iter()
                .min_by(|x, y| (x.0 / x.1.max(1) as f32).total_cmp(&(y.0 / y.1.max(1) as f32)))
                .expect("three candidates");
            cur[j] = (best.0 + d, best.1 + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let (cost, len) = prev[m];
    if len == 0 {
        1.0
    } else {
        (cost / len as f32).clamp(0.0, 2.0)
    }
}

/// Raw embeddings of a whole clip (16 kHz mono) streamed through `features`, after a second of
/// silence so the history is neutral. Returns the embeddings and per-chunk loudness.
fn embed_clip(
    features: &mut Features,
    samples: &[i16],
) -> Result<(Vec<[f32; EMBEDDING]>, Vec<f32>), WakeError> {
    let silence = [0i16; CHUNK];
    for _ in 0..13 {
        features.push(&silence)?;
    }
    let mut embeddings = Vec::new();
    let mut loudness = Vec::new();
    let mut padded = samples.to_vec();
    // Trailing silence lets the last embeddings cover the end of the phrase.
    padded.resize(
        samples.len().div_ceil(CHUNK) * CHUNK + (TAIL + 2) * CHUNK,
        0,
    );
    for chunk in padded.chunks_exact(CHUNK) {
        embeddings.push(*features.push(chunk)?);
        let rms = (chunk.iter().map(|&s| (s as f32).powi(2)).sum::<f32>() / CHUNK as f32).sqrt();
        loudness.push(rms);
    }
    Ok((embeddings, loudness))
}

/// The template of one sample: embeddings from the first to the last loud chunk, plus the lag.
fn template(embeddings: &[[f32; EMBEDDING]], loudness: &[f32]) -> Option<Vec<Vec<f32>>> {
    let peak = loudness.iter().copied().fold(0.0, f32::max);
    if peak < 300.0 {
        return None; // silence: nothing was said
    }
    let loud: Vec<usize> = (0..loudness.len())
        .filter(|&i| loudness[i] > peak * 0.1)
        .collect();
    let (first, last) = (*loud.first()?, *loud.last()?);
    let end = (last + TAIL + 1).min(embeddings.len());
    let len = (end - first).clamp(MIN_LEN, MAX_LEN);
    let start = end.saturating_sub(len);
    Some(embeddings[start..end].iter().map(|e| e.to_vec()).collect())
}

/// Builds a personal wake word from 16 kHz mono recordings of one phrase.
///
/// # Errors
/// Too few or too many samples, a silent sample, or a model failure.
pub fn enroll(
    name: &str,
    features: &mut Features,
    clips: &[Vec<i16>],
) -> Result<PersonalFile, WakeError> {
    if !(MIN_SAMPLES..=MAX_SAMPLES).contains(&clips.len()) {
        return Err(WakeError::Samples(format!(
            "a personal wake word needs {MIN_SAMPLES}-{MAX_SAMPLES} recordings of the phrase, got {}",
            clips.len()
        )));
    }
    let mut raw = Vec::new();
    for clip in clips {
        raw.push(embed_clip(features, clip)?);
    }
    let count = raw.iter().map(|(e, _)| e.len()).sum::<usize>().max(1) as f32;
    let mut background = vec![0.0f32; EMBEDDING];
    for e in raw.iter().flat_map(|(e, _)| e) {
        background
            .iter_mut()
            .zip(e)
            .for_each(|(b, v)| *b += v / count);
    }
    let mut streams = Vec::new();
    let mut templates = Vec::new();
    for (i, (emb, loud)) in raw.iter().enumerate() {
        let emb: Vec<[f32; EMBEDDING]> = emb.iter().map(|e| unit(e, &background)).collect();
        let t = template(&emb, loud).ok_or_else(|| {
            WakeError::Samples(format!(
                "recording {} is silent or too quiet; record it again closer to the microphone",
                i + 1
            ))
        })?;
        templates.push(t);
        streams.push(emb);
    }
    // Leave-one-out: how well does each sample match the templates of the others?
    let mut weakest = f32::MAX;
    for (i, stream) in streams.iter().enumerate() {
        let others: Vec<Vec<Vec<f32>>> = templates
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, t)| t.clone())
            .collect();
        let best = (1..=stream.len())
            .map(|end| best_score(&others, &stream[..end]))
            .fold(0.0, f32::max);
        tracing::debug!(
            sample = i + 1,
            score = best,
            "personal wake word: leave-one-out match"
        );
        weakest = weakest.min(best);
    }
    let threshold = (weakest - MARGIN).max(FLOOR);
    Ok(PersonalFile {
        version: 1,
        name: name.to_string(),
        threshold,
        background,
        templates,
    })
}
