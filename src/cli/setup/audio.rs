//! Setup's speaker and microphone step: list the devices, play a chime on the chosen speaker,
//! record 3 s from the chosen microphone, show its level and play it back.

use sori::audio::{self, Clip};
use sori::config::Config;
use sori::config::edit::{Setting, string};

use super::prompt::Prompter;

/// Seconds recorded for the microphone check.
const TEST_SECONDS: f32 = 3.0;
/// A peak below this is a microphone that hears nothing (muted, unplugged, gain at zero).
const SILENT_DBFS: f32 = -45.0;
/// Tries per device before moving on with the last choice.
const TRIES: usize = 3;

pub struct AudioFlags<'a> {
    pub input_device: Option<&'a str>,
    pub output_device: Option<&'a str>,
    pub test: bool,
}

/// Picks and checks the speaker, then the microphone; `cfg.audio` takes the choices so later
/// steps (recording a wake word) use them.
pub fn run(
    p: &mut Prompter,
    cfg: &mut Config,
    flags: &AudioFlags<'_>,
) -> anyhow::Result<Vec<Setting>> {
    let mut out = Vec::new();
    let list = match device_list() {
        Ok(l) => Some(l),
        Err(e) => {
            p.say(format!(
                "Cannot list audio devices ({e}); keeping the system default."
            ));
            None
        }
    };
    if cfg.audio.output == "rodio" {
        let outputs = list.as_ref().map(|l| l.1.clone()).unwrap_or_default();
        for attempt in 0..TRIES {
            let name = choose(
                p,
                "Speaker (where Sori talks and plays music):",
                &outputs,
                &cfg.audio.output_device,
                flags.output_device,
            )?;
            cfg.audio.output_device = name.clone();
            if !flags.test {
                break;
            }
            p.say(format!("Playing a chime on {}…", shown(&name)));
            if let Err(e) = play(cfg, &audio::earcon::render(sori::pipeline::Earcon::Message)) {
                p.say(format!("  could not play: {e}"));
                if attempt + 1 < TRIES && !p.assume_yes() {
                    continue;
                }
                break;
            }
            if p.assume_yes() || p.yes("Did you hear it?", true)? {
                break;
            }
            p.say("Check the volume (alsamixer) and the cable, or pick another speaker.");
        }
        out.push(Setting::new(
            "audio.output_device",
            string(&cfg.audio.output_device),
        ));
    } else {
        p.say(format!(
            "audio.output is `{}`: no speaker to choose.",
            cfg.audio.output
        ));
    }
    if cfg.audio.input == "cpal" {
        let inputs = list.as_ref().map(|l| l.0.clone()).unwrap_or_default();
        for _ in 0..TRIES {
            let name = choose(
                p,
                "Microphone:",
                &inputs,
                &cfg.audio.input_device,
                flags.input_device,
            )?;
            cfg.audio.input_device = name.clone();
            if !flags.test || check_microphone(p, cfg)? {
                break;
            }
        }
        out.push(Setting::new(
            "audio.input_device",
            string(&cfg.audio.input_device),
        ));
    } else {
        p.say(format!(
            "audio.input is `{}`: no microphone to choose.",
            cfg.audio.input
        ));
    }
    Ok(out)
}

fn shown(name: &str) -> &str {
    if name.is_empty() {
        "the system default"
    } else {
        name
    }
}

/// (name, description) of inputs and outputs.
type Names = Vec<(String, String)>;

#[cfg(feature = "device-audio")]
fn device_list() -> anyhow::Result<(Names, Names)> {
    let l = audio::devices::list()?;
    let names = |v: &[audio::devices::DeviceInfo]| {
        v.iter()
            .map(|d| (d.name.clone(), d.description.clone()))
            .collect()
    };
    Ok((names(&l.inputs), names(&l.outputs)))
}

#[cfg(not(feature = "device-audio"))]
fn device_list() -> anyhow::Result<(Names, Names)> {
    anyhow::bail!("this build has no device audio (the `device-audio` feature)")
}

