//! `sori setup`: the guided first run for an installer at the device's terminal. It asks for
//! the language, speaker and microphone (checked by ear), wake word, location, time zone, music
//! and contacts, writes them into the commented config (the old one kept as `.bak`) and ends
//! with `sori doctor`. Every question has a flag, and `--yes` takes the defaults for the rest,
//! so a scripted install runs it unattended.

mod audio;
mod choices;
mod contacts;
mod place;
mod prompt;
pub mod write;

use std::path::{Path, PathBuf};

use anyhow::Context;
use sori::config::{self, edit};

use contacts::ContactFlag;
use prompt::Prompter;

#[derive(clap::Args)]
pub struct SetupArgs {
    /// Take the default for every question a flag does not answer (scripted installs).
    #[arg(short, long)]
    yes: bool,
    /// Write the config here (default: the config in use, else /etc/sori/config.toml when run
    /// as root, else ~/.config/sori/config.toml).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the config instead of writing it (no doctor).
    #[arg(long)]
    dry_run: bool,
    /// The language spoken to Sori: en, ko, or auto (both).
    #[arg(long, value_parser = ["en", "ko", "auto"])]
    language: Option<String>,
    /// Capture device, as `sori devices` names it ("" for the system default).
    #[arg(long, value_name = "NAME")]
    input_device: Option<String>,
    /// Playback device, as `sori devices` names it ("" for the system default).
    #[arg(long, value_name = "NAME")]
    output_device: Option<String>,
    /// Skip the chime, the 3 s recording and its playback.
    #[arg(long)]
    no_audio_test: bool,
    /// Wake word: pretrained (hey_jarvis, alexa, …) or personal (repeatable).
    #[arg(long = "wake-word", value_name = "NAME")]
    wake_words: Vec<String>,
    /// City or town, looked up for its coordinates and time zone.
    #[arg(long, value_name = "NAME")]
    city: Option<String>,
    /// Coordinates instead of a lookup (degrees, north positive).
    #[arg(long, requires = "longitude", allow_hyphen_values = true)]
    latitude: Option<f64>,
    /// Degrees, east positive.
    #[arg(long, requires = "latitude", allow_hyphen_values = true)]
    longitude: Option<f64>,
    /// IANA time zone, e.g. Asia/Seoul (default: the place's, else the system's).
    #[arg(long, value_name = "TZ")]
    timezone: Option<String>,
    /// A music folder (repeatable).
    #[arg(long = "music", value_name = "DIR")]
    music: Vec<PathBuf>,
    /// A contact: NAME[|ALIAS…]=BACKEND:ADDRESS, e.g. 'Mom|엄마=email:mom@example.com'
    /// (repeatable).
    #[arg(long = "contact", value_name = "CONTACT", value_parser = contacts::parse_contact)]
    contacts: Vec<ContactFlag>,
    /// Any other config key to write, e.g. messaging.email.smtp_host=smtp.example.com
    /// (repeatable).
    #[arg(long = "write", value_name = "KEY=VALUE")]
    writes: Vec<String>,
    /// Don't run `sori doctor` at the end.
    #[arg(long)]
    no_doctor: bool,
}

const STEPS: usize = 6;

/// `config_flag` is `--config`; `env` and `sets` are the `SORI_*` variables and `--set`s.
pub fn run(
    args: SetupArgs,
    config_flag: Option<&Path>,
    env: &[(String, String)],
    sets: &[String],
) -> anyhow::Result<()> {
    let writes: Vec<edit::Setting> = args
        .writes
        .iter()
        .map(|w| {
            let (k, v) = w
                .split_once('=')
                .with_context(|| format!("--write {w}: use KEY=VALUE"))?;
            Ok(edit::Setting::new(k.trim(), edit::value_source(v.trim())))
        })
        .collect::<anyhow::Result<_>>()?;
    // Defaults come from the file being rewritten (else the config in use), with the --write
    // values: the answers start from what is there.
    let in_use = config_flag
        .map(Path::to_path_buf)
        .or_else(config::default_path);
    let target = write::target(args.output.as_deref(), in_use.as_deref());
    let source = if target.is_file() {
        Some(target.clone())
    } else {
        in_use
    };
    let mut with_writes = sets.to_vec();
    with_writes.extend(args.writes.iter().cloned());
    let loaded = config::load(source.as_deref(), env, &with_writes).with_context(|| {
        format!(
            "{} has an error: fix it, or start afresh with `sori setup --output NEW.toml`",
            source
                .as_deref()
                .map_or("the config".into(), |p| p.display().to_string())
        )
    })?;
    let template = match std::fs::read_to_string(&target) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => config::EXAMPLE.to_string(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", target.display())),
    };
    let mut cfg = loaded.config;
    let mut p = Prompter::stdin(args.yes);
    p.say(format!(
        "Sori setup. Answers go to {}.\nEnter takes the [default]; Ctrl-C stops without writing anything.",
        target.display()
    ));

    let mut settings = Vec::new();
    p.step(1, STEPS, "Language");
    let (naming, s) = choices::language(&mut p, &mut cfg, args.language.as_deref())?;
    settings.extend(s);

    p.step(2, STEPS, "Speaker and microphone");
    let flags = audio::AudioFlags {
        input_device: args.input_device.as_deref(),
        output_device: args.output_device.as_deref(),
        test: !args.no_audio_test,
    };
    settings.extend(audio::run(&mut p, &mut cfg, &flags)?);

    p.step(3, STEPS, "Wake word");
    settings.extend(choices::wake_word(&mut p, &cfg, &args.wake_words)?);

    p.step(4, STEPS, "Location and time zone");
    let flags = place::PlaceFlags {
        city: args.city.as_deref(),
        coordinates: args.latitude.zip(args.longitude),
        timezone: args.timezone.as_deref(),
    };
    settings.extend(place::run(&mut p, &cfg, &flags, &naming)?);

    p.step(5, STEPS, "Music");
    settings.extend(choices::music(&mut p, &cfg, &args.music)?);

    p.step(6, STEPS, "Contacts");
    settings.extend(contacts::run(&mut p, &mut cfg, &args.contacts)?);

    settings.extend(writes);
    let text = edit::apply(&template, &settings)?;
    // The file must load exactly as `sori run` will load it.
    let table: toml::Table = toml::from_str(&text).context("the new config")?;
    let (checked, warnings) = config::from_table(table, &target.display().to_string())?;
    checked.validate()?;
    for w in &warnings {
        p.say(format!("warning: {w}"));
    }
    if args.dry_run {
        print!("{text}");
        return Ok(());
    }
    let backup = write::config(&target, &text)?;
    p.say(format!(
        "\nWrote {} ({} settings){}.",
        target.display(),
        settings.len(),
        backup
            .map(|b| format!("; the old file is {}", b.display()))
            .unwrap_or_default()
    ));
    if args.no_doctor {
        return Ok(());
    }
    p.say("\nChecking everything with `sori doctor`:");
    let reloaded = config::load(Some(&target), env, sets)?;
    let checks = sori::doctor::run(
        &reloaded.config,
        &target.display().to_string(),
        &reloaded.warnings,
        1.0,
        !args.no_audio_test,
    );
    let failed = super::doctor::print(&checks);
    if failed > 0 {
        anyhow::bail!(
            "the config is written, but {failed} check(s) failed: fix what they name, then run \
             `sori doctor` again"
        );
    }
    p.say(if target.starts_with("/etc") {
        "\nAll good. Start Sori now and at every boot: sudo systemctl enable --now sori"
    } else {
        "\nAll good. Start Sori: sori run"
    });
    Ok(())
}
