//! `sori skill new`: a working skill directory to start from (a dice roller in English and
//! Korean, with fixtures), with its handler in Python or shell.

use std::path::{Path, PathBuf};

pub const EXAMPLE_SENTENCE: &str = "roll a one sided die";

const FILES: &[(&str, &str)] = &[
    (
        "skill.toml",
        include_str!("../../assets/skill-template/skill.toml"),
    ),
    (
        "README.md",
        include_str!("../../assets/skill-template/README.md"),
    ),
    (
        "sentences/en/dice.yaml",
        include_str!("../../assets/skill-template/sentences/en/dice.yaml"),
    ),
    (
        "sentences/ko/dice.yaml",
        include_str!("../../assets/skill-template/sentences/ko/dice.yaml"),
    ),
    (
        "tests/en/dice.yaml",
        include_str!("../../assets/skill-template/tests/en/dice.yaml"),
    ),
    (
        "tests/ko/dice.yaml",
        include_str!("../../assets/skill-template/tests/ko/dice.yaml"),
    ),
];
const PYTHON: &str = include_str!("../../assets/skill-template/main.py");
const SHELL: &str = include_str!("../../assets/skill-template/main.sh");

/// Creates `parent/name`.
///
/// # Errors
/// A bad name or handler language, an existing directory, or a write error.
pub fn create(parent: &Path, name: &str, lang: &str) -> std::io::Result<PathBuf> {
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(bad(format!(
            "skill name \"{name}\": use letters, digits, '_' or '-'"
        )));
    }
    let (handler, body, command) = match lang {
        "python" | "py" => ("main.py", PYTHON, r#"["python3", "main.py"]"#),
        "shell" | "sh" => ("main.sh", SHELL, r#"["sh", "main.sh"]"#),
        other => return Err(bad(format!("--lang {other}: python or shell"))),
    };
    let dir = parent.join(name);
    if dir.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists", dir.display()),
        ));
    }
    for (rel, text) in FILES.iter().copied().chain([(handler, body)]) {
        let path = dir.join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)?;
        }
        let text = text
            .replace("{id}", name)
            .replace("{command}", command)
            .replace("{handler}", handler);
        std::fs::write(&path, text)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join(handler), std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(dir)
}
