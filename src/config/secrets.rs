//! Secrets in the config (passwords, tokens): which keys hold them, and a warning when the
//! file they are in can be read by every user. Their values are never logged.

use std::path::Path;

use super::Config;

/// Keys holding secrets that are set in `c` (their values are never logged).
pub fn secret_keys(c: &Config) -> Vec<String> {
    let mut keys = Vec::new();
    if !c.music.mpd.password.is_empty() {
        keys.push("music.mpd.password".to_string());
    }
    if !c.messaging.email.password.is_empty() {
        keys.push("messaging.email.password".to_string());
    }
    if !c.messaging.matrix.password.is_empty() {
        keys.push("messaging.matrix.password".to_string());
    }
    if !c.api.token.is_empty() {
        keys.push("api.token".to_string());
    }
    if !c.messaging.matrix.access_token.is_empty() {
        keys.push("messaging.matrix.access_token".to_string());
    }
    for (name, w) in &c.messaging.webhooks {
        if !w.headers.is_empty() {
            keys.push(format!("messaging.webhooks.{name}.headers"));
        }
    }
    keys
}

/// A warning when a config file with secrets in it can be read by every user.
pub(super) fn warning(path: &Path, c: &Config) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let keys = secret_keys(c);
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (!keys.is_empty() && mode & 0o004 != 0).then(|| {
        format!(
            "{} is readable by every user and holds secrets ({}); run `chmod 600 {}` (or `chmod 640` with the sori group), or move them to SORI_* environment variables",
            path.display(),
            keys.join(", "),
            path.display()
        )
    })
}
