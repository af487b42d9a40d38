//! Loudness of a frame's 32 ms windows: where inside a frame the speaker stopped.
//!
//! Silero lets go of speech about 100 ms after it ends (its state carries the speech on for a
//! few windows, and the loop decides in 80 ms frames). The level drops at once: a window far
//! below the command's loudest says the voice has stopped, ~70 ms sooner, and that is when
//! whisper should start. A stop consonant's closure inside a word drops as well; a speculation
//! started there is stopped by the next loud window (whisper's encoder is stoppable mid-pass,
//! see patches/whisper-cpp.cmake), so a false start costs CPU, not latency.

/// Silero's window: 32 ms at 16 kHz.
const WINDOW: usize = 512;
/// How far under the command's loudest window a window counts as quiet: 30 dB, in power.
const QUIET: f32 = 1e-3;
/// Below this (−50 dBFS RMS) the command's loudest window is no speech to measure against.
const FLOOR: f32 = 10_737.0;

/// The mean power of a frame's loudest 32 ms window and of its last one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Levels {
    pub loudest: f32,
    pub last: f32,
}

impl Levels {
    /// Windows are counted back from the frame's end, so the last one is the newest audio.
    pub fn of(samples: &[i16]) -> Levels {
        let power = |w: &[i16]| {
            w.iter().map(|&s| f32::from(s) * f32::from(s)).sum::<f32>() / w.len() as f32
        };
        let mut levels = Levels {
            loudest: 0.0,
            last: 0.0,
        };
        for (i, w) in samples.rchunks(WINDOW).enumerate() {
            let p = power(w);
            if i == 0 {
                levels.last = p;
            }
            levels.loudest = levels.loudest.max(p);
        }
        levels
    }

    /// The frame ends quiet: its last window is far under `peak`, the command's loudest.
    pub fn ends_quiet(&self, peak: f32) -> bool {
        peak >= FLOOR && self.last <= peak * QUIET
    }

    /// Nothing in the frame is near `peak`: no new speech, whatever the VAD still says.
    pub fn quiet(&self, peak: f32) -> bool {
        peak >= FLOOR && self.loudest <= peak * QUIET
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(len: usize, amplitude: f32) -> Vec<i16> {
        (0..len)
            .map(|i| (amplitude * (i as f32 * 0.3).sin()) as i16)
            .collect()
    }

    #[test]
    fn a_frame_whose_last_window_drops_30_db_ends_quiet() {
        // 80 ms: 48 ms of voice, then 32 ms at a 40 dB lower level.
        let mut f = tone(768, 8000.0);
        f.extend(tone(512, 80.0));
        let l = Levels::of(&f);
        assert!(l.ends_quiet(l.loudest));
        assert!(!l.quiet(l.loudest), "the frame holds voice");
        // 20 dB lower is still speech.
        let mut f = tone(768, 8000.0);
        f.extend(tone(512, 800.0));
        let l = Levels::of(&f);
        assert!(!l.ends_quiet(l.loudest));
    }

    #[test]
    fn a_frame_far_under_the_peak_is_quiet_and_silence_has_no_peak() {
        let loud = Levels::of(&tone(1280, 8000.0));
        let soft = Levels::of(&tone(1280, 60.0));
        assert!(soft.quiet(loud.loudest) && soft.ends_quiet(loud.loudest));
        assert!(!loud.quiet(loud.loudest));
        // Digital silence, or a whisper under −50 dBFS, is nothing to compare with.
        let zero = Levels::of(&[0; 1280]);
        assert!(!zero.ends_quiet(zero.loudest) && !zero.quiet(zero.loudest));
        assert!(!zero.quiet(soft.loudest));
    }
}
