//! `[music]`: where the music is and what plays it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[music]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct MusicConfig {
    /// Directories scanned for music (MP3, FLAC, Ogg Vorbis/Opus, WAV, M4A/AAC), with their
    /// subdirectories. `~/` means the home directory.
    pub dirs: Vec<String>,
    /// `local`: Sori plays the library itself on its speaker. `mpd`: voice commands drive an
    /// MPD server (`[music.mpd]`) and search its database.
    pub backend: String,
    /// Rescan `dirs` when the daemon starts (only changed files are read).
    pub scan_on_start: bool,
    /// `[music.mpd]`
    pub mpd: MpdConfig,
    /// `[music.stations]`: internet radio, name = URL (a stream, or an .m3u/.pls playlist).
    /// "Play <name>" plays it.
    pub stations: BTreeMap<String, String>,
}

impl Default for MusicConfig {
    fn default() -> Self {
        MusicConfig {
            dirs: Vec::new(),
            backend: "local".into(),
            scan_on_start: true,
            mpd: MpdConfig::default(),
            stations: BTreeMap::new(),
        }
    }
}

/// `[music.mpd]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct MpdConfig {
    pub host: String,
    pub port: u16,
    /// MPD's password, if it has one; empty: `SORI_MPD_PASSWORD`, else none.
    pub password: String,
    /// How long to wait for MPD before giving up on a command.
    pub timeout_ms: u64,
}

impl Default for MpdConfig {
    fn default() -> Self {
        MpdConfig {
            host: "127.0.0.1".into(),
            port: 6600,
            password: String::new(),
            timeout_ms: 2000,
        }
    }
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

impl MusicConfig {
    pub(super) fn validate(&self) -> Result<(), super::ConfigError> {
        if !["local", "mpd"].contains(&self.backend.as_str()) {
            return Err(super::invalid(
                "music.backend",
                format!(
                    "unknown backend `{}`; use `local` (Sori plays music itself) or `mpd`",
                    self.backend
                ),
            ));
        }
        if self.mpd.host.is_empty() {
            return Err(super::invalid(
                "music.mpd.host",
                "empty; use the MPD server's host name or address (default 127.0.0.1)",
            ));
        }
        if !(100..=60_000).contains(&self.mpd.timeout_ms) {
            return Err(super::invalid(
                "music.mpd.timeout_ms",
                format!(
                    "{} is out of range; use 100..=60000 (default 2000)",
                    self.mpd.timeout_ms
                ),
            ));
        }
        for (name, url) in &self.stations {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(super::invalid(
                    &format!("music.stations.{name}"),
                    format!("`{url}` is not an http(s) URL; use the stream's or playlist's URL"),
                ));
            }
        }
        Ok(())
    }
}

impl MpdConfig {
    /// The password to send, if any (config first, then the environment).
    pub fn password(&self) -> Option<String> {
        Some(self.password.clone())
            .filter(|p| !p.is_empty())
            .or_else(|| std::env::var("SORI_MPD_PASSWORD").ok())
            .filter(|p| !p.is_empty())
    }
}
