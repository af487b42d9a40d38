//! The null backend: silence in, nothing out. For headless debugging and tests.

use std::time::{Duration, Instant};

use super::{AudioError, AudioSink, AudioSource, Clip, SAMPLE_RATE};

/// Endless silence, paced at real time so a loop reading it does not spin.
pub struct NullSource {
    started: Instant,
    samples: u64,
}

impl NullSource {
    pub fn new() -> Self {
        NullSource {
            started: Instant::now(),
            samples: 0,
        }
    }
}

impl Default for NullSource {
    fn default() -> Self {
        Self::new()
    }
}

impl AudioSource for NullSource {
    fn read_frame(&mut self, frame: &mut [i16]) -> Result<bool, AudioError> {
        frame.fill(0);
        self.samples += frame.len() as u64;
        let due = Duration::from_micros(self.samples * 1_000_000 / SAMPLE_RATE as u64);
        if let Some(wait) = due.checked_sub(self.started.elapsed()) {
            std::thread::sleep(wait);
        }
        Ok(true)
    }

    fn describe(&self) -> String {
        "null (silence)".into()
    }
}

/// Discards everything, immediately.
pub struct NullSink;

impl AudioSink for NullSink {
    fn play(&mut self, _clip: &Clip) -> Result<(), AudioError> {
        Ok(())
    }

    fn describe(&self) -> String {
        "null (discard)".into()
    }
}
