//! `sori wakeword …`: list, test, add and record wake words.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use sori::audio;
use sori::config::Config;
use sori::wake::{self, WakeWord};

#[derive(Subcommand)]
pub enum WakewordCommand {
    /// List the pretrained and personal wake words and which are configured.
    List,
    /// Score WAV files with the configured wake words: the best score and when, per file.
    Test {
        files: Vec<PathBuf>,
        /// One JSON object per file.
        #[arg(long)]
        json: bool,
        /// Apply the second stage (whisper confirms borderline detections), as `sori run` does
        /// with `wake.verify = true`.
        #[arg(long)]
        verify: bool,
        /// Also run the VAD on every frame, as the always-on loop does (for CPU measurements).
        #[arg(long)]
        vad: bool,
    },
    /// Make a personal wake word (any language) from 3-8 recordings of the phrase.
    Add {
        /// Its name, e.g. `soriya`; then use it with `--set wake.words='["soriya"]'`.
        name: String,
        /// WAV files, each one clear recording of the phrase.
        #[arg(long, num_args = 1.., required = true)]
        samples: Vec<PathBuf>,
        /// Replace an existing wake word of that name.
        #[arg(long)]
        force: bool,
    },
    /// Record the phrase from the microphone several times, then make it a personal wake word.
    Record {
        name: String,
        /// How many recordings (3-8).
        #[arg(long, default_value_t = 4)]
        count: usize,
        /// Seconds per recording.
        #[arg(long, default_value_t = 2.5)]
        seconds: f32,
        #[arg(long)]
        force: bool,
    },
}

pub fn run(cfg: &Config, cmd: WakewordCommand) -> anyhow::Result<()> {
    match cmd {
        WakewordCommand::List => {
            let state = cfg.state_dir();
            println!("configured: {}", cfg.wake.words.join(", "));
            println!("pretrained (openWakeWord, CC BY-NC-SA 4.0):");
            for (n, _) in wake::PRETRAINED {
                println!("  {n}");
            }
            let personal = wake::personal_names(&state);
            println!("personal (in {}):", wake::personal_dir(&state).display());
            if personal.is_empty() {
                println!(
                    "  (none) — make one with `sori wakeword record NAME` or `sori wakeword add NAME --samples …`"
                );
            }
            for n in personal {
                println!("  {n}");
            }
            Ok(())
        }
        WakewordCommand::Test {
            files,
            json,
            verify,
            vad,
        } => test(cfg, &files, json, verify, vad),
        WakewordCommand::Add {
            name,
            samples,
            force,
        } => {
            let clips = samples
                .iter()
                .map(|f| {
                    Ok(audio::wav::load_16k_mono(f)?
                        .iter()
                        .map(|&s| audio::f32_to_i16(s))
                        .collect())
                })
                .collect::<anyhow::Result<Vec<Vec<i16>>>>()?;
            add(cfg, &name, &clips, force).map(drop)
        }
        WakewordCommand::Record {
            name,
            count,
            seconds,
            force,
        } => {
            check_name(cfg, &name, force)?;
            let clips = record_clips(cfg, count, seconds)?;
            add(cfg, &name, &clips, force).map(drop)
        }
    }
}

/// Records the phrase `count` times from the configured microphone, showing each level.
pub(crate) fn record_clips(
    cfg: &Config,
    count: usize,
    seconds: f32,
) -> anyhow::Result<Vec<Vec<i16>>> {
    let mut src = audio::open_source(&cfg.audio)?;
    let mut clips = Vec::new();
    for i in 1..=count {
        eprintln!("[{i}/{count}] say the wake phrase now ({seconds} s)…");
        let clip = sori::record(src.as_mut(), seconds)?;
        let peak = clip
            .samples
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0);
        eprintln!("        recorded, peak level {:.0} %", peak as f32 / 327.68);
        clips.push(clip.samples);
    }
    Ok(clips)
}

pub(crate) fn check_name(cfg: &Config, name: &str, force: bool) -> anyhow::Result<PathBuf> {
    if name.is_empty()
        || name.contains(['/', '\\', '.'])
        || wake::PRETRAINED.iter().any(|(n, _)| *n == name)
    {
        anyhow::bail!(
            "`{name}` cannot be a personal wake word name: use letters (any language), digits, - or _, not a pretrained name"
        );
    }
    let file = wake::personal_dir(&cfg.state_dir()).join(format!("{name}.json"));
    if file.exists() && !force {
        anyhow::bail!(
            "a wake word `{name}` already exists ({}); add --force to replace it",
            file.display()
        );
    }
    Ok(file)
}

