//! ONNX Runtime, loaded at run time from the library `sori models fetch` installs (ort's
//! `load-dynamic`), shared by the wake word, VAD and Piper engines.
//!
//! ONNX Runtime allows one environment per process, so it lives in a `OnceLock`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

/// Where `sori models fetch` puts the library, inside the models directory.
pub const LIBRARY: &str = "onnxruntime/libonnxruntime.so";

#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    #[error(
        "ONNX Runtime library {path} is missing. Run `sori models fetch --only onnxruntime` (or set ORT_DYLIB_PATH to a libonnxruntime.so)"
    )]
    Missing { path: String },
    #[error(
        "could not load ONNX Runtime from {path}: {reason}. Run `sori models fetch --only onnxruntime --force`"
    )]
    Library { path: String, reason: String },
    #[error("could not load model {path}: {reason}. Run `sori models fetch` to repair it")]
    Model { path: String, reason: String },
    #[error("{model}: inference failed: {reason}")]
    Run { model: String, reason: String },
}

static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// The library to load: `ORT_DYLIB_PATH` if set, else the one in the models directory.
pub fn library_path(models_dir: &Path) -> PathBuf {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => models_dir.join(LIBRARY),
    }
}

/// Loads ONNX Runtime once per process. Later calls return the first result.
///
/// # Errors
/// The library is missing or not loadable.
pub fn init(models_dir: &Path) -> Result<&'static ort::environment::Environment, OnnxError> {
    let path = library_path(models_dir);
    let shown = path.display().to_string();
    let env = ENV.get_or_init(|| {
        crate::memory::configure();
        if !path.is_file() {
            return Err(format!("missing:{shown}"));
        }
        let builder = ort::init_from(&path).map_err(|e| e.to_string())?;
        // One pool of worker threads for every multi-threaded session (a Piper voice's two
        // halves run one after the other): each session with its own pool left that pool's
        // workers spinning on the CPU the next session needed. Made once the library is loaded.
        let pool = ort::environment::GlobalThreadPoolOptions::default()
            .with_intra_threads(crate::stt::whisper::default_threads())
            .and_then(|p| p.with_spin_control(true))
            .map_err(|e| e.to_string())?;
        builder
            .with_name("sori")
            .with_global_thread_pool(pool)
            .build()
            .map_err(|e| e.to_string())
    });
    match env {
        Ok(env) => Ok(env),
        Err(e) if e.starts_with("missing:") => Err(OnnxError::Missing {
            path: e["missing:".len()..].to_string(),
        }),
        Err(e) => Err(OnnxError::Library {
            path: shown,
            reason: e.clone(),
        }),
    }
}

/// The ONNX Runtime version string once loaded (for `sori doctor`).
pub fn version() -> Option<String> {
    ENV.get()
        .and_then(|e| e.as_ref().ok())
        .map(|_| ort::info().to_string())
}

/// Opens a model for single-threaded streaming inference: one intra-op thread without spinning,
/// because these models run every few milliseconds on a small CPU and a spinning pool would
/// burn a core between calls.
///
/// # Errors
/// `OnnxError::Model` naming the file.
pub fn session(models_dir: &Path, model: &Path) -> Result<Session, OnnxError> {
    session_with_threads(models_dir, model, 1)
}

/// A session for models big enough to gain from more cores, like a Piper voice: with `threads`
/// above 1 it runs on the process's shared pool (one thread per core, up to 4), whose workers
/// spin briefly between operators (as ONNX Runtime does by default), which cuts a reply's
/// latency, and sleep once the run is over; with 1, on the calling thread alone.
pub fn session_with_threads(
    models_dir: &Path,
    model: &Path,
    threads: usize,
) -> Result<Session, OnnxError> {
    let shown = model.display().to_string();
    if !model.is_file() {
        return Err(OnnxError::Model {
            path: shown,
            reason: "file not found".into(),
        });
    }
    builder(models_dir, &shown, threads)?
        .commit_from_file(model)
        .map_err(model_err(&shown))
}

/// A session (threads as `session_with_threads`) for a model made in memory, such as a part
/// cut from a model file; `label` names it in errors.
///
/// # Errors
/// `OnnxError::Model` naming `label`.
pub fn session_from_memory(
    models_dir: &Path,
    label: &str,
    bytes: &[u8],
    threads: usize,
) -> Result<Session, OnnxError> {
    builder(models_dir, label, threads)?
        .commit_from_memory(bytes)
        .map_err(model_err(label))
}

fn model_err(path: &str) -> impl Fn(ort::Error) -> OnnxError + '_ {
    move |e| OnnxError::Model {
        path: path.to_string(),
        reason: e.to_string(),
    }
}

fn builder(
    models_dir: &Path,
    shown: &str,
    threads: usize,
) -> Result<ort::session::builder::SessionBuilder, OnnxError> {
    let env = init(models_dir)?;
    let err = model_err(shown);
    let builder = Session::builder(env)
        .map_err(&err)?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| err(e.into()))?;
    // More than one thread: the process's shared pool (one thread per core, up to 4).
    if threads > 1 {
        return Ok(builder);
    }
    builder
        .with_independent_thread_pool()
        .map_err(|e| err(e.into()))?
        .with_intra_threads(1)
        .map_err(|e| err(e.into()))?
        .with_inter_threads(1)
        .map_err(|e| err(e.into()))?
        .with_intra_op_spinning(false)
        .map_err(|e| err(e.into()))?
        .with_inter_op_spinning(false)
        .map_err(|e| err(e.into()))
}

/// Maps an error from `run` (an ort error, or a message) to `OnnxError::Run`.
pub fn run_err<E: std::fmt::Display>(model: &str) -> impl Fn(E) -> OnnxError + '_ {
    move |e| OnnxError::Run {
        model: model.to_string(),
        reason: e.to_string(),
    }
}
