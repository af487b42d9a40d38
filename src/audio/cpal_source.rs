//! Microphone capture through cpal (ALSA; PulseAudio/PipeWire through ALSA where present).
//!
//! The cpal callback runs on the audio thread: it only converts samples to f32 and copies them
//! into a lock-free bounded ring (rtrb); it never allocates, locks or logs. A full ring drops
//! the samples and counts them. Downmixing and resampling to 16 kHz happen in `read_frame`, on
//! the reader's thread.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, Sample, SizedSample};

use super::devices::{QuietStderr, device_name, find_device};
use super::resample::StreamResampler;
use super::{AudioError, AudioSource, SAMPLE_RATE, downmix_into, f32_to_i16};

/// How long a freshly opened device may stay silent (cpal can start ~1 s late).
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a running device may stop delivering before it counts as gone.
const STALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Shared between the audio callback and the reader: atomics only.
struct Shared {
    dropped: AtomicU64,
    failed: AtomicBool,
}

pub struct CpalSource {
    /// Always `Some` until drop (see `Drop`).
    stream: Option<cpal::Stream>,
    ring: rtrb::Consumer<f32>,
    shared: Arc<Shared>,
    name: String,
    rate: u32,
    channels: usize,
    resampler: StreamResampler,
    interleaved: Vec<f32>,
    mono: Vec<f32>,
    ready: VecDeque<f32>,
    opened: Instant,
    last_data: Option<Instant>,
    dropped_reported: u64,
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    mut ring: rtrb::Producer<f32>,
    shared: Arc<Shared>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + Send + 'static,
    f32: FromSample<T>,
{
    let on_error = {
        let shared = shared.clone();
        move |_e: cpal::Error| shared.failed.store(true, Ordering::Relaxed)
    };
    device.build_input_stream::<T, _, _>(
        *config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            let n = data.len().min(ring.slots());
            if let Ok(chunk) = ring.write_chunk_uninit(n) {
                chunk.fill_from_iter(data[..n].iter().map(|&s| f32::from_sample(s)));
            }
            if n < data.len() {
                shared
                    .dropped
                    .fetch_add((data.len() - n) as u64, Ordering::Relaxed);
            }
        },
        on_error,
        None,
    )
}

impl CpalSource {
    /// Opens the input device `name` (empty: the default) in its own format and rate.
    ///
    /// # Errors
    /// `AudioError::NoDevice` / `NoSuchDevice` when it is absent, `AudioError::Device` when it
    /// can't be opened (busy, or the user is not in the `audio` group).
    pub fn open(name: &str, buffer_ms: u32) -> Result<Self, AudioError> {
        let host = cpal::default_host();
        let device = find_device(&host, name, true)?;
        let quiet = QuietStderr::new();
        let supported = device
            .default_input_config()
            .map_err(|e| AudioError::Device(e.to_string()))?;
        let config: cpal::StreamConfig = supported.config();
        let rate = config.sample_rate;
        let channels = config.channels as usize;
        let capacity = (rate as usize * channels * buffer_ms as usize / 1000).max(4096);
        let (producer, ring) = rtrb::RingBuffer::new(capacity);
        let shared = Arc::new(Shared {
            dropped: AtomicU64::new(0),
            failed: AtomicBool::new(false),
        });
        use cpal::SampleFormat as F;
        let s = shared.clone();
        let stream = match supported.sample_format() {
            F::I16 => build::<i16>(&device, &config, producer, s),
            F::I32 => build::<i32>(&device, &config, producer, s),
            F::F32 => build::<f32>(&device, &config, producer, s),
            F::U16 => build::<u16>(&device, &config, producer, s),
            F::U8 => build::<u8>(&device, &config, producer, s),
            F::I8 => build::<i8>(&device, &config, producer, s),
            F::F64 => build::<f64>(&device, &config, producer, s),
            other => {
                return Err(AudioError::Device(format!(
                    "unsupported sample format {other}"
                )));
            }
        }
        .map_err(|e| AudioError::Device(e.to_string()))?;
        stream
            .play()
            .map_err(|e| AudioError::Device(e.to_string()))?;
        drop(quiet);
        let name = device_name(&device);
        tracing::debug!(device = %name, rate, channels, format = %supported.sample_format(), "capture stream opened");
        Ok(CpalSource {
            stream: Some(stream),
            ring,
            shared,
            name,
            rate,
            channels,
            resampler: StreamResampler::new(rate, SAMPLE_RATE)?,
            interleaved: Vec::with_capacity(capacity),
            mono: Vec::with_capacity(capacity),
            ready: VecDeque::with_capacity(SAMPLE_RATE as usize),
            opened: Instant::now(),
            last_data: None,
            dropped_reported: 0,
        })
    }

