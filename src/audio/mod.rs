//! Audio I/O: `AudioSource` (16 kHz mono i16 frames in) and `AudioSink` (clips out), with
//! backends chosen by name from config. WAV-file and null backends are always compiled; cpal
//! capture and rodio playback come with the `device-audio` feature.

pub mod earcon;
pub mod mixer;
pub mod null;
pub mod resample;
pub mod wav;

#[cfg(feature = "device-audio")]
pub mod cpal_source;
#[cfg(feature = "device-audio")]
pub mod devices;
#[cfg(feature = "device-audio")]
pub mod rodio_sink;

use crate::config::AudioConfig;

/// Sori's internal audio rate: what whisper, Silero VAD and openWakeWord want.
pub const SAMPLE_RATE: u32 = 16_000;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The input is not audio Sori can read (corrupt WAV, unsupported encoding).
    #[error("{path}: not a readable WAV file: {reason}")]
    BadFile { path: String, reason: String },
    #[error(
        "no audio device named `{name}`; available: {available}. Run `sori devices` to list them"
    )]
    NoSuchDevice { name: String, available: String },
    #[error(
        "no {0} device found. Without a microphone or speaker, run on files: `sori run --input FILE.wav --output reply.wav`, or use the wav/null backends (`--set audio.output=null`); `sori transcribe FILE.wav` needs no device"
    )]
    NoDevice(&'static str),
    #[error(
        "audio device error: {0}. If the device is busy or permission is denied, add the user to the `audio` group"
    )]
    Device(String),
    #[error("the audio device stopped delivering audio ({0}); it may have been unplugged")]
    Stalled(String),
    #[error("the speaker stopped taking audio ({0}); it may have been unplugged")]
    OutputStalled(String),
    #[error(
        "audio backend `{0}` is not compiled into this build; rebuild with `--features device-audio`"
    )]
    NotCompiled(String),
    #[error("resampling failed: {0}")]
    Resample(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A mono clip at some sample rate (TTS output, earcons, recordings).
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

impl Clip {
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / self.sample_rate.max(1) as u64
    }

    /// Samples as f32 in [-1, 1], as whisper wants them.
    pub fn to_f32(&self) -> Vec<f32> {
        i16_to_f32(&self.samples)
    }
}

/// Where audio comes from: always 16 kHz mono i16, whatever the device does.
pub trait AudioSource: Send {
    /// Fills `frame` completely with the next samples, blocking until they are there.
    /// Returns `Ok(false)` at the end of a finite input (the frame is then zero-padded).
    ///
    /// # Errors
    /// `AudioError::Stalled` when a device stops delivering (unplugged), `AudioError::Device`
    /// for other device failures. The caller may reopen the source.
    fn read_frame(&mut self, frame: &mut [i16]) -> Result<bool, AudioError>;

    /// Human-readable description for logs (`cpal: TestMicFeed @ 16000 Hz x1`).
    fn describe(&self) -> String;

    /// Samples dropped because Sori did not keep up (ring overflow).
    fn dropped_samples(&self) -> u64 {
        0
    }
}

/// Where audio goes.
pub trait AudioSink: Send {
    /// Plays `clip` and returns when it has been played.
    ///
    /// # Errors
    /// `AudioError::Device` when the device fails, `AudioError::OutputStalled` when it stops
    /// taking audio; `AudioError::Io` for file sinks.
    fn play(&mut self, clip: &Clip) -> Result<(), AudioError>;

    /// Plays `clip` unless `stop` becomes true, checking it at least every 100 ms. Returns
    /// false if it was cut short.
    ///
    /// # Errors
    /// As `play`.
    fn play_until(
        &mut self,
        clip: &Clip,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<bool, AudioError> {
        let piece = (clip.sample_rate as usize / 10).max(1);
        for chunk in clip.samples.chunks(piece) {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(false);
            }
            self.play(&Clip {
                sample_rate: clip.sample_rate,
                samples: chunk.to_vec(),
            })?;
        }
        Ok(true)
    }

    /// Queues `clip` to play right after what was queued before, returning once that has
    /// played (so at most `clip` is left): clips queued one after another play without a gap,
    /// as a reply streamed in slices must. False if `stop` cut it short. `drain_until` waits
    /// for the end. The default plays the clip whole (file sinks have no gaps to avoid).
    ///
    /// # Errors
    /// As `play`.
    fn queue_until(
        &mut self,
        clip: &Clip,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<bool, AudioError> {
        self.play_until(clip, stop)
    }

    /// Waits until everything `queue_until` queued has played; false if `stop` cut it short.
    ///
    /// # Errors
    /// As `play`.
    fn drain_until(&mut self, stop: &std::sync::atomic::AtomicBool) -> Result<bool, AudioError> {
        let _ = stop;
        Ok(true)
    }

    fn describe(&self) -> String;

    /// The device's music channel, mixed with what `play` plays (none for file/null sinks).
    fn music_channel(&self) -> Option<mixer::MusicChannel> {
        None
    }
}

/// Every input backend name, compiled in or not (config validation catches typos either way).
pub const INPUT_BACKENDS: [&str; 3] = ["cpal", "wav", "null"];
/// Every output backend name.
pub const OUTPUT_BACKENDS: [&str; 3] = ["rodio", "wav", "null"];

pub fn source_names() -> &'static [&'static str] {
    &INPUT_BACKENDS
}

pub fn sink_names() -> &'static [&'static str] {
    &OUTPUT_BACKENDS
}

/// Opens the input backend named by `cfg.input`.
///
/// # Errors
/// See the backends; a backend missing from this build gives `AudioError::NotCompiled`.
pub fn open_source(cfg: &AudioConfig) -> Result<Box<dyn AudioSource>, AudioError> {
    match cfg.input.as_str() {
        #[cfg(feature = "device-audio")]
        "cpal" => Ok(Box::new(cpal_source::CpalSource::open(
            &cfg.input_device,
            cfg.buffer_ms,
        )?)),
        "wav" => Ok(Box::new(wav::WavSource::open(std::path::Path::new(
            &cfg.input_file,
        ))?)),
        "null" => Ok(Box::new(null::NullSource::new())),
        other => Err(AudioError::NotCompiled(other.to_string())),
    }
}

/// Opens the output backend named by `cfg.output`.
///
/// # Errors
/// See the backends; a backend missing from this build gives `AudioError::NotCompiled`.
pub fn open_sink(cfg: &AudioConfig) -> Result<Box<dyn AudioSink>, AudioError> {
    match cfg.output.as_str() {
        #[cfg(feature = "device-audio")]
        "rodio" => Ok(Box::new(rodio_sink::RodioSink::open(&cfg.output_device)?)),
        "wav" => Ok(Box::new(wav::WavSink::create(std::path::Path::new(
            &cfg.output_file,
        ))?)),
        "null" => Ok(Box::new(null::NullSink)),
        other => Err(AudioError::NotCompiled(other.to_string())),
    }
}

/// i16 samples → f32 in [-1, 1], as whisper wants them.
pub fn i16_to_f32(samples: &[i16]) -> Vec<f32> {
    samples.iter().map(|&s| s as f32 / 32768.0).collect()
}

/// f32 in [-1, 1] → i16, clipping.
pub fn f32_to_i16(x: f32) -> i16 {
    (x * 32767.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Averages interleaved channels into mono, appending to `out`.
pub fn downmix_into(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    if channels <= 1 {
        out.extend_from_slice(interleaved);
    } else {
        let k = 1.0 / channels as f32;
        out.extend(
            interleaved
                .chunks_exact(channels)
                .map(|f| f.iter().sum::<f32>() * k),
        );
    }
}
