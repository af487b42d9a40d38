//! openWakeWord's embedding model, run incrementally. The model reads a window of 76 mel frames
//! and makes one 96-d embedding; the window moves by 8 frames per 80 ms chunk, so run whole it
//! recomputes about nine tenths of its work every chunk, and it was almost all of the always-on
//! CPU. It is a stack of convolutions that look only at neighbouring frames, with time pooled
//! by 2 three times (8 in all, the hop), so it is cut at each pooling into stages: each stage
//! keeps the last rows of its input and computes only the rows the new frames add. That gives
//! exactly the whole model's embedding for a fraction of the work.
//!
//! Nothing about the layers is assumed: how many rows each stage needs and makes is measured by
//! running the stages on two window lengths, and at load the stages are checked against the
//! whole model on a few windows. A model that does not stream exactly runs whole.

use std::path::Path;

use ort::session::Session;
use ort::value::TensorRef;

use super::features::{EMBEDDING, MEL_BINS, xorshift};
use crate::graph::Graph;
use crate::onnx::{self, OnnxError};

/// Mel frames per embedding window.
pub const MEL_WINDOW: usize = 76;
/// New mel frames per 80 ms chunk.
pub const MEL_HOP: usize = 8;
/// The model pads the mel bins with one zero on either side before its first convolution;
/// the stages start after that, so `Embedding` pads them itself.
const PAD: usize = 1;
/// The largest difference from the whole model the stages may make (float rounding).
const TOLERANCE: f32 = 1e-4;

struct Stage {
    session: Session,
    input: String,
    /// Input rows kept, and how many of them each chunk adds.
    rows: usize,
    new: usize,
    /// Input channels and width ([1, channels, rows, width]).
    channels: usize,
    width: usize,
    /// The kept input rows, channel by channel.
    buf: Vec<f32>,
}

enum Mode {
    Whole { session: Session, input: String },
    Streaming(Vec<Stage>),
}

pub struct Embedding {
    mode: Mode,
    /// The last `MEL_WINDOW` mel frames, oldest first (a new start and the whole model).
    window: Vec<f32>,
    /// Scratch for the stages' inputs and outputs, reused every chunk.
    x: Vec<f32>,
    y: Vec<f32>,
}

/// A tensor `[1, c, t, w]` as `(c, t, w)`: channels, rows (time) and width.
type Shape = (usize, usize, usize);

/// An error of the embedding model (or of its stages), from ort or a message.
fn run_err<E: std::fmt::Display>(e: E) -> OnnxError {
    onnx::run_err("embedding")(e)
}

/// Runs `session` on `[1, c, t, w]` and returns the output's shape `(c, t, w)` and data.
fn run(
    session: &mut Session,
    input: &str,
    c: usize,
    t: usize,
    w: usize,
    data: &[f32],
    out: &mut Vec<f32>,
) -> Result<Shape, OnnxError> {
    let x = TensorRef::from_array_view(([1usize, c, t, w], data)).map_err(run_err)?;
    let res = session.run(ort::inputs![input => x]).map_err(run_err)?;
    let (shape, y) = res[0].try_extract_tensor::<f32>().map_err(run_err)?;
    let [_, c, t, w] = shape[..] else {
        return Err(run_err(format!("expected a 4-d output, got {shape:?}")));
    };
    out.clear();
    out.extend_from_slice(y);
    Ok((c as usize, t as usize, w as usize))
}

/// Runs the stages one after another on a whole window of `t` padded mel frames (`first`);
/// `before(k, (c, t, w), input)` sees stage `k`'s input first. Returns the last output's shape
/// and data.
fn cascade<'a>(
    stages: impl Iterator<Item = (&'a mut Session, &'a str)>,
    t: usize,
    first: Vec<f32>,
    mut before: impl FnMut(usize, Shape, &[f32]),
) -> Result<(Shape, Vec<f32>), OnnxError> {
    let mut shape = (1, t, MEL_BINS + 2 * PAD);
    let (mut x, mut y) = (first, Vec::new());
    for (k, (session, input)) in stages.enumerate() {
        before(k, shape, &x);
        shape = run(session, input, shape.0, shape.1, shape.2, &x, &mut y)?;
        std::mem::swap(&mut x, &mut y);
    }
    Ok((shape, x))
}