    /// Moves whatever the callback has delivered through downmix and resampling.
    fn drain_ring(&mut self) -> Result<bool, AudioError> {
        let n = self.ring.slots();
        if n == 0 {
            return Ok(false);
        }
        let chunk = self.ring.read_chunk(n).expect("slots() are readable");
        let (a, b) = chunk.as_slices();
        self.interleaved.clear();
        self.interleaved.extend_from_slice(a);
        self.interleaved.extend_from_slice(b);
        chunk.commit_all();
        // Keep whole frames only; a split frame can't happen (cpal delivers whole frames and
        // the ring drops whole callback tails), but guard anyway.
        let whole = self.interleaved.len() - self.interleaved.len() % self.channels;
        self.mono.clear();
        downmix_into(&self.interleaved[..whole], self.channels, &mut self.mono);
        self.resampler.push(&self.mono, &mut self.ready)?;
        Ok(true)
    }
}

impl AudioSource for CpalSource {
    fn read_frame(&mut self, frame: &mut [i16]) -> Result<bool, AudioError> {
        while self.ready.len() < frame.len() {
            if self.shared.failed.load(Ordering::Relaxed) {
                return Err(AudioError::Stalled(format!(
                    "{} reported an error",
                    self.name
                )));
            }
            if self.drain_ring()? {
                if self.last_data.is_none() {
                    // Tests and `sori doctor` wait for this line rather than sleeping.
                    tracing::info!(device = %self.name, rate = self.rate, channels = self.channels, "capture stream started");
                }
                self.last_data = Some(Instant::now());
                continue;
            }
            match self.last_data {
                None if self.opened.elapsed() > START_TIMEOUT => {
                    return Err(AudioError::Stalled(format!(
                        "no audio from {} within {START_TIMEOUT:?}",
                        self.name
                    )));
                }
                Some(t) if t.elapsed() > STALL_TIMEOUT => {
                    return Err(AudioError::Stalled(format!(
                        "no audio from {} for {STALL_TIMEOUT:?}",
                        self.name
                    )));
                }
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let n = frame.len();
        for (out, s) in frame.iter_mut().zip(self.ready.drain(..n)) {
            *out = f32_to_i16(s);
        }
        let dropped = self.dropped_samples();
        if dropped > self.dropped_reported {
            tracing::warn!(
                dropped,
                "capture overflow: Sori fell behind the microphone; raise audio.buffer_ms"
            );
            self.dropped_reported = dropped;
        }
        Ok(true)
    }

    fn describe(&self) -> String {
        format!("cpal: {} @ {} Hz x{}", self.name, self.rate, self.channels)
    }

    fn dropped_samples(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for CpalSource {
    /// Dropping a cpal stream joins its ALSA thread, which can block forever once the device
    /// (or the sound server) has vanished. Drop it on a throwaway thread so whoever holds the
    /// source (and wants to reopen the device) never hangs.
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            let _ = std::thread::Builder::new()
                .name("cpal-close".into())
                .spawn(move || drop(stream));
        }
    }
}
