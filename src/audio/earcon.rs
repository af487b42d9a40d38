//! Earcons Sori makes itself: short chimes synthesised from a few sine partials with a soft
//! envelope. `assets/sounds/*.wav` are these exact renders (a test keeps them in sync) for
//! anyone who wants to hear or replace them.

use super::Clip;
use crate::pipeline::Earcon;

pub const RATE: u32 = 22_050;

/// (frequency Hz, start ms, length ms) per note.
fn notes(e: Earcon) -> &'static [(f32, f32, f32)] {
    match e {
        // Rising fifth: "I'm listening".
        Earcon::Wake => &[(659.3, 0.0, 110.0), (987.8, 80.0, 170.0)],
        // One soft high note: "done".
        Earcon::Done => &[(880.0, 0.0, 220.0)],
        // Falling: "never mind".
        Earcon::Cancel => &[(784.0, 0.0, 110.0), (523.3, 80.0, 180.0)],
        // Low and dissonant-ish: "that failed".
        Earcon::Error => &[(392.0, 0.0, 150.0), (370.0, 140.0, 220.0)],
        // Two pairs of bright beeps: a timer or alarm going off (repeated until stopped).
        Earcon::Alarm => &[
            (1046.5, 0.0, 130.0),
            (1046.5, 180.0, 130.0),
            (1318.5, 520.0, 130.0),
            (1318.5, 700.0, 130.0),
        ],
        // Two soft rising notes, a third apart: "something for you".
        Earcon::Message => &[(784.0, 0.0, 160.0), (987.8, 140.0, 260.0)],
    }
}

/// Renders an earcon (mono, 22.05 kHz, peak about -9 dBFS so it never startles).
pub fn render(e: Earcon) -> Clip {
    let ns = notes(e);
    let total_ms = ns.iter().map(|(_, s, l)| s + l).fold(0.0, f32::max) + 20.0;
    let n = (total_ms * RATE as f32 / 1000.0) as usize;
    let mut out = vec![0.0f32; n];
    for &(f, start, len) in ns {
        let s0 = (start * RATE as f32 / 1000.0) as usize;
        let len_s = (len * RATE as f32 / 1000.0) as usize;
        for i in 0..len_s.min(n - s0) {
            let t = i as f32 / RATE as f32;
            let x = i as f32 / len_s as f32;
            // 5 ms attack, exponential decay to the end of the note.
            let env = (t / 0.005).min(1.0) * (-4.0 * x).exp() * (1.0 - x).min(1.0);
            let w = std::f32::consts::TAU * f * t;
            out[s0 + i] += env * (w.sin() + 0.25 * (2.0 * w).sin() + 0.08 * (3.0 * w).sin());
        }
    }
    let peak = out.iter().fold(0.0f32, |a, v| a.max(v.abs())).max(1e-6);
    let gain = 0.35 / peak;
    Clip {
        sample_rate: RATE,
        samples: out.iter().map(|v| super::f32_to_i16(v * gain)).collect(),
    }
}

pub fn file_name(e: Earcon) -> &'static str {
    match e {
        Earcon::Wake => "wake.wav",
        Earcon::Done => "done.wav",
        Earcon::Cancel => "cancel.wav",
        Earcon::Error => "error.wav",
        Earcon::Alarm => "alarm.wav",
        Earcon::Message => "message.wav",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Earcon; 6] = [
        Earcon::Wake,
        Earcon::Done,
        Earcon::Cancel,
        Earcon::Error,
        Earcon::Alarm,
        Earcon::Message,
    ];

    #[test]
    fn earcons_are_short_and_not_loud() {
        for e in ALL {
            let c = render(e);
            assert!(
                (150..=900).contains(&c.duration_ms()),
                "{e:?}: {} ms",
                c.duration_ms()
            );
            let peak = c.samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
            assert!((10_000..=12_000).contains(&peak), "{e:?}: peak {peak}");
        }
    }

    /// The shipped WAVs are exactly what the code renders (SORI_WRITE_EARCONS=1 rewrites them).
    #[test]
    fn shipped_wavs_match_the_renders() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sounds");
        for e in ALL {
            let path = dir.join(file_name(e));
            let clip = render(e);
            if std::env::var_os("SORI_WRITE_EARCONS").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                crate::audio::wav::write_clip(&path, &clip).unwrap();
            }
            let d = crate::audio::wav::decode(&path)
                .unwrap_or_else(|e| panic!("{e}; run SORI_WRITE_EARCONS=1 cargo test earcon"));
            assert_eq!(d.sample_rate, RATE);
            let shipped: Vec<i16> = d
                .samples
                .iter()
                .map(|&s| crate::audio::f32_to_i16(s))
                .collect();
            assert_eq!(shipped.len(), clip.samples.len(), "{}", path.display());
            let worst = shipped
                .iter()
                .zip(&clip.samples)
                .map(|(a, b)| (a - b).abs())
                .max()
                .unwrap();
            assert!(
                worst <= 1,
                "{} differs from the render; run SORI_WRITE_EARCONS=1 cargo test earcon",
                path.display()
            );
        }
    }
}