/// Mel frames (`rows` × 32) as the first stage's input, `[1, 1, rows, 34]`, into `out`.
fn padded(mels: &[f32], out: &mut Vec<f32>) {
    let w = MEL_BINS + 2 * PAD;
    out.clear();
    out.resize(mels.len() / MEL_BINS * w, 0.0);
    for (o, m) in out.chunks_exact_mut(w).zip(mels.chunks_exact(MEL_BINS)) {
        o[PAD..PAD + MEL_BINS].copy_from_slice(m);
    }
}

/// The last `keep` of `t` rows of each of `c` channels.
fn tail_rows(data: &[f32], c: usize, t: usize, w: usize, keep: usize) -> Vec<f32> {
    (0..c)
        .flat_map(|ch| &data[(ch * t + t - keep) * w..(ch + 1) * t * w])
        .copied()
        .collect()
}

impl Stage {
    /// Drops the oldest `new` rows of each channel and appends `rows_in` (`[c, new, w]`).
    fn shift_in(&mut self, rows_in: &[f32]) {
        let (r, n, w) = (self.rows, self.new, self.width);
        for (ch, fresh) in rows_in.chunks_exact(n * w).enumerate() {
            let b = &mut self.buf[ch * r * w..(ch + 1) * r * w];
            b.copy_within(n * w.., 0);
            b[(r - n) * w..].copy_from_slice(fresh);
        }
    }
}

impl Embedding {
    fn new(mode: Mode) -> Embedding {
        Embedding {
            mode,
            window: vec![1.0; MEL_WINDOW * MEL_BINS],
            x: Vec::new(),
            y: Vec::new(),
        }
    }

    /// Loads `openwakeword/embedding_model.onnx`, streaming if it can.
    ///
    /// # Errors
    /// Missing ONNX Runtime or model.
    pub fn load(models_dir: &Path) -> Result<Embedding, OnnxError> {
        Embedding::load_with(models_dir, true)
    }

