//! The output mixer: three channels on one device. Reply speech and earcons play at the device
//! volume; music plays at the device volume, ducked to `audio.duck_level` while Sori listens or
//! speaks. The volume (0-100, and muted) is kept in the state directory, so it survives
//! restarts and `sori volume` can change it under a running daemon.
//!
//! "Mute" silences music only: Sori's own replies stay audible so it can still answer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// A volume command, from a skill or `sori volume`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeChange {
    Up,
    Down,
    To(u8),
    Mute,
    Unmute,
}

/// How much one "louder"/"quieter" moves the volume.
pub const VOLUME_STEP: u8 = 10;

/// The persisted volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub level: u8,
    pub muted: bool,
}

impl Volume {
    pub fn apply(self, change: VolumeChange) -> Volume {
        match change {
            VolumeChange::Up => Volume {
                level: self.level.saturating_add(VOLUME_STEP).min(100),
                muted: false,
            },
            VolumeChange::Down => Volume {
                level: self.level.saturating_sub(VOLUME_STEP),
                muted: self.muted,
            },
            VolumeChange::To(n) => Volume {
                level: n.min(100),
                muted: false,
            },
            VolumeChange::Mute => Volume {
                muted: true,
                ..self
            },
            VolumeChange::Unmute => Volume {
                muted: false,
                ..self
            },
        }
    }
}

/// Gain for a 0-100 volume: squared, so equal steps sound roughly equal (50 ≈ -12 dB).
pub fn gain(level: u8) -> f32 {
    let v = f32::from(level.min(100)) / 100.0;
    v * v
}

/// The gains of each channel for a volume and ducking state: pure, so it is tested directly.
pub fn channel_gains(volume: Volume, ducked: bool, duck_level: f32) -> (f32, f32) {
    let speech = gain(volume.level);
    let music = if volume.muted {
        0.0
    } else if ducked {
        speech * duck_level
    } else {
        speech
    };
    (speech, music)
}

/// The music channel of a device: a rodio player on the same output as speech.
#[derive(Clone)]
pub struct MusicChannel {
    #[cfg(feature = "device-audio")]
    pub player: Arc<rodio::Player>,
}

impl MusicChannel {
    fn set_gain(&self, _gain: f32) {
        #[cfg(feature = "device-audio")]
        self.player.set_volume(_gain);
    }
}

struct Inner {
    volume: Volume,
    ducked: bool,
    duck_level: f32,
    file: Option<PathBuf>,
    /// Modification time of `file` when last read, to notice `sori volume`.
    seen: Option<std::time::SystemTime>,
    music: Option<MusicChannel>,
    /// Told the music gain whenever it changes (a music server with its own volume: MPD).
    hook: Option<Box<dyn Fn(f32) + Send>>,
}

/// A handle to the mixer state, shared by the speaker thread, the actor and skills.
#[derive(Clone)]
pub struct Mixer {
    inner: Arc<Mutex<Inner>>,
}

/// The file the volume lives in, inside the state directory.
pub fn volume_file(state_dir: &Path) -> PathBuf {
    state_dir.join("volume.toml")
}

/// Reads the persisted volume, if any.
pub fn read_volume(file: &Path) -> Option<Volume> {
    toml::from_str(&std::fs::read_to_string(file).ok()?).ok()
}

/// Writes the volume atomically (a crash never leaves a half-written file).
///
/// # Errors
/// The state directory is not writable.
pub fn write_volume(file: &Path, v: Volume) -> std::io::Result<()> {
    if let Some(d) = file.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = file.with_extension("toml.tmp");
    std::fs::write(&tmp, toml::to_string(&v).expect("volume serialises"))?;
    std::fs::rename(tmp, file)
}

impl Mixer {
    /// A mixer whose volume persists in `file` (`None`: not persisted), starting at the saved
    /// volume or `default_level`.
    pub fn new(file: Option<PathBuf>, default_level: u8, duck_level: f32) -> Mixer {
        let volume = file.as_deref().and_then(read_volume).unwrap_or(Volume {
            level: default_level.min(100),
            muted: false,
        });
        let seen = file
            .as_deref()
            .and_then(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok());
        Mixer {
            inner: Arc::new(Mutex::new(Inner {
                volume,
                ducked: false,
                duck_level,
                file,
                seen,
                music: None,
                hook: None,
            })),
        }
    }

