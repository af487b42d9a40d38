//! Builds the brain from config: the built-in skills and their embedded sentences, external
//! skills from `skills.dirs` (a broken one is reported and skipped; the rest keep working), and
//! Home Assistant's sentences for the intents the skills serve.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::brain::{Brain, Source};
use super::external::External;
use super::manifest::{self, SkillDir};
use super::{Registry, Responses, builtin, dialog};
use crate::config::Config;
use crate::intent::{Grammar, IntentError, data};
use crate::store::Store;

/// Where `sori models fetch` puts Home Assistant's intent data.
pub const HA_DIR: &str = "intents/home-assistant";
pub const LANGUAGES: [&str; 2] = ["en", "ko"];

/// The brain with built-in skills only, keeping state in `db`.
///
/// # Errors
/// Only if the embedded data is malformed (the fixture tests keep it well-formed).
pub fn builtin(
    persona: crate::persona::Persona,
    db: Arc<Mutex<Store>>,
) -> Result<Brain, IntentError> {
    builtin_with(persona, db, None)
}

/// [`builtin`] with the skills' settings from `cfg` (and the network); `None`: defaults, offline.
///
/// # Errors
/// As [`builtin`].
pub fn builtin_with(
    persona: crate::persona::Persona,
    db: Arc<Mutex<Store>>,
    cfg: Option<&Config>,
) -> Result<Brain, IntentError> {
    builtin_with_services(persona, db, cfg, builtin::Services::default())
}

