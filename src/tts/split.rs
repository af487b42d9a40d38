//! Cuts a Piper (VITS) ONNX model in two at the vocoder's input: a front model (phoneme ids →
//! the latent `z`, frames × 192) and a decoder model (`z` → audio). The decoder is purely
//! convolutional, so a slice of `z` with a few frames of context either side gives exactly that
//! stretch of the audio: a sentence then starts playing after the front and one short slice,
//! not after the whole sentence. It also bounds the working memory, which for the whole model
//! grows with the sentence (about 4 MB per word, almost all of it the decoder's).
//!
//! Pure: bytes in, bytes out. Only the protobuf framing is read (nodes' inputs, outputs, name
//! and op type, tensors' names); everything else is copied byte for byte.

use std::io::Write;

use crate::graph::proto::float_value;
use crate::graph::{CutError, Graph};

/// The vocoder's first node in Piper's exports (`dec.conv_pre` of VITS).
pub const DECODER_FIRST_NODE: &str = "/dec/conv_pre/Conv";
/// The vocoder's second upsampling layer: its input (128 channels at 8 samples per frame for a
/// medium voice) is where the decoder is cut again, into a head and a tail. The tail, the
/// layers at 64 and 256 samples per frame, holds almost all of the working memory (a 256-frame
/// block needed about 100 MB) but sees only about one frame either side, so it runs on short
/// stretches with little context made twice.
pub const TAIL_FIRST_NODE: &str = "/dec/ups.1/ConvTranspose";

#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("not a readable ONNX model: {0}")]
    Malformed(&'static str),
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<CutError> for SplitError {
    fn from(e: CutError) -> Self {
        match e {
            CutError::Malformed(m) => SplitError::Malformed(m),
            CutError::Unsupported(m) => SplitError::Unsupported(m),
        }
    }
}

/// The graph, parsed just enough to cut it.
pub struct Model<'a> {
    graph: Graph<'a>,
    /// The decoder's input: the latent `z`.
    pub cut: String,
    /// The tail's input (`TAIL_FIRST_NODE`), when the decoder can be cut there too.
    pub tail_cut: Option<String>,
}

/// Which part to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Phoneme ids → `z`.
    Front,
    /// `z` → audio.
    Decoder,
    /// `z` → the tail's input.
    Head,
    /// The tail's input → audio.
    Tail,
}

