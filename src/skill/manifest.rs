//! An external skill's directory: `skill.toml` (id, command, timeout, intents, descriptions),
//! `sentences/<lang>/*.yaml`, `responses/<lang>/*.yaml` and its fixtures in `tests/<lang>/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::intent::IntentError;
use crate::intent::data::{self, Loaded};

pub const FILE: &str = "skill.toml";

/// `skill.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Unique id (letters, digits, `_`, `-`).
    pub id: String,
    /// The program and its arguments, run in the skill's directory: `["python3", "main.py"]`.
    pub command: Vec<String>,
    /// How long one answer may take before the skill is stopped and restarted.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// The intents it handles; empty means every intent in its sentence files.
    #[serde(default)]
    pub intents: Vec<String>,
    /// What it does, per language, for "what can you do" ("tell jokes", "농담하기").
    #[serde(default)]
    pub description: BTreeMap<String, String>,
    /// Extra environment for the command.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

fn default_timeout() -> u64 {
    5000
}

/// A loaded skill directory.
pub struct SkillDir {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// Sentence files per language.
    pub sentences: BTreeMap<String, Vec<Loaded>>,
    /// Reply files: (language, path, text).
    pub responses: Vec<(String, PathBuf, String)>,
}

/// Reads a skill directory.
///
/// # Errors
/// A missing or malformed `skill.toml` or sentence file, naming the file and line.
pub fn load(dir: &Path) -> Result<SkillDir, IntentError> {
    let path = dir.join(FILE);
    let err = |line: usize, msg: String| IntentError::File {
        path: path.display().to_string(),
        line,
        msg,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| err(0, e.to_string()))?;
    let manifest: Manifest = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        err(line, e.message().to_string())
    })?;
    if manifest.id.is_empty()
        || !manifest
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(err(
            1,
            format!("id \"{}\" must be letters, digits, '_' or '-'", manifest.id),
        ));
    }
    if manifest.command.is_empty() {
        return Err(err(
            1,
            "command is empty; e.g. command = [\"python3\", \"main.py\"]".into(),
        ));
    }
    let mut sentences = BTreeMap::new();
    let mut responses = Vec::new();
    for lang_dir in subdirs(&dir.join("sentences")) {
        let lang = name_of(&lang_dir);
        let files = data::files_in(&lang_dir)
            .iter()
            .map(|f| data::load(f))
            .collect::<Result<Vec<_>, _>>()?;
        sentences.insert(lang, files);
    }
    for lang_dir in subdirs(&dir.join("responses")) {
        let lang = name_of(&lang_dir);
        for f in data::files_in(&lang_dir) {
            let text = std::fs::read_to_string(&f).map_err(|e| IntentError::File {
                path: f.display().to_string(),
                line: 0,
                msg: e.to_string(),
            })?;
            responses.push((lang.clone(), f, text));
        }
    }
    if sentences.is_empty() {
        return Err(err(
            0,
            format!(
                "no sentences: add {}/sentences/en/{}.yaml",
                dir.display(),
                manifest.id
            ),
        ));
    }
    Ok(SkillDir {
        dir: dir.to_path_buf(),
        manifest,
        sentences,
        responses,
    })
}

/// Skill directories under `roots`: a root with a `skill.toml` is one skill, otherwise each
/// subdirectory that has one.
pub fn discover(roots: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in roots {
        let root = Path::new(root);
        if root.join(FILE).is_file() {
            out.push(root.to_path_buf());
        } else if root.is_dir() {
            out.extend(subdirs(root).into_iter().filter(|d| d.join(FILE).is_file()));
        } else {
            tracing::warn!(dir = %root.display(), "skills directory does not exist (skills.dirs)");
        }
    }
    out
}

/// Subdirectories of `dir`, sorted (none if it does not exist).
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