/// The device to use: the flag's, else the user's pick from the list (the configured one
/// first as the default; "" is the system default).
fn choose(
    p: &mut Prompter,
    title: &str,
    devices: &[(String, String)],
    current: &str,
    flag: Option<&str>,
) -> anyhow::Result<String> {
    if let Some(f) = flag {
        p.say(format!("{title} {}", shown(f)));
        return Ok(f.to_string());
    }
    let mut options = vec!["the system default".to_string()];
    options.extend(devices.iter().map(|(n, d)| {
        if d.is_empty() || d == n {
            n.clone()
        } else {
            format!("{n} — {}", d.lines().next().unwrap_or(d))
        }
    }));
    let default = devices
        .iter()
        .position(|(n, _)| n == current)
        .map_or(0, |i| i + 1);
    let i = p.choose(title, &options, default)?;
    Ok(if i == 0 {
        String::new()
    } else {
        devices[i - 1].0.clone()
    })
}

fn play(cfg: &Config, clip: &Clip) -> anyhow::Result<()> {
    let mut sink = audio::open_sink(&cfg.audio)?;
    sink.play(clip)?;
    Ok(())
}

/// Records, shows the level, plays it back; true when the user is happy with it.
fn check_microphone(p: &mut Prompter, cfg: &Config) -> anyhow::Result<bool> {
    p.say(format!(
        "Recording {TEST_SECONDS:.0} s from {}: say something, e.g. \"Hey Jarvis, what time is it?\"",
        shown(&cfg.audio.input_device)
    ));
    let clip = match audio::open_source(&cfg.audio)
        .and_then(|mut s| sori::record(s.as_mut(), TEST_SECONDS))
    {
        Ok(c) => c,
        Err(e) => {
            p.say(format!("  could not record: {e}"));
            return Ok(p.assume_yes());
        }
    };
    let l = Level::of(&clip.samples);
    p.say(format!(
        "  level {} peak {:.0} dBFS, average {:.0} dBFS",
        l.bar(),
        l.peak_dbfs,
        l.rms_dbfs
    ));
    if let Some(advice) = l.advice() {
        p.say(format!("  {advice}"));
    }
    if cfg.audio.output != "null" {
        p.say("  Playing it back…");
        if let Err(e) = play(cfg, &clip) {
            p.say(format!("  could not play it back: {e}"));
        }
    }
    if p.assume_yes() {
        return Ok(true);
    }
    let default = l.peak_dbfs > SILENT_DBFS;
    p.yes("Did you hear yourself clearly?", default)
}

/// How loud a recording is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub peak_dbfs: f32,
    pub rms_dbfs: f32,
}

impl Level {
    pub fn of(samples: &[i16]) -> Level {
        let db = |x: f64| (20.0 * (x / 32768.0).max(1e-6).log10()) as f32;
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        let rms = (sum / samples.len().max(1) as f64).sqrt();
        Level {
            peak_dbfs: db(f64::from(peak)),
            rms_dbfs: db(rms),
        }
    }

    /// A 30-character meter of the peak from -60 to 0 dBFS.
    pub fn bar(&self) -> String {
        let n = (((self.peak_dbfs + 60.0) / 60.0).clamp(0.0, 1.0) * 30.0).round() as usize;
        format!("[{}{}]", "#".repeat(n), ".".repeat(30 - n))
    }

    pub fn advice(&self) -> Option<&'static str> {
        if self.peak_dbfs <= SILENT_DBFS {
            Some(
                "The microphone heard (almost) nothing: check it is plugged in and not muted \
                 (alsamixer, F4 shows capture), or pick another one.",
            )
        } else if self.peak_dbfs > -0.5 {
            Some("That clipped: turn the capture gain down a little (alsamixer, F4).")
        } else if self.peak_dbfs < -30.0 {
            Some("Quite quiet: Sori hears best from a few metres if the capture gain is higher.")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_advice() {
        let silent = Level::of(&[0; 1600]);
        assert!(silent.peak_dbfs < -100.0);
        assert!(silent.advice().unwrap().contains("not muted"));
        assert_eq!(silent.bar(), format!("[{}]", ".".repeat(30)));
        let tone: Vec<i16> = (0..1600)
            .map(|i| ((i as f32 * 0.1).sin() * 16384.0) as i16)
            .collect();
        let l = Level::of(&tone);
        assert!((l.peak_dbfs + 6.0).abs() < 0.5, "{l:?}");
        assert!((l.rms_dbfs + 9.0).abs() < 0.5, "{l:?}");
        assert!(l.advice().is_none());
        assert_eq!(l.bar().matches('#').count(), 27);
        assert!(
            Level::of(&[i16::MAX, 0])
                .advice()
                .unwrap()
                .contains("clipped")
        );
    }
}
