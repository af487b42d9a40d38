//! Sample-rate conversion with rubato's FFT resampler (band-limited, so 44.1/48 kHz speech
//! keeps its transcript), for whole clips and for a capture stream.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::AudioError;

/// Input frames per FFT chunk for streams: ~20 ms at 48 kHz, a fair latency/cost trade.
const STREAM_CHUNK: usize = 1024;

fn resampler(from: u32, to: u32, chunk: usize) -> Result<Fft<f32>, AudioError> {
    Fft::<f32>::new(from as usize, to as usize, chunk, 1, FixedSync::Input)
        .map_err(|e| AudioError::Resample(e.to_string()))
}

/// Resamples a whole mono clip (output length ≈ input × to/from, delay removed).
///
/// # Errors
/// `AudioError::Resample` for rates rubato rejects (0 Hz).
pub fn resample_mono(input: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == to || input.is_empty() {
        return Ok(input.to_vec());
    }
    let mut r = resampler(from, to, STREAM_CHUNK)?;
    let buf = InterleavedSlice::new(input, 1, input.len())
        .map_err(|e| AudioError::Resample(e.to_string()))?;
    let out = r
        .process_all(&buf, input.len(), None)
        .map_err(|e| AudioError::Resample(e.to_string()))?;
    Ok(out.take_data())
}

/// Incremental mono resampler for a capture stream: push any number of samples, get out
/// whatever is ready. Buffers are allocated once.
pub struct StreamResampler {
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    out: Vec<f32>,
}

impl StreamResampler {
    /// # Errors
    /// `AudioError::Resample` for rates rubato rejects.
    pub fn new(from: u32, to: u32) -> Result<Self, AudioError> {
        let inner = if from == to {
            None
        } else {
            Some(resampler(from, to, STREAM_CHUNK)?)
        };
        let out_max = inner.as_ref().map_or(0, |r| r.output_frames_max());
        Ok(StreamResampler {
            inner,
            pending: Vec::with_capacity(STREAM_CHUNK * 2),
            out: vec![0.0; out_max],
        })
    }

    /// Feeds `input` (mono, source rate) and appends resampled output to `sink`.
    pub fn push(&mut self, input: &[f32], sink: &mut impl Extend<f32>) -> Result<(), AudioError> {
        let Some(r) = self.inner.as_mut() else {
            sink.extend(input.iter().copied());
            return Ok(());
        };
        self.pending.extend_from_slice(input);
        let err = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
        let mut start = 0;
        while self.pending.len() - start >= r.input_frames_next() {
            let need = r.input_frames_next();
            let chunk = &self.pending[start..start + need];
            let inp = InterleavedSlice::new(chunk, 1, need).map_err(|e| err(&e))?;
            let out_len = self.out.len();
            let mut outp = rubato::audioadapter_buffers::direct::InterleavedSlice::new_mut(
                &mut self.out,
                1,
                out_len,
            )
            .map_err(|e| err(&e))?;
            let (used, written) = r
                .process_into_buffer(&inp, &mut outp, None)
                .map_err(|e| err(&e))?;
            sink.extend(self.out[..written].iter().copied());
            start += used;
        }
        self.pending.drain(..start);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| (i as f32 * hz * std::f32::consts::TAU / rate as f32).sin() * 0.5)
            .collect()
    }

    /// Zero crossings per second ≈ 2 × frequency: the pitch survives resampling.
    fn crossings_per_sec(x: &[f32], rate: u32) -> f32 {
        let n = x
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        n as f32 * rate as f32 / x.len() as f32
    }

    #[test]
    fn clip_resampling_keeps_length_and_pitch() {
        for from in [44_100, 48_000, 8_000, 22_050] {
            let x = tone(from, 440.0, 1.0);
            let y = resample_mono(&x, from, 16_000).unwrap();
            assert!((y.len() as i64 - 16_000).abs() < 50, "{from}: {}", y.len());
            let c = crossings_per_sec(&y[1000..15000], 16_000);
            assert!((c - 880.0).abs() < 10.0, "{from}: {c}");
        }
    }

    #[test]
    fn stream_resampling_matches_rate_and_removes_aliases() {
        let mut r = StreamResampler::new(48_000, 16_000).unwrap();
        // 440 Hz plus 12 kHz, which must be filtered out rather than alias to 4 kHz.
        let x: Vec<f32> = tone(48_000, 440.0, 2.0)
            .iter()
            .zip(tone(48_000, 12_000.0, 2.0))
            .map(|(a, b)| a + b)
            .collect();
        let mut out = Vec::new();
        for chunk in x.chunks(480) {
            r.push(chunk, &mut out).unwrap();
        }
        assert!((out.len() as i64 - 32_000).abs() < 1100, "{}", out.len());
        let c = crossings_per_sec(&out[4000..30000], 16_000);
        assert!((c - 880.0).abs() < 15.0, "{c}");
    }
}