    /// The device's mixer as configured: volume kept in the state directory.
    pub fn from_config(cfg: &crate::config::Config) -> Mixer {
        Mixer::new(
            Some(volume_file(&cfg.state_dir())),
            cfg.audio.volume,
            cfg.audio.duck_level,
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves plain numbers behind: still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connects the device's music channel (absent for file and null outputs).
    pub fn attach_music(&self, music: MusicChannel) {
        let mut i = self.lock();
        let (_, g) = channel_gains(i.volume, i.ducked, i.duck_level);
        music.set_gain(g);
        i.music = Some(music);
    }

    /// Calls `hook` with the music gain now and whenever it changes (ducking, volume, mute).
    pub fn on_music_gain(&self, hook: Box<dyn Fn(f32) + Send>) {
        let mut i = self.lock();
        hook(channel_gains(i.volume, i.ducked, i.duck_level).1);
        i.hook = Some(hook);
    }

    pub fn music(&self) -> Option<MusicChannel> {
        self.lock().music.clone()
    }

    pub fn volume(&self) -> Volume {
        self.lock().volume
    }

    /// Gain for speech and earcons now.
    pub fn speech_gain(&self) -> f32 {
        gain(self.lock().volume.level)
    }

    /// Gain of the music channel now (after ducking and mute).
    pub fn music_gain(&self) -> f32 {
        let i = self.lock();
        channel_gains(i.volume, i.ducked, i.duck_level).1
    }

    /// Changes the volume, applies it and saves it. Returns the new volume.
    ///
    /// # Errors
    /// The volume could not be saved (it applies all the same until the next restart).
    pub fn change(&self, change: VolumeChange) -> Result<Volume, std::io::Error> {
        let mut i = self.lock();
        i.volume = i.volume.apply(change);
        Self::apply(&i);
        tracing::info!(level = i.volume.level, muted = i.volume.muted, "volume");
        if let Some(f) = i.file.clone() {
            write_volume(&f, i.volume).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("saving the volume to {}: {e}", f.display()),
                )
            })?;
            i.seen = std::fs::metadata(&f).and_then(|m| m.modified()).ok();
        }
        Ok(i.volume)
    }

    /// Ducks music while Sori listens or speaks (`true`) and restores it after (`false`).
    pub fn duck(&self, on: bool) {
        let mut i = self.lock();
        if i.ducked != on {
            i.ducked = on;
            Self::apply(&i);
            tracing::debug!(ducked = on, "music");
        }
    }

    /// Picks up a volume written by `sori volume` since the last look (cheap: one `stat`).
    pub fn refresh(&self) {
        let mut i = self.lock();
        let Some(f) = i.file.clone() else { return };
        let modified = std::fs::metadata(&f).and_then(|m| m.modified()).ok();
        if modified.is_some() && modified != i.seen {
            i.seen = modified;
            if let Some(v) = read_volume(&f) {
                i.volume = v;
                Self::apply(&i);
                tracing::info!(
                    level = v.level,
                    muted = v.muted,
                    "volume changed from outside"
                );
            }
        }
    }

    fn apply(i: &Inner) {
        let g = channel_gains(i.volume, i.ducked, i.duck_level).1;
        if let Some(m) = &i.music {
            m.set_gain(g);
        }
        if let Some(h) = &i.hook {
            h(g);
        }
    }

    /// Scales speech or earcon samples to the device volume, in place.
    pub fn apply_speech_gain(&self, samples: &mut [i16]) {
        let g = self.speech_gain();
        if (g - 1.0).abs() > 1e-6 {
            for s in samples {
                *s = (f32::from(*s) * g).round() as i16;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_changes() {
        let v = Volume {
            level: 50,
            muted: false,
        };
        assert_eq!(v.apply(VolumeChange::Up).level, 60);
        assert_eq!(
            Volume {
                level: 95,
                muted: false
            }
            .apply(VolumeChange::Up)
            .level,
            100
        );
        assert_eq!(
            Volume {
                level: 5,
                muted: false
            }
            .apply(VolumeChange::Down)
            .level,
            0
        );
        assert_eq!(v.apply(VolumeChange::To(130)).level, 100);
        assert!(v.apply(VolumeChange::Mute).muted);
        // Setting a level or turning it up unmutes, as on any speaker.
        assert!(!v.apply(VolumeChange::Mute).apply(VolumeChange::Up).muted);
    }

    #[test]
    fn ducking_lowers_music_only_and_mute_silences_music() {
        let v = Volume {
            level: 100,
            muted: false,
        };
        assert_eq!(channel_gains(v, false, 0.2), (1.0, 1.0));
        assert_eq!(channel_gains(v, true, 0.2), (1.0, 0.2));
        assert_eq!(
            channel_gains(Volume { muted: true, ..v }, false, 0.2),
            (1.0, 0.0)
        );
        assert!((gain(50) - 0.25).abs() < 1e-6);
    }

    #[test]
    fn volume_persists_and_is_picked_up_from_outside() {
        let dir = tempfile::tempdir().unwrap();
        let f = volume_file(dir.path());
        let m = Mixer::new(Some(f.clone()), 80, 0.2);
        assert_eq!(m.volume().level, 80);
        m.change(VolumeChange::To(30)).unwrap();
        // A restart reads it back.
        assert_eq!(Mixer::new(Some(f.clone()), 80, 0.2).volume().level, 30);
        // `sori volume` writes the file under a running mixer.
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_volume(
            &f,
            Volume {
                level: 60,
                muted: true,
            },
        )
        .unwrap();
        m.refresh();
        assert_eq!(
            m.volume(),
            Volume {
                level: 60,
                muted: true
            }
        );
        assert_eq!(m.music_gain(), 0.0);
    }
}
