//! `sori ask` (text straight into understanding and the skills) and `sori skill new|test|list`.

use std::path::PathBuf;

use anyhow::Context;
use sori::config::Config;
use sori::skill::{fixtures, load, scaffold};

#[derive(clap::Args)]
pub struct AskArgs {
    /// What to ask. Several texts are turns of one conversation: `sori ask "set a timer" "5 minutes"`.
    #[arg(required = true)]
    pub text: Vec<String>,
    /// Language: en or ko. Default: Korean if the text has Hangul, else English.
    #[arg(long)]
    pub lang: Option<String>,
    /// One JSON object per turn: {"lang","intent","slots","reply","action","follow"}.
    #[arg(long)]
    pub json: bool,
    /// Also load the external skill in this directory (repeatable; adds to skills.dirs).
    #[arg(long = "skill", value_name = "DIR")]
    pub skills: Vec<PathBuf>,
    /// Only say what would be done: don't change the volume, drive MPD or deliver messages.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn ask(cfg: &Config, args: AskArgs) -> anyhow::Result<()> {
    let mut cfg = cfg.clone();
    cfg.skills
        .dirs
        .extend(args.skills.iter().map(|p| p.display().to_string()));
    let (db, problems) = load::open_db(&cfg)?;
    // MPD is reachable from here, so music commands drive it as they would by voice; the
    // built-in player lives in `sori run`.
    let player = (cfg.music.backend == "mpd").then(|| {
        std::sync::Arc::new(sori::music::mpd::Mpd::new(cfg.music.mpd.clone()))
            as sori::music::SharedPlayer
    });
    // Messages confirmed here are delivered from here (what is left queued, `sori run`
    // delivers later).
    let (outbox, inbox) = if args.dry_run {
        (None, None)
    } else {
        let backends = sori::messaging::Backends::from_config(&cfg);
        let inbox = backends.matrix().map(|mx| {
            std::sync::Arc::new(sori::messaging::matrix_inbox::MatrixInbox::new(
                mx,
                db.clone(),
                &cfg.messaging.contacts,
            ))
        });
        let outbox = sori::messaging::worker::Outbox::spawn(db.clone(), backends);
        (Some(outbox), inbox)
    };
    let services = sori::skill::builtin::Services {
        player: player.clone(),
        outbox,
        inbox,
        ..Default::default()
    };
    let (mut brain, problems) = load::from_config_with(&cfg, db, services, problems)?;
    for p in &problems {
        eprintln!("warning: {p}");
    }
    let mixer = sori::audio::mixer::Mixer::from_config(&cfg);
    for text in &args.text {
        let out = brain.ask(text, args.lang.as_deref());
        if let (Some(a), false) = (&out.action, args.dry_run) {
            act(a, &mixer, player.as_deref())?;
        }
        if args.json {
            println!("{}", serde_json::to_string(&out)?);
        } else {
            let slots: Vec<String> = out
                .slots
                .iter()
                .map(|(k, s)| format!("{k}={}", s.value.to_json()))
                .collect();
            let intent = out.intent.as_deref().unwrap_or("(not understood)");
            eprintln!("{intent} {}", slots.join(" "));
            if let Some(a) = &out.action {
                eprintln!("action: {}", serde_json::to_string(a)?);
            }
            println!("{}", out.reply);
        }
    }
    Ok(())
}

/// Does what a skill asked, where `sori ask` can: the volume (a running Sori picks it up) and
/// an MPD server.
fn act(
    a: &sori::skill::Action,
    mixer: &sori::audio::mixer::Mixer,
    player: Option<&dyn sori::music::Player>,
) -> anyhow::Result<()> {
    if let Some(change) = a.volume_change() {
        mixer.change(change)?;
    } else if let Some(c) = sori::music::Command::from_action(a) {
        match player {
            Some(p) => p.command(c).context("music")?,
            None => eprintln!("note: music plays in `sori run`; this only shows what it would do"),
        }
    }
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum SkillCommand {
    /// Make a new external skill directory that works as it is.
    New {
        /// Skill id: letters, digits, '_' or '-'.
        name: String,
        /// Language of the handler: python or shell.
        #[arg(long, default_value = "python")]
        lang: String,
        /// Where to create it (default: the current directory).
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// Run a skill's sentence fixtures (tests/<lang>/*.yaml) through the real recogniser and
    /// the skill's own program.
    Test { dir: PathBuf },
    /// List the skills and the intents they handle.
    List,
    /// Print the words and names the skills expect (what biases speech recognition).
    Vocabulary {
        #[arg(long, default_value = "en")]
        lang: String,
    },
}

pub fn run(cfg: &Config, cmd: SkillCommand) -> anyhow::Result<()> {
    match cmd {
        SkillCommand::New { name, lang, dir } => {
            let path = scaffold::create(&dir, &name, &lang)?;
            println!("Created {}. Try it:", path.display());
            println!("  sori skill test {}", path.display());
            println!(
                "  sori ask --skill {} \"{}\"",
                path.display(),
                scaffold::EXAMPLE_SENTENCE
            );
            Ok(())
        }
        SkillCommand::Test { dir } => test(cfg, &dir),
        SkillCommand::Vocabulary { lang } => {
            let (brain, _) = load::from_config(cfg)?;
            for w in brain.vocabulary(&lang) {
                println!("{w}");
            }
            Ok(())
        }
        SkillCommand::List => {
            let (brain, problems) = load::from_config(cfg)?;
            for (id, intents) in brain.registry.list() {
                println!("{id}: {}", intents.join(", "));
            }
            for p in problems {
                eprintln!("warning: {p}");
            }
            Ok(())
        }
    }
}

fn test(cfg: &Config, dir: &std::path::Path) -> anyhow::Result<()> {
    let persona = sori::persona::Persona::new(&cfg.persona)?;
    let mut brain = load::builtin_in_memory(persona)?;
    let id = load::add_external(&mut brain, dir)?;
    brain.responses.fixed = true;
    brain.persona.fixed = true;
    let cases = fixtures::load_dir(&dir.join("tests"))
        .with_context(|| format!("reading {}/tests", dir.display()))?;
    if cases.is_empty() {
        anyhow::bail!(
            "no fixtures in {}/tests/<lang>/*.yaml; see docs/skills.md",
            dir.display()
        );
    }
    let mut failed = 0;
    for c in &cases {
        match fixtures::check(&mut brain, c) {
            Ok(()) => println!("ok    [{}] {}", c.lang, c.sentence),
            Err(e) => {
                failed += 1;
                println!("FAIL  [{}] {}: {e}", c.lang, c.sentence);
            }
        }
    }
    println!(
        "skill {id}: {} passed, {failed} failed",
        cases.len() - failed
    );
    if failed > 0 {
        anyhow::bail!("{failed} of {} fixtures failed", cases.len());
    }
    Ok(())
}
