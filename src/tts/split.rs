//! Cuts a Piper (VITS) ONNX model in two at the vocoder's input: a front model (phoneme ids →
//! the latent `z`, frames × 192) and a decoder model (`z` → audio). The decoder is purely
//! convolutional, so a slice of `z` with a few frames of context either side gives exactly that
//! stretch of the audio: a sentence then starts playing after the front and one short slice,
//! not after the whole sentence. It also bounds the working memory, which for the whole model
//! grows with the sentence (about 4 MB per word, almost all of it the decoder's).
//!
//! Pure: bytes in, bytes out. Only the protobuf framing is read (nodes' inputs, outputs, name
//! and op type, tensors' names); everything else is copied byte for byte.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use super::proto::{Field, Malformed, fields, header, strings};

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

impl From<Malformed> for SplitError {
    fn from(e: Malformed) -> Self {
        SplitError::Malformed(e.0)
    }
}

/// `ValueInfoProto` for a float tensor of any shape named `name`.
fn float_value_info(name: &str) -> Vec<u8> {
    // TypeProto { tensor_type (1): { elem_type (1): FLOAT = 1 } }
    let ty = [0x0a, 0x02, 0x08, 0x01];
    let mut v = header(1, name.len());
    v.extend_from_slice(name.as_bytes());
    v.extend(header(2, ty.len()));
    v.extend_from_slice(&ty);
    v
}

struct Node<'a> {
    raw: &'a [u8],
    name: &'a str,
    inputs: Vec<&'a str>,
    outputs: Vec<&'a str>,
}