pub(crate) fn add(
    cfg: &Config,
    name: &str,
    clips: &[Vec<i16>],
    force: bool,
) -> anyhow::Result<PathBuf> {
    let file = check_name(cfg, name, force)?;
    let started = std::time::Instant::now();
    let mut features = wake::features::Features::load(&cfg.models_dir())?;
    let made = wake::personal::enroll(name, &mut features, clips)?;
    std::fs::create_dir_all(file.parent().expect("has parent"))
        .with_context(|| format!("creating {}", file.display()))?;
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string(&made)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &file)?;
    eprintln!(
        "made wake word `{name}` from {} recordings in {:.1} s (threshold {:.2}): {}",
        clips.len(),
        started.elapsed().as_secs_f32(),
        made.threshold,
        file.display()
    );
    eprintln!(
        "use it: set wake.words = [\"{name}\"] in the config, or --set 'wake.words=[\"{name}\"]'"
    );
    Ok(file)
}

fn test(
    cfg: &Config,
    files: &[PathBuf],
    json: bool,
    verify: bool,
    with_vad: bool,
) -> anyhow::Result<()> {
    use sori::stt::Stt;
    use sori::vad::Vad;
    if files.is_empty() {
        anyhow::bail!("give WAV files to score");
    }
    let mut det = wake::load(cfg)?;
    let mut vad = if with_vad {
        Some(sori::vad::SileroVad::load(&cfg.models_dir())?)
    } else {
        None
    };
    let mut stt = if verify {
        Some(sori::load_stt(cfg)?)
    } else {
        None
    };
    // A second of silence on each side, as if the clip came in a stream; more than the
    // classifier's 1.3 s window separates one file from the next.
    let pad = 16_000usize.div_ceil(wake::FRAME) * wake::FRAME;
    for f in files {
        let pcm = audio::wav::load_16k_mono(f)?;
        let mut samples = vec![0i16; pad];
        samples.extend(pcm.iter().map(|&s| audio::f32_to_i16(s)));
        samples.resize(samples.len().div_ceil(wake::FRAME) * wake::FRAME + pad, 0);
        let mut best: Vec<(String, f32, u64)> = Vec::new();
        let mut detections = Vec::new();
        let mut confirmed = 0;
        // As in `sori run`: a detection within the refractory period of the last one is the same wake.
        let refractory = (cfg.wake.refractory_ms as usize).div_ceil(80);
        let mut last: Option<usize> = None;
        for (i, frame) in samples.chunks_exact(wake::FRAME).enumerate() {
            if let Some(v) = vad.as_mut() {
                v.process(frame)?;
            }
            if let Some(d) = det.process(frame)?
                && last.is_none_or(|l| i - l > refractory)
            {
                last = Some(i);
                let mut ok = true;
                if let (Some(stt), Some(key)) = (stt.as_mut(), wake::verify::key_word(&d.name))
                    && d.score < wake::verify::CONFIDENT
                {
                    let end = (i + 1) * wake::FRAME;
                    let start = end.saturating_sub(25 * wake::FRAME);
                    let clip = audio::i16_to_f32(&samples[start..end]);
                    let t =
                        stt.transcribe_prompted(&clip, Some("en"), &wake::verify::prompt(key))?;
                    ok = wake::verify::heard(key, &t.text);
                    tracing::debug!(file = %f.display(), heard = %t.text, ok, "second stage");
                }
                confirmed += usize::from(ok);
                detections.push((d.name, d.score, ok));
            }
            // When the peak score came, in the file's own time (the frame's end, less the
            // padding in front).
            let at_ms = ((i + 1) * wake::FRAME).saturating_sub(pad) as u64 * 1000 / 16_000;
            for (n, s) in det.scores() {
                match best.iter_mut().find(|(b, _, _)| *b == n) {
                    Some(b) if b.1 < s => *b = (n, s, at_ms),
                    Some(_) => {}
                    None => best.push((n, s, at_ms)),
                }
            }
        }
        if json {
            let scores: serde_json::Map<String, serde_json::Value> = best
                .iter()
                .map(|(n, s, _)| (n.clone(), serde_json::json!(s)))
                .collect();
            let list: Vec<serde_json::Value> = detections
                .iter()
                .map(|(n, s, ok)| serde_json::json!({"name": n, "score": s, "confirmed": ok}))
                .collect();
            println!(
                "{}",
                serde_json::json!({"file": f, "scores": scores, "detections": detections.len(), "confirmed": confirmed, "list": list})
            );
        } else {
            let parts: Vec<String> = best
                .iter()
                .map(|(n, s, ms)| format!("{n} {s:.3} @{ms}ms"))
                .collect();
            let conf = if verify {
                format!(", {confirmed} confirmed")
            } else {
                String::new()
            };
            println!(
                "{}\t{}\t{} detection(s){conf}",
                f.display(),
                parts.join("  "),
                detections.len()
            );
        }
    }
    Ok(())
}
