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
                println!("  (none) — make one with `sori wakeword record NAME` or `sori wakeword add NAME --samples …`");
            }
            for n in personal {
                println!("  {n}");
            }
            Ok(())
        }
        WakewordCommand::Test { files, json } => test(cfg, &files, json),
        WakewordCommand::Add { name, samples, force } => {
            let clips = samples
                .iter()
                .map(|f| Ok(audio::wav::load_16k_mono(f)?.iter().map(|&s| audio::f32_to_i16(s)).collect()))
                .collect::<anyhow::Result<Vec<Vec<i16>>>>()?;
            add(cfg, &name, &clips, force)
        }
        WakewordCommand::Record { name, count, seconds, force } => {
            check_name(cfg, &name, force)?;
            let mut src = audio::open_source(&cfg.audio)?;
            let mut clips = Vec::new();
            for i in 1..=count {
                eprintln!("[{i}/{count}] say the wake phrase now ({seconds} s)…");
                let clip = sori::record(src.as_mut(), seconds)?;
                let peak = clip.samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
                eprintln!("        recorded, peak level {:.0} %", peak as f32 / 327.68);
                clips.push(clip.samples);
            }
            add(cfg, &name, &clips, force)
        }
    }
}

fn check_name(cfg: &Config, name: &str, force: bool) -> anyhow::Result<PathBuf> {
    if name.is_empty() || name.contains(['/', '\\', '.']) || wake::PRETRAINED.iter().any(|(n, _)| *n == name) {
        anyhow::bail!("`{name}` cannot be a personal wake word name: use letters (any language), digits, - or _, not a pretrained name");
    }
    let file = wake::personal_dir(&cfg.state_dir()).join(format!("{name}.json"));
    if file.exists() && !force {
        anyhow::bail!("a wake word `{name}` already exists ({}); add --force to replace it", file.display());
    }
    Ok(file)
}

fn add(cfg: &Config, name: &str, clips: &[Vec<i16>], force: bool) -> anyhow::Result<()> {
    let file = check_name(cfg, name, force)?;
    let started = std::time::Instant::now();
    let mut features = wake::features::Features::load(&cfg.models_dir())?;
    let made = wake::personal::enroll(name, &mut features, clips)?;
    std::fs::create_dir_all(file.parent().expect("has parent"))
        .with_context(|| format!("creating {}", file.display()))?;
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string(&made)?).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &file)?;
    eprintln!(
        "made wake word `{name}` from {} recordings in {:.1} s (threshold {:.2}): {}",
        clips.len(),
        started.elapsed().as_secs_f32(),
        made.threshold,
        file.display()
    );
    eprintln!("use it: set wake.words = [\"{name}\"] in the config, or --set 'wake.words=[\"{name}\"]'");
    Ok(())
}

fn test(cfg: &Config, files: &[PathBuf], json: bool) -> anyhow::Result<()> {
    if files.is_empty() {
        anyhow::bail!("give WAV files to score");
    }
    let mut det = wake::load(cfg)?;
    for f in files {
        let pcm = audio::wav::load_16k_mono(f)?;
        // Half a second of silence on each side, as if the clip came in a stream.
        let mut samples = vec![0i16; 8000];
        samples.extend(pcm.iter().map(|&s| audio::f32_to_i16(s)));
        samples.resize(samples.len().div_ceil(wake::FRAME) * wake::FRAME + 8000usize.div_ceil(wake::FRAME) * wake::FRAME, 0);
        let mut best: Vec<(String, f32, u64)> = Vec::new();
        let mut detections = Vec::new();
        for (i, frame) in samples.chunks_exact(wake::FRAME).enumerate() {
            if let Some(d) = det.process(frame)? {
                detections.push((d.name, i as u64 * 80));
            }
            for (n, s) in det.scores() {
                match best.iter_mut().find(|(b, _, _)| *b == n) {
                    Some(b) if b.1 < s => *b = (n, s, i as u64 * 80),
                    Some(_) => {}
                    None => best.push((n, s, i as u64 * 80)),
                }
            }
        }
        if json {
            let scores: serde_json::Map<String, serde_json::Value> =
                best.iter().map(|(n, s, _)| (n.clone(), serde_json::json!(s))).collect();
            println!("{}", serde_json::json!({"file": f, "scores": scores, "detections": detections.len()}));
        } else {
            let parts: Vec<String> = best.iter().map(|(n, s, ms)| format!("{n} {s:.3} @{ms}ms")).collect();
            println!("{}\t{}\t{} detection(s)", f.display(), parts.join("  "), detections.len());
        }
    }
    Ok(())
}
