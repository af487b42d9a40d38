//! `[skills]`: where external skills live and which intent data Sori loads.

use serde::{Deserialize, Serialize};

/// `[skills]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SkillsConfig {
    /// Directories that hold external skills: each subdirectory with a `skill.toml` is one
    /// skill (a directory that itself has a `skill.toml` is one too).
    pub dirs: Vec<String>,
    /// Also understand Home Assistant's community sentences (the `home-assistant-intents`
    /// data that `sori models fetch` installs) for the intents Sori's skills serve.
    pub home_assistant: bool,
}

impl Default for SkillsConfig {
    fn default() -> Self {
        SkillsConfig {
            dirs: Vec::new(),
            home_assistant: true,
        }
    }
}
