//! `[music]`: where the music library is.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[music]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct MusicConfig {
    /// Directories scanned for music (MP3, FLAC, Ogg Vorbis/Opus, WAV, M4A/AAC), with their
    /// subdirectories. `~/` means the home directory.
    pub dirs: Vec<String>,
}

impl MusicConfig {
    pub fn dir_paths(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .map(|d| match (d.strip_prefix("~/"), std::env::var_os("HOME")) {
                (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
                _ => PathBuf::from(d),
            })
            .collect()
    }
}