/// The graph, parsed just enough to cut it.
pub struct Model<'a> {
    model_fields: Vec<Field<'a>>,
    graph_fields: Vec<Field<'a>>,
    nodes: Vec<Node<'a>>,
    /// Initializer name → its encoded field.
    inits: HashMap<&'a str, &'a [u8]>,
    inputs: Vec<&'a str>,
    outputs: Vec<&'a str>,
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
        let model_fields = fields(bytes)?;
        let graph = model_fields
            .iter()
            .find(|f| f.num == 7)
            .ok_or(SplitError::Malformed("no graph"))?;
        let graph_fields = fields(graph.body)?;
        let mut nodes = Vec::new();
        let mut inits = HashMap::new();
        for f in &graph_fields {
            match f.num {
                1 => {
                    let nf = fields(f.body)?;
                    let op = strings(&nf, 4).first().copied().unwrap_or("");
                    if matches!(op, "If" | "Loop" | "Scan") {
                        return Err(SplitError::Unsupported(format!(
                            "the model has a `{op}` subgraph"
                        )));
                    }
                    nodes.push(Node {
                        raw: f.body,
                        name: strings(&nf, 3).first().copied().unwrap_or(""),
                        inputs: strings(&nf, 1),
                        outputs: strings(&nf, 2),
                    });
                }
                5 => {
                    let tf = fields(f.body)?;
                    if let Some(name) = strings(&tf, 8).first() {
                        inits.insert(*name, f.raw);
                    }
                }
                _ => {}
            }
        }
        let names = |num| -> Result<Vec<&'a str>, SplitError> {
            graph_fields
                .iter()
                .filter(|f| f.num == num)
                .map(|f| Ok(strings(&fields(f.body)?, 1).first().copied().unwrap_or("")))
                .collect()
        };
        let inputs = names(11)?;
        let outputs = names(12)?;
        let cut = nodes
            .iter()
            .find(|n| n.name == DECODER_FIRST_NODE)
            .and_then(|n| n.inputs.first())
            .ok_or_else(|| SplitError::Unsupported(format!("no `{DECODER_FIRST_NODE}` node")))?
            .to_string();
        let tail_cut = nodes
            .iter()
            .find(|n| n.name == TAIL_FIRST_NODE)
            .and_then(|n| n.inputs.first())
            .map(|s| s.to_string());
        let mut model = Model {
            model_fields,
            graph_fields,
            nodes,
            inits,
            inputs,
            outputs,
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
    fn needed(&self, part: Part) -> (Vec<usize>, HashSet<&str>) {
        let producer: HashMap<&str, usize> = self
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.outputs.iter().map(move |o| (*o, i)))
            .collect();
        let cut = self.cut.as_str();
        // Without a tail cut, a head or tail is empty (`write` refuses them).
        let tail = self.tail_cut.as_deref().unwrap_or(cut);
        let (wanted, stop): (Vec<&str>, Option<&str>) = match part {
            Part::Front => (vec![cut], None),
            Part::Decoder => (self.outputs.clone(), Some(cut)),
            Part::Head => (vec![tail], Some(cut)),
            Part::Tail => (self.outputs.clone(), Some(tail)),
        };
        let mut keep = vec![false; self.nodes.len()];
        let mut external = HashSet::new();
        let mut todo = wanted;
        let mut seen = HashSet::new();
        while let Some(name) = todo.pop() {
            if name.is_empty() || !seen.insert(name) || self.inits.contains_key(name) {
                continue;
            }
            match producer.get(name) {
                Some(&i) if Some(name) != stop => {
                    if !keep[i] {
                        keep[i] = true;
                        todo.extend(self.nodes[i].inputs.iter().copied());
                    }
                }
                _ => {
                    external.insert(name);
                }
            }
        }
        let idx = (0..self.nodes.len()).filter(|&i| keep[i]).collect();
        (idx, external)
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
        let mut used: HashSet<&str> = HashSet::new();
        let mut graph: Vec<&[u8]> = Vec::new();
        for &i in &idx {
            used.extend(self.nodes[i].inputs.iter().copied());
        }
        let mut node_fields = Vec::new();
        for &i in &idx {
            let n = &self.nodes[i];
            node_fields.push((header(1, n.raw.len()), n.raw));
        }
        // Graph-level fields in a fixed order: nodes, name, initializers, inputs, outputs, rest.
        let value = |num, name: &str| {
            let info = float_value_info(name);
            let mut v = header(num, info.len());
            v.extend_from_slice(&info);
            v
        };
        let graph_io = |num| {
            self.graph_fields
                .iter()
                .filter(move |f| f.num == num)
                .map(|f| f.raw.to_vec())
        };
        let io: Vec<Vec<u8>> = match part {
            Part::Front => graph_io(11).chain([value(12, &self.cut)]).collect(),
            Part::Decoder => [value(11, &self.cut)]
                .into_iter()
                .chain(graph_io(12))
                .collect(),
            Part::Head => vec![value(11, &self.cut), value(12, tail)],
            Part::Tail => [value(11, tail)].into_iter().chain(graph_io(12)).collect(),
        };
        for f in &self.graph_fields {
            match f.num {
                // Nodes, initializers, inputs and outputs are chosen above; value_info (13) only
                // holds shape hints, dropped rather than filtered.
                1 | 5 | 11 | 12 | 13 => {}
                _ => graph.push(f.raw),
            }
        }
        let inits: Vec<&[u8]> = self
            .graph_fields
            .iter()
            .filter(|f| f.num == 5)
            .filter(|f| {
                fields(f.body)
                    .ok()
                    .and_then(|tf| strings(&tf, 8).first().map(|n| used.contains(n)))
                    .unwrap_or(false)
            })
            .map(|f| f.raw)
            .collect();
        let graph_len = node_fields
            .iter()
            .map(|(h, b)| h.len() + b.len())
            .sum::<usize>()
            + graph.iter().map(|g| g.len()).sum::<usize>()
            + inits.iter().map(|g| g.len()).sum::<usize>()
            + io.iter().map(Vec::len).sum::<usize>();
        for f in &self.model_fields {
            if f.num == 7 {
                w.write_all(&header(7, graph_len))?;
                for (h, b) in &node_fields {
                    w.write_all(h)?;
                    w.write_all(b)?;
                }
                for g in &graph {
                    w.write_all(g)?;
                }
                for g in &inits {
                    w.write_all(g)?;
                }
                for o in &io {
                    w.write_all(o)?;
                }
            } else {
                w.write_all(f.raw)?;
            }
        }
        Ok(())
    }

    /// The graph's inputs (for diagnostics).
    pub fn inputs(&self) -> &[&'a str] {
        &self.inputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string_field(num: u64, s: &str) -> Vec<u8> {
        let mut v = header(num, s.len());
        v.extend_from_slice(s.as_bytes());
        v
    }

    fn node(name: &str, op: &str, inputs: &[&str], outputs: &[&str]) -> Vec<u8> {
        let mut n = Vec::new();
        for i in inputs {
            n.extend(string_field(1, i));
        }
        for o in outputs {
            n.extend(string_field(2, o));
        }
        n.extend(string_field(3, name));
        n.extend(string_field(4, op));
        let mut f = header(1, n.len());
        f.extend(n);
        f
    }

    fn init(name: &str) -> Vec<u8> {
        // TensorProto { dims (1): 1, data_type (2): FLOAT, name (8), float_data ... }
        let mut t = vec![0x08, 0x01, 0x10, 0x01];
        t.extend(string_field(8, name));
        let mut f = header(5, t.len());
        f.extend(t);
        f
    }

    fn value(num: u64, name: &str) -> Vec<u8> {
        let v = float_value_info(name);
        let mut f = header(num, v.len());
        f.extend(v);
        f
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
        g.extend(string_field(2, "main_graph"));
        g.extend(init("emb.weight"));
        g.extend(init("dec.w"));
        g.extend(value(11, "input"));
        g.extend(value(11, "scales"));
        g.extend(value(12, "output"));
        let mut m = vec![0x08, 0x08]; // ir_version 8
        m.extend(header(7, g.len()));
        m.extend(g);
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
        assert_eq!(d.outputs, ["output"]);
        assert_eq!(d.nodes.len(), 1);
        assert!(d.inits.contains_key("dec.w") && !d.inits.contains_key("emb.weight"));
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
        assert_eq!(head.outputs, ["a"]);
        assert_eq!(head.nodes.len(), 1);
        assert!(head.tail_cut.is_none());
        let tail = part(&m, Part::Tail);
        let text = String::from_utf8_lossy(&tail);
        assert!(text.contains(TAIL_FIRST_NODE) && !text.contains(DECODER_FIRST_NODE));
        assert!(!text.contains("dec.w"));
        // The whole decoder is still there for a caller that wants it.
        let dec_bytes = part(&m, Part::Decoder);
        assert_eq!(Model::parse(&dec_bytes).unwrap().nodes.len(), 2);
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