    /// As `load`; with `stream` false the model always runs whole (for comparisons).
    ///
    /// # Errors
    /// Missing ONNX Runtime or model.
    pub fn load_with(models_dir: &Path, stream: bool) -> Result<Embedding, OnnxError> {
        let path = models_dir.join("openwakeword/embedding_model.onnx");
        let session = onnx::session(models_dir, &path)?;
        let input = session.inputs()[0].name().to_string();
        let mut whole = Embedding::new(Mode::Whole { session, input });
        if !stream {
            whole.reset()?;
            return Ok(whole);
        }
        let stages = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| stages(models_dir, &bytes));
        let mut e = match stages.and_then(|s| Embedding::streaming(s).map_err(|e| e.to_string())) {
            Ok(s) => s,
            Err(why) => {
                tracing::info!("the wake word embedding runs whole: {why}");
                return Ok(whole);
            }
        };
        match e.agrees_with(&mut whole) {
            Ok(()) => {
                tracing::debug!("the wake word embedding streams");
                e.reset()?;
                Ok(e)
            }
            Err(why) => {
                tracing::warn!("the wake word embedding runs whole: {why}");
                whole.reset()?;
                Ok(whole)
            }
        }
    }

    /// Whether the stages stream; false when the model runs whole.
    pub fn is_streaming(&self) -> bool {
        matches!(self.mode, Mode::Streaming(_))
    }

    /// Measures each stage's rows on windows of 76 and 84 frames.
    fn streaming(mut stages: Vec<(Session, String)>) -> Result<Embedding, OnnxError> {
        // Each stage's input shape, then the last output's, for both windows.
        let mut shapes = Vec::new();
        for t in [MEL_WINDOW, MEL_WINDOW + MEL_HOP] {
            let mut s = Vec::new();
            let each = stages.iter_mut().map(|(s, i)| (s, i.as_str()));
            let (last, _) = cascade(
                each,
                t,
                vec![1.0; t * (MEL_BINS + 2 * PAD)],
                |_, shape, _| s.push(shape),
            )?;
            s.push(last);
            shapes.push(s);
        }
        let mut new = MEL_HOP;
        let mut out = Vec::new();
        let mismatch = |why: String| run_err(format!("the stages do not stream: {why}"));
        for (k, (session, input)) in stages.into_iter().enumerate() {
            let ((c, t0, w), o0) = (shapes[0][k], shapes[0][k + 1].1);
            let (t1, o1) = (shapes[1][k].1, shapes[1][k + 1].1);
            let (din, dout) = (t1 - t0, o1.saturating_sub(o0));
            let bad = || mismatch(format!("stage {k}: {t0}→{o0} and {t1}→{o1} rows"));
            if dout == 0 || din % dout != 0 || new % (din / dout) != 0 || o0 == 0 {
                return Err(bad());
            }
            let stride = din / dout;
            let made = new / stride;
            // The input rows one output row spans, and the rows `made` new outputs need: at most
            // what the whole window gave the stage.
            let span = t0.checked_sub((o0 - 1) * stride).ok_or_else(bad)?;
            let rows = (made - 1) * stride + span;
            if rows > t0 {
                return Err(bad());
            }
            out.push(Stage {
                session,
                input,
                rows,
                new,
                channels: c,
                width: w,
                buf: vec![0.0; c * rows * w],
            });
            new = made;
        }
        let last = shapes[0].last().map(|s| s.1);
        if new != 1 || last != Some(1) {
            return Err(mismatch(format!("{new} rows per chunk at the end")));
        }
        Ok(Embedding::new(Mode::Streaming(out)))
    }

    /// Runs both on a few windows of pseudo-random mel frames and compares the embeddings.
    fn agrees_with(&mut self, whole: &mut Embedding) -> Result<(), String> {
        let mut seed = 0x9e37_79b9u32;
        let mut frame = move || {
            let mut m = [0.0; MEL_BINS];
            for v in &mut m {
                *v = (xorshift(&mut seed) % 4000) as f32 / 1000.0;
            }
            m
        };
        for _ in 0..MEL_WINDOW {
            let m = frame();
            self.slide(&m);
            whole.slide(&m);
        }
        let mut worst = 0.0f32;
        for step in 0..4 {
            let (a, b) = if step == 0 {
                (self.start(), whole.start())
            } else {
                let new: Vec<f32> = (0..MEL_HOP).flat_map(|_| frame()).collect();
                (self.push(&new), whole.push(&new))
            };
            let (a, b) = (a.map_err(|e| e.to_string())?, b.map_err(|e| e.to_string())?);
            worst = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(worst, f32::max);
        }
        if worst > TOLERANCE {
            return Err(format!("the stages differ from the whole model by {worst}"));
        }
        Ok(())
    }

    /// Back to the model's starting window (every bin 1.0), as openWakeWord starts.
    ///
    /// # Errors
    /// A model that fails to run.
    pub fn reset(&mut self) -> Result<[f32; EMBEDDING], OnnxError> {
        self.window.fill(1.0);
        self.start()
    }

    fn slide(&mut self, rows: &[f32]) {
        let n = rows.len().min(self.window.len());
        self.window.copy_within(n.., 0);
        let len = self.window.len();
        self.window[len - n..].copy_from_slice(&rows[rows.len() - n..]);
    }

    /// The embedding of the whole window; streaming, the stages' kept rows are set from it.
    fn start(&mut self) -> Result<[f32; EMBEDDING], OnnxError> {
        let mut e = [0.0; EMBEDDING];
        match &mut self.mode {
            Mode::Whole { session, input } => {
                let x =
                    TensorRef::from_array_view(([1usize, MEL_WINDOW, MEL_BINS, 1], &*self.window))
                        .map_err(run_err)?;
                let out = session
                    .run(ort::inputs![input.as_str() => x])
                    .map_err(run_err)?;
                let (_, data) = out[0].try_extract_tensor::<f32>().map_err(run_err)?;
                e.copy_from_slice(&data[..EMBEDDING]);
            }
            Mode::Streaming(stages) => {
                let mut x = Vec::new();
                padded(&self.window, &mut x);
                let rows: Vec<usize> = stages.iter().map(|s| s.rows).collect();
                let mut kept = Vec::with_capacity(rows.len());
                let each = stages
                    .iter_mut()
                    .map(|s| (&mut s.session, s.input.as_str()));
                let (_, x) = cascade(each, MEL_WINDOW, x, |k, (c, t, w), x| {
                    kept.push(tail_rows(x, c, t, w, rows[k]));
                })?;
                for (s, buf) in stages.iter_mut().zip(kept) {
                    s.buf = buf;
                }
                e.copy_from_slice(&x[..EMBEDDING]);
            }
        }
        Ok(e)
    }

    /// Adds the chunk's new mel frames (`MEL_HOP` × 32, oldest first) and returns the window's
    /// embedding. Another number of frames restarts the stages from the whole window.
    ///
    /// # Errors
    /// A model that fails to run.
    pub fn push(&mut self, mels: &[f32]) -> Result<[f32; EMBEDDING], OnnxError> {
        self.slide(mels);
        let Mode::Streaming(stages) = &mut self.mode else {
            return self.start();
        };
        if mels.len() != MEL_HOP * MEL_BINS {
            return self.start();
        }
        let (mut x, mut y) = (std::mem::take(&mut self.x), std::mem::take(&mut self.y));
        padded(mels, &mut x);
        for s in stages.iter_mut() {
            s.shift_in(&x);
            run(
                &mut s.session,
                &s.input,
                s.channels,
                s.rows,
                s.width,
                &s.buf,
                &mut y,
            )?;
            std::mem::swap(&mut x, &mut y);
        }
        let mut e = [0.0; EMBEDDING];
        e.copy_from_slice(&x[..EMBEDDING]);
        (self.x, self.y) = (x, y);
        Ok(e)
    }
}

