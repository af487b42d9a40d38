//! Configuration: the TOML schema (every field documented, and in `assets/config.example.toml`),
//! layered loading (file < `SORI_*` environment < `--set`/CLI flags), unknown-key warnings and
//! validation errors that name the key and the fix.

use std::path::{Path, PathBuf};

pub mod api;
pub mod edit;
mod listen;
mod local;
pub mod messaging;
pub mod music;
pub mod satellite;
mod secrets;
mod skills;
mod speak;

pub use listen::{ListenConfig, StateConfig, WakeConfig};
pub use local::{AlarmsConfig, LocationConfig, WeatherConfig};
pub use messaging::MessagingConfig;
pub use music::MusicConfig;
pub use secrets::secret_keys;
use serde::{Deserialize, Serialize};
pub use skills::SkillsConfig;
pub use speak::{PersonaConfig, TtsConfig};

/// The example config shipped with Sori: every key, commented out, with its default.
pub const EXAMPLE: &str = include_str!("../../assets/config.example.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("`{0}` is not KEY=VALUE (e.g. --set stt.model=tiny.en)")]
    BadOverride(String),
}

pub(crate) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    pub models: ModelsConfig,
    pub audio: AudioConfig,
    pub stt: SttConfig,
    pub wake: WakeConfig,
    pub listen: ListenConfig,
    pub state: StateConfig,
    pub tts: TtsConfig,
    pub persona: PersonaConfig,
    pub skills: SkillsConfig,
    pub alarms: AlarmsConfig,
    pub location: LocationConfig,
    pub weather: WeatherConfig,
    pub music: MusicConfig,
    pub messaging: MessagingConfig,
    pub api: api::ApiConfig,
    pub satellite: satellite::SatelliteConfig,
    pub log: LogConfig,
}

/// `[models]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ModelsConfig {
    /// Where models are installed. Empty: `$STATE_DIRECTORY/models` under systemd, the
    /// checkout's `models/` when run from a source build, else `$XDG_DATA_HOME/sori/models`.
    pub dir: String,
}

/// `[audio]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AudioConfig {
    /// Capture backend: `cpal` (the microphone), `wav` (read `input_file`), `null` (silence).
    pub input: String,
    /// Capture device name as `sori devices` prints it; empty for the system default.
    pub input_device: String,
    /// File the `wav` input backend reads.
    pub input_file: String,
    /// Playback backend: `rodio` (the speaker), `wav` (write `output_file`), `null` (discard).
    pub output: String,
    /// Playback device name as `sori devices` prints it; empty for the system default.
    pub output_device: String,
    /// File the `wav` output backend writes.
    pub output_file: String,
    /// Capture buffer between the audio thread and Sori, in milliseconds; overflow drops audio
    /// (counted and logged), so raise it on a heavily loaded device.
    pub buffer_ms: u32,
    /// Device volume (0-100) on first start; after that Sori keeps the last volume set by
    /// voice or `sori volume` in the state directory.
    pub volume: u8,
    /// Music plays at this fraction of its volume while Sori listens or speaks (0 silences it,
    /// 1 does not duck).
    pub duck_level: f32,
}

impl Default for AudioConfig {
    fn default() -> Self {
        AudioConfig {
            input: "cpal".into(),
            input_device: String::new(),
            input_file: String::new(),
            output: "rodio".into(),
            output_device: String::new(),
            output_file: String::new(),
            buffer_ms: 2000,
            volume: 80,
            duck_level: 0.2,
        }
    }
}

/// `[stt]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SttConfig {
    /// Whisper model: `base` (multilingual), `tiny.en` (English only, fastest), or a path to a
    /// ggml `.bin` file.
    pub model: String,
    /// Spoken language: `auto` (identified per command, from its first words, among the
    /// languages the skills speak: English and Korean), or a code such as `en` or `ko`.
    pub language: String,
    /// Threads for whisper; 0 picks the number of cores (at most 4).
    pub threads: u32,
    /// Encoder window: `auto` scales it to the audio length (fast for short commands), `full`
    /// always uses whisper's 30 s window (slower, for comparison).
    pub window: String,
    /// Text that primes the decoder with likely words (names, places).
    pub initial_prompt: String,
    /// A Wyoming speech-to-text server (`tcp://host:10300`) that transcribes instead of the
    /// local whisper; empty: none. The local model stays loaded as the fallback.
    pub remote: String,
    /// Give up on the remote after this long (connect, and each read) and transcribe locally.
    pub remote_timeout_ms: u32,
}

