//! Setup's smaller steps: the language, the wake word (or recording a personal one) and the
//! music folders.

use std::path::{Path, PathBuf};

use sori::config::Config;
use sori::config::edit::{Setting, string, strings};
use sori::wake;

use super::prompt::Prompter;

const LANGUAGES: [(&str, &str); 3] = [
    ("en", "English"),
    ("ko", "한국어 (Korean)"),
    ("auto", "both: English and Korean, detected per command"),
];

/// `stt.language`; returns the language the other steps should name things in.
pub fn language(
    p: &mut Prompter,
    cfg: &mut Config,
    flag: Option<&str>,
) -> anyhow::Result<(String, Vec<Setting>)> {
    let code = match flag {
        Some(f) => {
            if !LANGUAGES.iter().any(|(c, _)| *c == f) {
                anyhow::bail!("--language {f}: use en, ko or auto");
            }
            p.say(format!("Language: {f}"));
            f.to_string()
        }
        None => {
            let options: Vec<String> = LANGUAGES.iter().map(|(_, n)| n.to_string()).collect();
            let default = LANGUAGES
                .iter()
                .position(|(c, _)| *c == cfg.stt.language)
                .unwrap_or(2);
            let i = p.choose("Which language will you speak to Sori?", &options, default)?;
            LANGUAGES[i].0.to_string()
        }
    };
    cfg.stt.language = code.clone();
    let naming = if code == "ko" { "ko" } else { "en" };
    Ok((
        naming.to_string(),
        vec![Setting::new("stt.language", string(&code))],
    ))
}

/// `wake.words`: a pretrained or personal wake word, or a new personal one recorded now.
pub fn wake_word(p: &mut Prompter, cfg: &Config, flags: &[String]) -> anyhow::Result<Vec<Setting>> {
    let state = cfg.state_dir();
    let personal = wake::personal_names(&state);
    let known = |w: &str| {
        wake::PRETRAINED.iter().any(|(n, _)| *n == w)
            || personal.iter().any(|n| n == w)
            || (w.ends_with(".onnx") && Path::new(w).is_file())
    };
    if !flags.is_empty() {
        if let Some(bad) = flags.iter().find(|w| !known(w)) {
            anyhow::bail!(
                "--wake-word {bad}: not a pretrained wake word ({}), a personal one in {} or an \
                 .onnx file; make it first with `sori wakeword record {bad}`",
                wake::PRETRAINED.map(|(n, _)| n).join(", "),
                wake::personal_dir(&state).display()
            );
        }
        p.say(format!("Wake words: {}", flags.join(", ")));
        return Ok(vec![Setting::new("wake.words", strings(flags))]);
    }
    if cfg.stt.language == "ko" {
        p.say(
            "The ready-made wake words are English phrases. For a Korean one, record your own \
             (e.g. 소리야): the last option.",
        );
    }
    let mut names: Vec<String> = wake::PRETRAINED
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    names.extend(personal.iter().cloned());
    let mut options: Vec<String> = names
        .iter()
        .map(|n| {
            if personal.contains(n) {
                format!("{n} (personal)")
            } else {
                format!("{n} (\"{}\")", sori::skill::load::wake_phrase(n))
            }
        })
        .collect();
    options.push("record a personal wake word (any language)".into());
    let current = cfg.wake.words.first().map(String::as_str).unwrap_or("");
    let default = names.iter().position(|n| n == current).unwrap_or(0);
    loop {
        let i = p.choose("Wake word:", &options, default)?;
        if i < names.len() {
            return Ok(vec![Setting::new("wake.words", strings(&[&names[i]]))]);
        }
        match record(p, cfg) {
            Ok(name) => return Ok(vec![Setting::new("wake.words", strings(&[name]))]),
            Err(e) => p.say(format!("  {e:#}")),
        }
    }
}

/// Records a personal wake word with the chosen microphone; its name on success.
fn record(p: &mut Prompter, cfg: &Config) -> anyhow::Result<String> {
    let name = p.ask_valid("Its name (letters, digits, - or _; e.g. soriya)", "", |a| {
        crate::cli::wakeword::check_name(cfg, a, true)
            .map(|_| a.to_string())
            .map_err(|e| e.to_string())
    })?;
    let replace = wake::personal_names(&cfg.state_dir()).contains(&name);
    if replace && !p.yes(&format!("Replace the existing `{name}`?"), false)? {
        anyhow::bail!("kept the existing `{name}`; choose it from the list");
    }
    p.say("Say the phrase once per recording, as you would to call Sori.");
    let clips = crate::cli::wakeword::record_clips(cfg, 4, 2.5)?;
    let file = crate::cli::wakeword::add(cfg, &name, &clips, true)?;
    super::write::owned_like(&file, &cfg.state_dir());
    Ok(name)
}

/// `music.dirs`: folders that exist, with how many audio files they hold.
pub fn music(p: &mut Prompter, cfg: &Config, flags: &[PathBuf]) -> anyhow::Result<Vec<Setting>> {
    if cfg.music.backend == "mpd" {
        p.say("music.backend is `mpd`: MPD's own library is used, no folder needed.");
        return Ok(Vec::new());
    }
    let dirs: Vec<String> = if flags.is_empty() {
        let default = cfg.music.dirs.first().cloned().unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join("Music"))
                .filter(|d| d.is_dir())
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        });
        let d = p.ask_valid("Music folder (empty: none)", &default, |a| {
            if a.is_empty() {
                return Ok(None);
            }
            let path = expand(a);
            if path.is_dir() {
                Ok(Some(a.to_string()))
            } else {
                Err(format!("{} is not a folder", path.display()))
            }
        })?;
        d.into_iter().collect()
    } else {
        for f in flags {
            if !f.is_dir() {
                anyhow::bail!("--music {}: not a folder", f.display());
            }
        }
        flags.iter().map(|f| f.display().to_string()).collect()
    };
    for d in &dirs {
        let n = sori::music::library::audio_files(&expand(d)).len();
        p.say(format!(
            "  {d}: {n} audio files{}",
            if n == 0 {
                " (MP3, FLAC, Ogg, WAV, M4A are played; add some later)"
            } else {
                "; Sori indexes them when it starts (or run `sori music scan`)"
            }
        ));
    }
    Ok(vec![Setting::new("music.dirs", strings(&dirs))])
}

fn expand(d: &str) -> PathBuf {
    match (d.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(d),
    }
}