/// The stage models: the embedding model cut after its first padding, at each pooling's output,
/// and before its final reshape.
fn stages(models_dir: &Path, bytes: &[u8]) -> Result<Vec<(Session, String)>, String> {
    let g = Graph::parse(bytes).map_err(|e| e.to_string())?;
    let first = g
        .nodes
        .iter()
        .find(|n| n.op == "Conv")
        .and_then(|n| n.inputs.first().copied())
        .ok_or("no convolution")?;
    let last = match g.nodes.last() {
        Some(n) if n.op == "Reshape" => n.inputs.first().copied(),
        _ => g.outputs.first().copied(),
    }
    .ok_or("no output")?;
    let mut cuts = vec![first];
    cuts.extend(
        g.nodes
            .iter()
            .filter(|n| n.op == "MaxPool")
            .filter_map(|n| n.outputs.first().copied()),
    );
    cuts.push(last);
    if cuts.len() < 3 {
        return Err("no pooling to cut at".into());
    }
    cuts.windows(2)
        .enumerate()
        .map(|(k, pair)| {
            let part = g.between(pair[0], pair[1]).map_err(|e| e.to_string())?;
            let label = format!("openwakeword/embedding_model.onnx (stage {k})");
            let s = onnx::session_from_memory(models_dir, &label, &part, 1)
                .map_err(|e| e.to_string())?;
            let input = s.inputs()[0].name().to_string();
            Ok((s, input))
        })
        .collect()
}