impl<'a> Model<'a> {
    /// Parses `bytes` and finds the cut. `Unsupported` for a model that is not a single-speaker
    /// Piper voice of the usual export (the caller then runs it whole).
    ///
    /// # Errors
    /// `Malformed` for bytes that are not ONNX, `Unsupported` when it cannot be cut.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SplitError> {
        let graph = Graph::parse(bytes)?;
        let first_input = |node: &str| {
            graph
                .nodes
                .iter()
                .find(|n| n.name == node)
                .and_then(|n| n.inputs.first())
                .map(|s| s.to_string())
        };
        let cut = first_input(DECODER_FIRST_NODE)
            .ok_or_else(|| SplitError::Unsupported(format!("no `{DECODER_FIRST_NODE}` node")))?;
        let tail_cut = first_input(TAIL_FIRST_NODE);
        let mut model = Model {
            graph,
            cut,
            tail_cut,
        };
        // The decoder must need nothing but `z` (a multi-speaker voice also feeds it the
        // speaker): then the two halves compute exactly what the whole did.
        let (_, external) = model.needed(Part::Decoder);
        if let Some(other) = external.iter().find(|n| **n != model.cut) {
            return Err(SplitError::Unsupported(format!(
                "the decoder also needs `{other}`"
            )));
        }
        // Likewise the head needs only `z` and the tail only the head's output; otherwise the
        // decoder stays whole.
        if let Some(t) = model.tail_cut.clone() {
            let alone = |part, input: &str| {
                let (nodes, external) = model.needed(part);
                !nodes.is_empty() && external.iter().all(|n| *n == input)
            };
            if !(alone(Part::Head, &model.cut) && alone(Part::Tail, &t)) {
                model.tail_cut = None;
            }
        }
        Ok(model)
    }

    /// The nodes `part` runs (indices, in graph order) and the values it takes from outside
    /// (graph inputs, or the cut).
    fn needed(&self, part: Part) -> (Vec<usize>, std::collections::HashSet<&str>) {
        let cut = self.cut.as_str();
        // Without a tail cut, a head or tail is empty (`write` refuses them).
        let tail = self.tail_cut.as_deref().unwrap_or(cut);
        let outputs = self.graph.outputs.clone();
        let (wanted, stop): (Vec<&str>, Option<&str>) = match part {
            Part::Front => (vec![cut], None),
            Part::Decoder => (outputs, Some(cut)),
            Part::Head => (vec![tail], Some(cut)),
            Part::Tail => (outputs, Some(tail)),
        };
        self.graph.needed(&wanted, stop)
    }

    /// Writes `part` as a complete ONNX model.
    ///
    /// # Errors
    /// `Io` from the writer; `Unsupported` for a head or tail of a decoder without a tail cut.
    pub fn write(&self, part: Part, w: &mut impl Write) -> Result<(), SplitError> {
        let tail = match (part, &self.tail_cut) {
            (Part::Head | Part::Tail, None) => {
                return Err(SplitError::Unsupported(format!(
                    "the decoder has no `{TAIL_FIRST_NODE}` to cut at"
                )));
            }
            (_, t) => t.as_deref().unwrap_or(""),
        };
        let (idx, _) = self.needed(part);
        let g = &self.graph;
        let io: Vec<Vec<u8>> = match part {
            Part::Front => g
                .io_fields(11)
                .chain([float_value(12, &self.cut)])
                .collect(),
            Part::Decoder => [float_value(11, &self.cut)]
                .into_iter()
                .chain(g.io_fields(12))
                .collect(),
            Part::Head => vec![float_value(11, &self.cut), float_value(12, tail)],
            Part::Tail => [float_value(11, tail)]
                .into_iter()
                .chain(g.io_fields(12))
                .collect(),
        };
        g.write(&idx, &io, w)?;
        Ok(())
    }

    /// The graph's inputs (for diagnostics).
    pub fn inputs(&self) -> &[&'a str] {
        &self.graph.inputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::proto::{self, bytes_field};

    fn node(name: &str, op: &str, inputs: &[&str], outputs: &[&str]) -> Vec<u8> {
        proto::node(name, op, inputs, outputs, &[])
    }

    fn init(name: &str) -> Vec<u8> {
        // TensorProto { dims (1): 1, data_type (2): FLOAT, name (8), float_data ... }
        let mut t = vec![0x08, 0x01, 0x10, 0x01];
        t.extend(bytes_field(8, name.as_bytes()));
        bytes_field(5, &t)
    }

    /// ids → embed → z → conv_pre → audio, with weights for the embedding and the conv.
    fn toy(decoder_extra_input: Option<&str>) -> Vec<u8> {
        toy_with(decoder_extra_input, None)
    }

    /// `toy`, and with `tail` the conv's output goes on through the tail's first node, which
    /// takes `tail` as a second input (the head's output alone, or something from before `z`).
    fn toy_with(decoder_extra_input: Option<&str>, tail: Option<&str>) -> Vec<u8> {
        let mut g = Vec::new();
        g.extend(node(
            "/enc/Gather",
            "Gather",
            &["emb.weight", "input"],
            &["h"],
        ));
        g.extend(node("/flow/Mul", "Mul", &["h", "scales"], &["z"]));
        let mut conv_in = vec!["z", "dec.w"];
        if let Some(x) = decoder_extra_input {
            conv_in.push(x);
        }
        match tail {
            None => g.extend(node(DECODER_FIRST_NODE, "Conv", &conv_in, &["output"])),
            Some(second) => {
                g.extend(node(DECODER_FIRST_NODE, "Conv", &conv_in, &["a"]));
                g.extend(node(TAIL_FIRST_NODE, "Add", &["a", second], &["output"]));
            }
        }
        g.extend(bytes_field(2, b"main_graph"));
        g.extend(init("emb.weight"));
        g.extend(init("dec.w"));
        g.extend(float_value(11, "input"));
        g.extend(float_value(11, "scales"));
        g.extend(float_value(12, "output"));
        let mut m = vec![0x08, 0x08]; // ir_version 8
        m.extend(bytes_field(7, &g));
        m
    }

    fn part(m: &Model, p: Part) -> Vec<u8> {
        let mut out = Vec::new();
        m.write(p, &mut out).unwrap();
        out
    }

    #[test]
    fn cuts_at_the_decoders_input() {
        let bytes = toy(None);
        let m = Model::parse(&bytes).unwrap();
        assert_eq!(m.cut, "z");
        assert_eq!(m.inputs(), ["input", "scales"]);

        let front = part(&m, Part::Front);
        let fm = Model::parse(&front).err();
        // The front has no decoder node: it is not itself a Piper voice.
        assert!(matches!(fm, Some(SplitError::Unsupported(_))));
        let text = String::from_utf8_lossy(&front);
        assert!(text.contains("/enc/Gather") && text.contains("/flow/Mul"));
        assert!(text.contains("emb.weight") && !text.contains("dec.w"));
        assert!(!text.contains(DECODER_FIRST_NODE));

        let dec = part(&m, Part::Decoder);
        let d = Model::parse(&dec).unwrap();
        assert_eq!(d.inputs(), ["z"]);
        assert_eq!(d.graph.outputs, ["output"]);
        assert_eq!(d.graph.nodes.len(), 1);
        assert!(d.graph.inits.contains_key("dec.w") && !d.graph.inits.contains_key("emb.weight"));
        // Fields other than the graph are kept as they were.
        assert_eq!(&dec[..2], &[0x08, 0x08]);
    }

    #[test]
    fn cuts_the_decoder_again_at_the_tail() {
        let bytes = toy_with(None, Some("a"));
        let m = Model::parse(&bytes).unwrap();
        assert_eq!(m.tail_cut.as_deref(), Some("a"));
        let head_bytes = part(&m, Part::Head);
        let head = Model::parse(&head_bytes).unwrap();
        assert_eq!(head.inputs(), ["z"]);
        assert_eq!(head.graph.outputs, ["a"]);
        assert_eq!(head.graph.nodes.len(), 1);
        assert!(head.tail_cut.is_none());
        let tail = part(&m, Part::Tail);
        let text = String::from_utf8_lossy(&tail);
        assert!(text.contains(TAIL_FIRST_NODE) && !text.contains(DECODER_FIRST_NODE));
        assert!(!text.contains("dec.w"));
        // The whole decoder is still there for a caller that wants it.
        let dec_bytes = part(&m, Part::Decoder);
        assert_eq!(Model::parse(&dec_bytes).unwrap().graph.nodes.len(), 2);
    }

    #[test]
    fn a_tail_that_needs_more_than_the_head_is_not_cut() {
        // The tail also reads `z`, from before the head: the decoder stays whole.
        let bytes = toy_with(None, Some("z"));
        let m = Model::parse(&bytes).unwrap();
        assert!(m.tail_cut.is_none());
        assert!(matches!(
            m.write(Part::Tail, &mut Vec::new()),
            Err(SplitError::Unsupported(_))
        ));
        // No tail node at all.
        assert!(Model::parse(&toy(None)).unwrap().tail_cut.is_none());
    }

    #[test]
    fn a_decoder_that_needs_more_than_z_is_not_cut() {
        let bytes = toy(Some("sid"));
        assert!(matches!(
            Model::parse(&bytes),
            Err(SplitError::Unsupported(m)) if m.contains("sid")
        ));
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(
            Model::parse(b"\xff\xff\xff"),
            Err(SplitError::Malformed(_))
        ));
        assert!(matches!(Model::parse(b""), Err(SplitError::Malformed(_))));
    }
}