impl Default for SttConfig {
    fn default() -> Self {
        SttConfig {
            model: "base".into(),
            language: "auto".into(),
            threads: 0,
            window: "auto".into(),
            initial_prompt: String::new(),
            remote: String::new(),
            remote_timeout_ms: 5000,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LogConfig {
    /// Log filter: `error`, `warn`, `info`, `debug`, `trace`, or per module (`sori=debug`).
    /// `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// A loaded config plus what the user should hear about it.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// Unknown keys and similar, one line each.
    pub warnings: Vec<String>,
}

/// Dotted paths of every key the schema knows (`stt.model` …), from the defaults.
pub fn known_keys() -> Vec<String> {
    let v = toml::Value::try_from(Config::default()).expect("config serializes");
    let mut out = Vec::new();
    fn walk(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
        match v.as_table() {
            Some(t) => t.iter().for_each(|(k, v)| {
                walk(
                    &if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    },
                    v,
                    out,
                )
            }),
            None => out.push(prefix.to_string()),
        }
    }
    walk("", &v, &mut out);
    out
}

/// `stt.model` → `SORI_STT_MODEL`.
pub fn env_name(key: &str) -> String {
    format!("SORI_{}", key.replace('.', "_").to_uppercase())
}

/// The default config path: `$XDG_CONFIG_HOME/sori/config.toml` (or `~/.config/...`) if it
/// exists, else `/etc/sori/config.toml` if it exists.
pub fn default_path() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    let user = xdg.map(|d| d.join("sori/config.toml"));
    user.into_iter()
        .chain([PathBuf::from("/etc/sori/config.toml")])
        .find(|p| p.is_file())
}

/// Parses a scalar override: TOML syntax if it parses (`3`, `true`, `"x"`), else a string.
fn parse_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn set_path(table: &mut toml::Table, key: &str, value: toml::Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut t = table;
    for p in parts {
        t = t
            .entry(p)
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .expect("section");
    }
    t.insert(last.to_string(), value);
}

/// Loads `path` (or the default path), then applies `env` (`SORI_*` variables) and `sets`
/// (`key=value`), and validates.
///
/// # Errors
/// Unreadable or malformed files, and invalid values, each naming the key and the fix.
pub fn load(
    path: Option<&Path>,
    env: &[(String, String)],
    sets: &[String],
) -> Result<Loaded, ConfigError> {
    let path = path.map(Path::to_path_buf).or_else(default_path);
    let mut table = match &path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.display().to_string(),
                source,
            })?;
            toml::from_str::<toml::Table>(&text).map_err(|e| ConfigError::Syntax {
                path: p.display().to_string(),
                message: e.to_string(),
            })?
        }
        None => toml::Table::new(),
    };
    for key in known_keys() {
        if let Some((_, v)) = env.iter().find(|(k, _)| *k == env_name(&key)) {
            set_path(&mut table, &key, parse_value(v));
        }
    }
    for s in sets {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| ConfigError::BadOverride(s.clone()))?;
        set_path(&mut table, k.trim(), parse_value(v.trim()));
    }
    let origin = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "overrides".into());
    let (config, mut warnings) = from_table(table, &origin)?;
    config.validate()?;
    if let Some(p) = &path {
        warnings.extend(secrets::warning(p, &config));
    }
    Ok(Loaded {
        config,
        path,
        warnings,
    })
}

/// Deserializes, collecting unknown keys as warnings rather than failing on them.
pub fn from_table(table: toml::Table, origin: &str) -> Result<(Config, Vec<String>), ConfigError> {
    let known = known_keys();
    let mut unknown: Vec<String> = Vec::new();
    let value = toml::Value::Table(table);
    let mut track = |p: serde_ignored::Path<'_>| unknown.push(p.to_string());
    let de = serde_ignored::Deserializer::new(value, &mut track);
    let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        invalid(
            &key,
            format!(
                "{}; see assets/config.example.toml",
                e.inner().to_string().trim()
            ),
        )
    })?;
    let warnings = unknown
        .into_iter()
        .map(|k| {
            let hint = crate::text::closest(&k, known.iter().map(String::as_str))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            format!("unknown config key `{k}` in {origin} (ignored){hint}")
        })
        .collect();
    Ok((config, warnings))
}

