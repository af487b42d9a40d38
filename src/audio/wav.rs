//! WAV files: decoding any PCM/float WAV to 16 kHz mono, a file source, and a file sink.

use std::path::{Path, PathBuf};

use super::resample::resample_mono;
use super::{AudioError, AudioSink, AudioSource, Clip, SAMPLE_RATE, downmix_into, f32_to_i16};

/// Decoded audio before conversion.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub sample_rate: u32,
    pub channels: u16,
    /// Interleaved, in [-1, 1].
    pub samples: Vec<f32>,
}

/// Decodes a WAV file of any rate and channel count, 8/16/24/32-bit integer or 32-bit float.
///
/// # Errors
/// `AudioError::BadFile` for anything that is not a readable WAV (never panics).
pub fn decode(path: &Path) -> Result<Decoded, AudioError> {
    let bad = |reason: String| AudioError::BadFile {
        path: path.display().to_string(),
        reason,
    };
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(io) => bad(io.to_string()),
        other => bad(other.to_string()),
    })?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(bad("header declares no channels or a 0 Hz rate".into()));
    }
    // hound trusts the header; a lying one must not turn into a panic in the decoder.
    let samples =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_samples(reader, spec)))
            .map_err(|_| bad("malformed sample data".into()))?
            .map_err(|e| bad(e.to_string()))?;
    if samples.is_empty() {
        return Err(bad("no audio samples".into()));
    }
    Ok(Decoded {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        samples,
    })
}

fn read_samples<R: std::io::Read>(
    mut r: hound::WavReader<R>,
    spec: hound::WavSpec,
) -> Result<Vec<f32>, hound::Error> {
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => r.samples::<f32>().collect(),
        (hound::SampleFormat::Int, bits @ 1..=32) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect()
        }
        _ => Err(hound::Error::Unsupported),
    }
}

/// Decodes `path` and converts it to 16 kHz mono f32 (what STT wants).
///
/// # Errors
/// `AudioError::BadFile` for unreadable files.
pub fn load_16k_mono(path: &Path) -> Result<Vec<f32>, AudioError> {
    let d = decode(path)?;
    let mut mono = Vec::with_capacity(d.samples.len() / d.channels as usize);
    downmix_into(&d.samples, d.channels as usize, &mut mono);
    resample_mono(&mono, d.sample_rate, SAMPLE_RATE)
}

/// Writes a mono 16-bit WAV.
///
/// # Errors
/// `AudioError::Io` when the file can't be written.
pub fn write_clip(path: &Path, clip: &Clip) -> Result<(), AudioError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: clip.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(hound_io)?;
    for &s in &clip.samples {
        w.write_sample(s).map_err(hound_io)?;
    }
    w.finalize().map_err(hound_io)
}

fn hound_io(e: hound::Error) -> AudioError {
    match e {
        hound::Error::IoError(io) => AudioError::Io(io),
        other => AudioError::Io(std::io::Error::other(other.to_string())),
    }
}

/// Reads a WAV file as a finite 16 kHz stream (decoded up front: files here are short).
pub struct WavSource {
    path: PathBuf,
    samples: Vec<i16>,
    pos: usize,
}

impl WavSource {
    /// # Errors
    /// `AudioError::BadFile` for unreadable files.
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        let samples = load_16k_mono(path)?.into_iter().map(f32_to_i16).collect();
        Ok(WavSource {
            path: path.to_path_buf(),
            samples,
            pos: 0,
        })
    }
}

