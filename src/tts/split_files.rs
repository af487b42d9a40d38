//! Where a Piper voice's parts (see `split`) live: made once from the voice and kept in the
//! models directory (`piper/.split/NAME-SIZE-MTIME/`), so loading a voice reads them like any
//! model. A voice that cannot be cut is remembered too, and runs whole.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::quantize;
use super::split::{Model, Part, SplitError};

/// A voice cut in two (front and decoder) or three (the decoder's head and tail), and the
/// tensors between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Halves {
    pub front: PathBuf,
    /// `cut` → audio; with a `tail`, `cut` → the tail's input.
    pub decoder: PathBuf,
    pub cut: String,
    /// The tail's model and input.
    pub tail: Option<(PathBuf, String)>,
}

/// Written last: which parts are complete ("3", or "2" for a decoder without a tail). Parts
/// made by an earlier version, without it, are made again.
const PARTS: &str = "parts";

/// The halves of the voice `model`, made now if they are not there yet. `None` when the voice
/// cannot be cut or they cannot be kept (a read-only models directory): it then runs whole,
/// as before, only without streaming within a sentence.
pub fn halves(models_dir: &Path, model: &Path) -> Option<Halves> {
    let meta = std::fs::metadata(model).ok()?;
    let stem = model.file_stem()?.to_string_lossy().into_owned();
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let root = models_dir.join("piper").join(".split");
    let dir = root.join(format!("{stem}-{}-{mtime}", meta.len()));
    let found = |dir: &Path| {
        let parts = std::fs::read_to_string(dir.join(PARTS)).ok()?;
        let cut = std::fs::read_to_string(dir.join("cut")).ok()?;
        let (decoder, tail) = match parts.trim() {
            "3" => {
                let input = std::fs::read_to_string(dir.join("tail_cut")).ok()?;
                let path = dir.join("tail.onnx");
                let tail = path.is_file().then(|| (path, input.trim().to_string()))?;
                (dir.join("head.onnx"), Some(tail))
            }
            _ => (dir.join("decoder.onnx"), None),
        };
        let h = Halves {
            front: dir.join("front.onnx"),
            decoder,
            cut: cut.trim().to_string(),
            tail,
        };
        (h.front.is_file() && h.decoder.is_file()).then_some(h)
    };
    if let Some(h) = found(&dir) {
        return Some(h);
    }
    if dir.join("unsupported").is_file() {
        return None;
    }
    tracing::info!(voice = %stem, "preparing the voice to stream within sentences (once)");
    match make(model, &dir) {
        Ok(h) => {
            forget_older(&root, &stem, &dir);
            Some(h)
        }
        Err(SplitError::Unsupported(reason)) => {
            tracing::info!(voice = %stem, "the voice runs whole: {reason}");
            let _ = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(dir.join("unsupported"), reason));
            None
        }
        Err(e) => {
            tracing::warn!(voice = %stem, dir = %dir.display(), "the voice runs whole: {e}");
            None
        }
    }
}

/// An 8-bit front: its file, or its bytes when it could not be kept.
pub enum Front {
    File(PathBuf),
    Memory(Vec<u8>),
}

/// The front with 8-bit convolution weights (`quantize`), made beside `front` the first time
/// it is asked for. A models directory that cannot be written (parts made by an older version,
/// then the directory made read-only) gets it in memory, made again at each load. `None` when
/// it cannot be made: the voice then loads its float front.
pub fn quantized_front(front: &Path) -> Option<Front> {
    let dir = front.parent()?;
    let path = dir.join(QUANTIZED_FRONT);
    if path.is_file() {
        return Some(Front::File(path));
    }
    let refused = dir.join("front.u8.unsupported");
    if refused.is_file() {
        return None;
    }
    let started = std::time::Instant::now();
    let made = std::fs::read(front)
        .map_err(|e| e.to_string())
        .and_then(|bytes| quantize::conv_weights(&bytes).map_err(|e| e.to_string()));
    match made {
        Ok((bytes, convs)) => {
            let write = |w: &mut dyn Write| Ok(w.write_all(&bytes)?);
            match write_new(dir, QUANTIZED_FRONT, write) {
                Ok(path) => {
                    tracing::info!(
                        convs,
                        mb = bytes.len() / 1_000_000,
                        ms = started.elapsed().as_millis() as u64,
                        "voice weights in 8 bits (once)"
                    );
                    Some(Front::File(path))
                }
                Err(e) => {
                    tracing::warn!(
                        dir = %dir.display(),
                        "could not keep the 8-bit voice, so it is made at every start: {e}. \
                         Run `sori models fetch` as a user who can write there"
                    );
                    Some(Front::Memory(bytes))
                }
            }
        }
        Err(reason) => {
            tracing::info!("the voice keeps float weights: {reason}");
            let _ = std::fs::write(&refused, reason);
            None
        }
    }
}

/// The 8-bit front's file name, beside `front.onnx`.
const QUANTIZED_FRONT: &str = "front.u8.onnx";

fn make(model: &Path, dir: &Path) -> Result<Halves, SplitError> {
    let bytes = std::fs::read(model)?;
    let m = Model::parse(&bytes)?;
    std::fs::create_dir_all(dir)?;
    let write = |part: Part, name: &str| {
        write_new(dir, name, |mut w: &mut dyn Write| m.write(part, &mut w))
    };
    let front = write(Part::Front, "front.onnx")?;
    std::fs::write(dir.join("cut"), &m.cut)?;
    let (decoder, tail) = match &m.tail_cut {
        Some(input) => {
            // Not `decoder.onnx`: an earlier version finds that file and takes it for the
            // whole decoder.
            let head = write(Part::Head, "head.onnx")?;
            let tail = write(Part::Tail, "tail.onnx")?;
            std::fs::write(dir.join("tail_cut"), input)?;
            (head, Some((tail, input.clone())))
        }
        None => (write(Part::Decoder, "decoder.onnx")?, None),
    };
    // Written last: its presence says the parts are complete.
    let count = if tail.is_some() { "3" } else { "2" };
    std::fs::write(dir.join(PARTS), count)?;
    Ok(Halves {
        front,
        decoder,
        cut: m.cut.clone(),
        tail,
    })
}

/// Writes `dir/name` with `fill` through a temporary file renamed into place, so that a reader
/// never sees half a model.
fn write_new(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), SplitError>,
) -> Result<PathBuf, SplitError> {
    let path = dir.join(name);
    // Unique per process, so two loading at once do not write into one file.
    let tmp = dir.join(format!("{name}.{}.partial", std::process::id()));
    let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    let written = fill(&mut w).and_then(|()| Ok(w.flush()?));
    drop(w);
    if let Err(e) = written.and_then(|()| Ok(std::fs::rename(&tmp, &path)?)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(path)
}

/// Removes halves made from an earlier file of the same voice.
fn forget_older(root: &Path, stem: &str, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let same_voice = name
            .strip_prefix(stem)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|rest| rest.split('-').count() == 2);
        if same_voice && p != keep {
            let _ = std::fs::remove_dir_all(&p);
        }
    }
}
