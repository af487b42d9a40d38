//! Where setup writes the config and how: next to the old one (kept as `.bak`), atomically,
//! with the old file's owner and mode, or private for a new one (it may hold passwords).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The file to write: `--output`, else the config in use, else `/etc/sori/config.toml` for
/// root (the service's) or the user's own.
pub fn target(output: Option<&Path>, in_use: Option<&Path>) -> PathBuf {
    if let Some(o) = output.or(in_use) {
        return o.to_path_buf();
    }
    if is_root() {
        return PathBuf::from("/etc/sori/config.toml");
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("sori/config.toml")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Writes `text` to `path` through a temporary file and a rename. Returns the backup made of
/// the old file, if there was one.
pub fn config(path: &Path, text: &str) -> anyhow::Result<Option<PathBuf>> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let old = std::fs::metadata(path).ok();
    let tmp = path.with_extension("toml.new");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    let (mode, owner) = match &old {
        Some(m) => (m.mode() & 0o7777, Some((m.uid(), m.gid()))),
        None if path.starts_with("/etc") => (0o640, sori_group().map(|g| (0, g))),
        None => (0o600, None),
    };
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
    if let Some((uid, gid)) = owner {
        chown(&tmp, uid, gid);
    }
    let backup = if old.is_some() {
        let b = path.with_extension("toml.bak");
        std::fs::copy(path, &b).with_context(|| format!("keeping a copy as {}", b.display()))?;
        Some(b)
    } else {
        None
    };
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(backup)
}

/// The `sori` group made by the package, so the service can read a config root writes.
fn sori_group() -> Option<u32> {
    let group = std::fs::read_to_string("/etc/group").ok()?;
    group
        .lines()
        .find(|l| l.starts_with("sori:"))
        .and_then(|l| l.split(':').nth(2))
        .and_then(|g| g.parse().ok())
}

fn chown(path: &Path, uid: u32, gid: u32) {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return;
    };
    // SAFETY: a valid C string; failure (not root) leaves the file as it is.
    if unsafe { libc::chown(c.as_ptr(), uid, gid) } != 0 {
        tracing::debug!(path = %path.display(), "chown failed (not root?)");
    }
}

/// Gives `file` and its parent directories up to `state` the owner of `state`: root recording a
/// wake word into the service's state directory must leave files the `sori` user can replace.
pub fn owned_like(file: &Path, state: &Path) {
    let Ok(m) = std::fs::metadata(state) else {
        return;
    };
    if !is_root() || m.uid() == 0 {
        return;
    }
    let mut p = Some(file);
    while let Some(x) = p {
        if x == state || !x.starts_with(state) {
            break;
        }
        chown(x, m.uid(), m.gid());
        p = x.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_keeps_the_old_file_and_its_mode() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("sori/config.toml");
        assert_eq!(config(&path, "a = 1\n").unwrap(), None);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "new configs are private");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let bak = config(&path, "a = 2\n").unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(&bak).unwrap(), "a = 1\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 2\n");
        assert_eq!(mode(&path), 0o640);
        assert!(!path.with_extension("toml.new").exists());
    }

    #[test]
    fn the_target_is_the_flag_then_the_file_in_use() {
        let a = Path::new("/tmp/a.toml");
        let b = Path::new("/tmp/b.toml");
        assert_eq!(target(Some(a), Some(b)), a);
        assert_eq!(target(None, Some(b)), b);
    }
}
