//! `sori skill new`: a working skill directory to start from.

use std::path::{Path, PathBuf};

pub const EXAMPLE_SENTENCE: &str = "roll a die";

/// Creates `parent/name` with a manifest, sentences, replies, fixtures and a handler.
///
/// # Errors
/// A bad name, an existing directory, or a write error.
pub fn create(parent: &Path, name: &str, lang: &str) -> std::io::Result<PathBuf> {
    let _ = (parent, name, lang);
    Err(std::io::Error::other("not yet"))
}