/// [`builtin_with`], with the daemon's music player and message delivery thread.
///
/// # Errors
/// As [`builtin`].
pub fn builtin_with_services(
    persona: crate::persona::Persona,
    db: Arc<Mutex<Store>>,
    cfg: Option<&Config>,
    services: builtin::Services,
) -> Result<Brain, IntentError> {
    let mut registry = Registry::new();
    for s in builtin::skills(db.clone(), cfg, services) {
        registry.add(s).map_err(|e| IntentError::File {
            path: "built-in skills".into(),
            line: 0,
            msg: e.to_string(),
        })?;
    }
    let mut responses = Responses::new();
    for (lang, name, text) in builtin::RESPONSES {
        responses.add_yaml(
            &Path::new("assets/intents/responses").join(lang).join(name),
            text,
            lang,
        )?;
    }
    let mut brain = Brain::new(registry, responses, persona);
    brain.db = Some(db);
    for lang in LANGUAGES {
        let files = builtin::SENTENCES
            .iter()
            .filter(|(l, _, _)| *l == lang)
            .map(|(l, name, text)| {
                data::parse(
                    &Path::new("assets/intents/sentences").join(l).join(name),
                    (*text).to_string(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        brain.sources.push(Source {
            name: "built-in".into(),
            grammar: Grammar::build(lang, &files, &|_| true)?,
        });
    }
    brain.refresh_lists();
    Ok(brain)
}

/// The built-in brain with a state database that lasts as long as the process (tests,
/// `sori skill test`, benchmarks).
///
/// # Errors
/// As [`builtin`].
pub fn builtin_in_memory(persona: crate::persona::Persona) -> Result<Brain, IntentError> {
    let db = Store::memory().map_err(|e| IntentError::File {
        path: "state database".into(),
        line: 0,
        msg: e.to_string(),
    })?;
    builtin(persona, Arc::new(Mutex::new(db)))
}

/// The brain `sori run` and `sori ask` use. Problems with external skills are logged and
/// returned, never fatal.
///
/// # Errors
/// Only built-in data errors.
pub fn from_config(cfg: &Config) -> Result<(Brain, Vec<String>), IntentError> {
    let (db, problems) = open_db(cfg)?;
    from_config_with(cfg, db, builtin::Services::default(), problems)
}

/// The state database for `cfg`, or (with the problem reported) one in memory.
///
/// # Errors
/// Only if SQLite cannot even make a database in memory.
pub fn open_db(cfg: &Config) -> Result<(Arc<Mutex<Store>>, Vec<String>), IntentError> {
    let mut problems = Vec::new();
    let db = match Store::open(&cfg.state_dir()) {
        Ok(s) => s,
        Err(e) => {
            // Keep answering; timers then last only as long as the process.
            tracing::error!("{e}; timers will not survive a restart");
            problems.push(format!("{e}; timers will not survive a restart"));
            Store::memory().map_err(|e| IntentError::File {
                path: "state database".into(),
                line: 0,
                msg: e.to_string(),
            })?
        }
    };
    Ok((Arc::new(Mutex::new(db)), problems))
}

/// [`from_config`] on an open state database, with the daemon's services (music player,
/// message delivery).
///
/// # Errors
/// Only built-in data errors.
pub fn from_config_with(
    cfg: &Config,
    db: Arc<Mutex<Store>>,
    services: builtin::Services,
    mut problems: Vec<String>,
) -> Result<(Brain, Vec<String>), IntentError> {
    let persona = crate::persona::Persona::new(&cfg.persona).map_err(|e| IntentError::File {
        path: "persona".into(),
        line: 0,
        msg: e.to_string(),
    })?;
    let mut brain = builtin_with_services(persona, db, Some(cfg), services)?;
    brain.zone = super::zone::Zone::from_name(&cfg.location.timezone);
    brain.stt_hints = cfg.stt.initial_prompt.is_empty();
    brain.wake_phrases = cfg.wake.words.iter().map(|w| wake_phrase(w)).collect();
    for dir in manifest::discover(&cfg.skills.dirs) {
        if let Err(e) = add_external(&mut brain, &dir) {
            tracing::error!(dir = %dir.display(), "skill not loaded: {e}");
            problems.push(format!("skill in {}: {e}", dir.display()));
        }
    }
    if cfg.skills.home_assistant {
        add_home_assistant(&mut brain, &cfg.models_dir().join(HA_DIR));
    }
    Ok((brain, problems))
}

/// "hey_jarvis" (or `.../hey_jarvis_v0.1.onnx`) → "Hey Jarvis"; "소리야" stays as it is.
pub fn wake_phrase(name: &str) -> String {
    let name = if name.ends_with(".onnx") {
        Path::new(name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(name)
    } else {
        name
    };
    let version = |w: &str| w.starts_with('v') && w[1..].starts_with(|c: char| c.is_ascii_digit());
    name.split(['_', '-', ' '])
        .filter(|w| !w.is_empty() && !version(w))
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Loads Home Assistant's `<lang>.json` files from `dir` for the intents the skills serve.
pub fn add_home_assistant(brain: &mut Brain, dir: &Path) {
    for lang in LANGUAGES {
        let path = dir.join(format!("{lang}.json"));
        if !path.is_file() {
            tracing::debug!(path = %path.display(), "no Home Assistant sentences (sori models fetch --only intents)");
            continue;
        }
        let registry = &brain.registry;
        let keep = |i: &str| registry.serves(i) || i == dialog::CANCEL;
        match data::load(&path).and_then(|f| Grammar::build(lang, &[f], &keep)) {
            Ok(g) => brain.fallback.push(Source {
                name: "home-assistant".into(),
                grammar: g,
            }),
            Err(e) => tracing::warn!("Home Assistant sentences not loaded: {e}"),
        }
    }
}

/// Adds one external skill directory.
///
/// # Errors
/// Its manifest, sentences or responses are malformed, or its intents clash with another
/// skill's; the message names the file and line.
pub fn add_external(brain: &mut Brain, dir: &Path) -> Result<String, IntentError> {
    let skill = manifest::load(dir)?;
    let (grammars, intents) = compile(&skill)?;
    // Parsed before the skill is registered, so a bad file leaves no half-added skill.
    let mut responses = Responses::new();
    for (lang, path, text) in &skill.responses {
        responses.add_yaml(path, text, lang)?;
    }
    let id = skill.manifest.id.clone();
    let external = External::new(skill.manifest, PathBuf::from(&skill.dir), intents);
    brain
        .registry
        .add(Box::new(external))
        .map_err(|e| IntentError::File {
            path: dir.join(manifest::FILE).display().to_string(),
            line: 0,
            msg: e.to_string(),
        })?;
    brain.responses.merge(responses);
    for g in grammars {
        brain.sources.push(Source {
            name: id.clone(),
            grammar: g,
        });
    }
    tracing::info!(skill = %id, dir = %dir.display(), "external skill loaded");
    Ok(id)
}

/// A skill's grammars per language and the intents it handles.
///
/// # Errors
/// Malformed sentences, or a manifest naming intents its sentences lack.
pub fn compile(skill: &SkillDir) -> Result<(Vec<Grammar>, Vec<String>), IntentError> {
    let mut grammars = Vec::new();
    let mut found: Vec<String> = Vec::new();
    for (lang, files) in &skill.sentences {
        let g = Grammar::build(lang, files, &|_| true)?;
        found.extend(g.intents().into_iter().map(str::to_string));
        grammars.push(g);
    }
    found.sort();
    found.dedup();
    let intents = if skill.manifest.intents.is_empty() {
        found
    } else {
        skill.manifest.intents.clone()
    };
    Ok((grammars, intents))
}

#[cfg(test)]
mod tests {
    use super::wake_phrase;

    #[test]
    fn wake_word_names_become_phrases() {
        assert_eq!(wake_phrase("hey_jarvis"), "Hey Jarvis");
        assert_eq!(wake_phrase("/m/hey_mycroft_v0.1.onnx"), "Hey Mycroft");
        assert_eq!(wake_phrase("소리야"), "소리야");
        assert_eq!(wake_phrase("alexa"), "Alexa");
    }
}