impl Config {
    /// Checks values that parse but make no sense, naming the key and the fix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let a = &self.audio;
        let inputs = crate::audio::source_names();
        if !inputs.contains(&a.input.as_str()) {
            return Err(invalid(
                "audio.input",
                format!(
                    "unknown backend `{}`; use one of: {}",
                    a.input,
                    inputs.join(", ")
                ),
            ));
        }
        let outputs = crate::audio::sink_names();
        if !outputs.contains(&a.output.as_str()) {
            return Err(invalid(
                "audio.output",
                format!(
                    "unknown backend `{}`; use one of: {}",
                    a.output,
                    outputs.join(", ")
                ),
            ));
        }
        if a.input == "wav" && a.input_file.is_empty() {
            return Err(invalid(
                "audio.input_file",
                "the `wav` input needs a file: set audio.input_file = \"/path/x.wav\"",
            ));
        }
        if a.output == "wav" && a.output_file.is_empty() {
            return Err(invalid(
                "audio.output_file",
                "the `wav` output needs a file: set audio.output_file = \"/path/x.wav\"",
            ));
        }
        if !(100..=60_000).contains(&a.buffer_ms) {
            return Err(invalid(
                "audio.buffer_ms",
                format!(
                    "{} is out of range; use 100..=60000 (default 2000)",
                    a.buffer_ms
                ),
            ));
        }
        self.alarms.validate()?;
        self.location.validate()?;
        self.weather.validate()?;
        self.music.validate()?;
        self.messaging.validate()?;
        self.api.validate()?;
        self.satellite.validate()?;
        let s = &self.stt;
        crate::stt::resolve_model_name(&s.model).map_err(|e| invalid("stt.model", e))?;
        if s.language != "auto" && whisper_rs::get_lang_id(&s.language).is_none() {
            return Err(invalid(
                "stt.language",
                format!(
                    "`{}` is not a whisper language code; use `auto`, `en`, `ko`, …",
                    s.language
                ),
            ));
        }
        if s.threads > 64 {
            return Err(invalid(
                "stt.threads",
                format!("{} threads is too many; use 0 (auto) or 1..=64", s.threads),
            ));
        }
        if !["auto", "full"].contains(&s.window.as_str()) {
            return Err(invalid(
                "stt.window",
                format!("`{}` is not `auto` or `full`", s.window),
            ));
        }
        if !s.remote.is_empty() {
            crate::wyoming::client::Address::parse(&s.remote)
                .map_err(|e| invalid("stt.remote", e))?;
        }
        if !(100..=60_000).contains(&s.remote_timeout_ms) {
            return Err(invalid(
                "stt.remote_timeout_ms",
                format!("{} is out of range; use 100..=60000", s.remote_timeout_ms),
            ));
        }
        listen::validate(&self.wake, &self.listen)?;
        speak::validate(&self.tts, &self.persona)?;
        if self.audio.volume > 100 {
            return Err(invalid(
                "audio.volume",
                format!("{} is out of range; use 0 to 100", self.audio.volume),
            ));
        }
        if !(0.0..=1.0).contains(&self.audio.duck_level) {
            return Err(invalid(
                "audio.duck_level",
                format!(
                    "{} is out of range; use 0.0 (silent) to 1.0 (no ducking)",
                    self.audio.duck_level
                ),
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(invalid(
                "log.level",
                format!(
                    "`{}` is not a log filter; use info, debug, …",
                    self.log.level
                ),
            ));
        }
        Ok(())
    }

    /// The models directory, resolved (see `models.dir`).
    pub fn models_dir(&self) -> PathBuf {
        if !self.models.dir.is_empty() {
            return PathBuf::from(&self.models.dir);
        }
        if let Some(s) = std::env::var_os("STATE_DIRECTORY") {
            // systemd may pass several, colon-separated; the first is ours.
            let first = s
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            return PathBuf::from(first).join("models");
        }
        if let Some(dir) = checkout_models_dir() {
            return dir;
        }
        data_home().join("sori/models")
    }

    /// The state directory, resolved (see `state.dir`).
    pub fn state_dir(&self) -> PathBuf {
        if !self.state.dir.is_empty() {
            return PathBuf::from(&self.state.dir);
        }
        if let Some(s) = std::env::var_os("STATE_DIRECTORY") {
            let first = s
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            return PathBuf::from(first);
        }
        std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
            .unwrap_or_else(|| PathBuf::from("/var/lib"))
            .join("sori")
    }
}

/// `<checkout>/models` when this binary is `<checkout>/target/<profile>/sori` (a source build).
fn checkout_models_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(4)
        .find(|d| d.file_name().is_some_and(|n| n == "target"))
        .and_then(Path::parent)
        .map(|root| root.join("models"))
        .filter(|m| m.join("manifest.toml").is_file())
}

fn data_home() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"))
}

/// Where downloads are cached: `$XDG_CACHE_HOME/sori` or `~/.cache/sori`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("sori")
}

#[cfg(test)]
mod tests;
