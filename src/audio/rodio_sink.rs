//! Speaker playback through rodio (on cpal/ALSA). Reply speech and earcons get a player each
//! as they play; the music channel is one long-lived player on the same rodio mixer (see
//! `audio::mixer` for volumes and ducking).

use std::num::NonZero;

use rodio::buffer::SamplesBuffer;

use super::devices::{QuietStderr, device_name, find_device};
use super::{AudioError, AudioSink, Clip};

/// How much longer than its length a clip may take to play before the device counts as stalled.
const STALL_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

pub struct RodioSink {
    sink: rodio::MixerDeviceSink,
    name: String,
}

impl RodioSink {
    /// Opens the output device `name` (empty: the default).
    ///
    /// # Errors
    /// `AudioError::NoDevice` / `NoSuchDevice` when it is absent, `AudioError::Device` when it
    /// can't be opened.
    pub fn open(name: &str) -> Result<Self, AudioError> {
        let device = find_device(&rodio::cpal::default_host(), name, false)?;
        let name = device_name(&device);
        let quiet = QuietStderr::new();
        let mut sink = rodio::DeviceSinkBuilder::from_device(device)
            .and_then(|b| b.open_stream())
            .map_err(|e| AudioError::Device(e.to_string()))?;
        drop(quiet);
        sink.log_on_drop(false);
        tracing::debug!(device = %name, "playback stream opened");
        Ok(RodioSink { sink, name })
    }
}

impl AudioSink for RodioSink {
    fn play(&mut self, clip: &Clip) -> Result<(), AudioError> {
        self.play_until(clip, &std::sync::atomic::AtomicBool::new(false))
            .map(|_| ())
    }

    fn play_until(
        &mut self,
        clip: &Clip,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<bool, AudioError> {
        let rate = NonZero::new(clip.sample_rate)
            .ok_or_else(|| AudioError::Device("clip with a 0 Hz rate".into()))?;
        let player = rodio::Player::connect_new(self.sink.mixer());
        player.append(SamplesBuffer::new(NonZero::<u16>::MIN, rate, clip.to_f32()));
        // A device that stops taking audio (unplugged, or its sound server gone) never drains
        // the player: give up once the clip has had its length and STALL_GRACE to play.
        let allowed = std::time::Duration::from_millis(clip.duration_ms()) + STALL_GRACE;
        let deadline = std::time::Instant::now() + allowed;
        // Poll rather than block so a stop lands within ~10 ms.
        while !player.empty() {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                player.stop();
                return Ok(false);
            }
            if std::time::Instant::now() > deadline {
                player.stop();
                return Err(AudioError::OutputStalled(format!(
                    "{}: a {:.1} s clip was not played within {:.1} s",
                    self.name,
                    clip.duration_ms() as f64 / 1000.0,
                    allowed.as_secs_f64()
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Ok(true)
    }

    fn describe(&self) -> String {
        format!("rodio: {}", self.name)
    }

    fn music_channel(&self) -> Option<super::mixer::MusicChannel> {
        Some(super::mixer::MusicChannel {
            player: std::sync::Arc::new(rodio::Player::connect_new(self.sink.mixer())),
        })
    }
}
