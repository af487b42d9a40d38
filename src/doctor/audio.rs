//! The audio checks of `sori doctor`: the microphone (opened, a few seconds recorded, its level)
//! and the speaker (opened, a chime played).

use super::{Check, bad, ok};
use crate::audio::{self, AudioSource};
use crate::config::Config;

pub(super) fn check_input(cfg: &Config, secs: f32) -> Check {
    let mut src: Box<dyn AudioSource> = match audio::open_source(&cfg.audio) {
        Ok(s) => s,
        Err(e) => {
            return bad(
                "microphone",
                e.to_string(),
                "run `sori devices` and set audio.input_device; the service user needs the `audio` group",
            );
        }
    };
    let clip = match crate::record(src.as_mut(), secs) {
        Ok(c) => c,
        Err(e) => {
            return bad(
                "microphone",
                format!("{}: {e}", src.describe()),
                "check the device is not used exclusively by another program",
            );
        }
    };
    let peak = clip
        .samples
        .iter()
        .map(|s| s.unsigned_abs())
        .max()
        .unwrap_or(0) as f32
        / 32768.0;
    let rms = (clip
        .samples
        .iter()
        .map(|&s| (s as f32 / 32768.0).powi(2))
        .sum::<f32>()
        / clip.samples.len().max(1) as f32)
        .sqrt();
    let db = |x: f32| 20.0 * x.max(1e-6).log10();
    let detail = format!(
        "{}: {secs} s, level {:.0} dBFS rms, peak {:.0} dBFS",
        src.describe(),
        db(rms),
        db(peak)
    );
    if peak == 0.0 && cfg.audio.input == "cpal" {
        bad(
            "microphone",
            detail + " (digital silence)",
            "the microphone may be muted: check `alsamixer` capture levels",
        )
    } else {
        ok("microphone", detail)
    }
}

pub(super) fn check_output(cfg: &Config, play: bool) -> Check {
    let mut sink = match audio::open_sink(&cfg.audio) {
        Ok(s) => s,
        Err(e) => {
            return bad(
                "speaker",
                e.to_string(),
                "run `sori devices` and set audio.output_device",
            );
        }
    };
    if !play {
        return ok("speaker", format!("{} opened", sink.describe()));
    }
    match sink.play(&audio::earcon::render(crate::pipeline::Earcon::Done)) {
        Ok(()) => ok("speaker", format!("{}: played a chime", sink.describe())),
        Err(e) => bad(
            "speaker",
            e.to_string(),
            "check the device; the service user needs the `audio` group",
        ),
    }
}