impl AudioSource for WavSource {
    fn read_frame(&mut self, frame: &mut [i16]) -> Result<bool, AudioError> {
        let n = frame.len().min(self.samples.len() - self.pos);
        frame[..n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
        frame[n..].fill(0);
        self.pos += n;
        Ok(n == frame.len() && self.pos < self.samples.len())
    }

    fn describe(&self) -> String {
        format!("wav: {}", self.path.display())
    }
}

/// Appends every clip played to one WAV file (at the first clip's rate), finalized on drop.
pub struct WavSink {
    path: PathBuf,
    writer: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>,
    rate: u32,
}

impl WavSink {
    /// # Errors
    /// `AudioError::Io` when the file can't be created.
    pub fn create(path: &Path) -> Result<Self, AudioError> {
        // Fail now rather than at the first reply if the path is unwritable.
        std::fs::File::create(path)?;
        Ok(WavSink {
            path: path.to_path_buf(),
            writer: None,
            rate: 0,
        })
    }
}

impl AudioSink for WavSink {
    fn play(&mut self, clip: &Clip) -> Result<(), AudioError> {
        if self.writer.is_none() {
            self.rate = clip.sample_rate;
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: self.rate,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            self.writer = Some(hound::WavWriter::create(&self.path, spec).map_err(hound_io)?);
        }
        let w = self.writer.as_mut().expect("writer just set");
        if clip.sample_rate == self.rate {
            for &s in &clip.samples {
                w.write_sample(s).map_err(hound_io)?;
            }
        } else {
            for s in resample_mono(&clip.to_f32(), clip.sample_rate, self.rate)? {
                w.write_sample(f32_to_i16(s)).map_err(hound_io)?;
            }
        }
        w.flush().map_err(hound_io)
    }

    fn describe(&self) -> String {
        format!("wav: {}", self.path.display())
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        if let Some(w) = self.writer.take()
            && let Err(e) = w.finalize()
        {
            tracing::warn!(path = %self.path.display(), "could not finalize WAV: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, spec: hound::WavSpec, n: usize) {
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..n * spec.channels as usize {
            let v = ((i / spec.channels as usize) as f32 * 0.05).sin() * 0.5;
            match (spec.sample_format, spec.bits_per_sample) {
                (hound::SampleFormat::Float, _) => w.write_sample(v).unwrap(),
                (_, 16) => w.write_sample((v * 32767.0) as i16).unwrap(),
                (_, b) => w
                    .write_sample((v * ((1i64 << (b - 1)) - 1) as f32) as i32)
                    .unwrap(),
            }
        }
        w.finalize().unwrap();
    }

    #[test]
    fn decodes_every_common_format_to_16k_mono() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (44_100, 2, 16, hound::SampleFormat::Int),
            (48_000, 2, 24, hound::SampleFormat::Int),
            (16_000, 1, 32, hound::SampleFormat::Int),
            (22_050, 1, 32, hound::SampleFormat::Float),
            (8_000, 1, 8, hound::SampleFormat::Int),
        ];
        for (rate, ch, bits, fmt) in cases {
            let p = dir.path().join(format!("{rate}-{ch}-{bits}.wav"));
            write(
                &p,
                hound::WavSpec {
                    channels: ch,
                    sample_rate: rate,
                    bits_per_sample: bits,
                    sample_format: fmt,
                },
                rate as usize,
            );
            let x = load_16k_mono(&p).unwrap();
            assert!((x.len() as i64 - 16_000).abs() < 40, "{p:?}: {}", x.len());
            let peak = x.iter().fold(0f32, |a, v| a.max(v.abs()));
            assert!((0.4..0.6).contains(&peak), "{p:?}: peak {peak}");
        }
    }

    #[test]
    fn garbage_is_a_clear_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.wav");
        for bytes in [
            &b""[..],
            b"hello world, not audio",
            b"RIFF\x10\0\0\0WAVEfmt \x10\0\0\0\x01\0\x02\0",
        ] {
            std::fs::write(&p, bytes).unwrap();
            let e = decode(&p).unwrap_err().to_string();
            assert!(e.contains("not a readable WAV"), "{e}");
        }
        assert!(decode(&dir.path().join("missing.wav")).is_err());
    }

    #[test]
    fn source_yields_frames_then_ends_and_sink_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        let clip = Clip {
            sample_rate: 16_000,
            samples: (0..4000).map(|i| (i % 100) as i16).collect(),
        };
        let mut sink = WavSink::create(&p).unwrap();
        sink.play(&clip).unwrap();
        drop(sink);
        let mut src = WavSource::open(&p).unwrap();
        let mut frame = [0i16; 1280];
        let mut frames = 0;
        while src.read_frame(&mut frame).unwrap() {
            frames += 1;
        }
        assert_eq!(frames, 3, "4000 samples = 3 full frames + a padded tail");
        assert_eq!(&frame[4000 - 3 * 1280..], &vec![0i16; 4 * 1280 - 4000][..]);
    }
}
