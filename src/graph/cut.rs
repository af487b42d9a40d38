//! A model's graph parsed just enough to cut it: nodes (inputs, outputs, name and op type),
//! initializers' names, the graph's inputs and outputs. Everything else is copied byte for byte
//! into the parts written.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use super::proto::{Field, Malformed, fields, float_value, header, strings};

#[derive(Debug, thiserror::Error)]
pub enum CutError {
    #[error("not a readable ONNX model: {0}")]
    Malformed(&'static str),
    #[error("{0}")]
    Unsupported(String),
}

impl From<Malformed> for CutError {
    fn from(e: Malformed) -> Self {
        CutError::Malformed(e.0)
    }
}

pub(crate) struct Node<'a> {
    pub raw: &'a [u8],
    pub name: &'a str,
    pub op: &'a str,
    pub inputs: Vec<&'a str>,
    pub outputs: Vec<&'a str>,
}

pub struct Graph<'a> {
    model_fields: Vec<Field<'a>>,
    graph_fields: Vec<Field<'a>>,
    pub(crate) nodes: Vec<Node<'a>>,
    /// Initializer name → its encoded field.
    pub(crate) inits: HashMap<&'a str, &'a [u8]>,
    pub(crate) inputs: Vec<&'a str>,
    pub(crate) outputs: Vec<&'a str>,
}

impl<'a> Graph<'a> {
    /// Parses `bytes`. A model with control flow (`If`, `Loop`, `Scan`) is `Unsupported`: its
    /// subgraphs read values this reader does not follow.
    ///
    /// # Errors
    /// `Malformed` for bytes that are not ONNX.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, CutError> {
        let model_fields = fields(bytes)?;
        let graph = model_fields
            .iter()
            .find(|f| f.num == 7)
            .ok_or(CutError::Malformed("no graph"))?;
        let graph_fields = fields(graph.body)?;
        let mut nodes = Vec::new();
        let mut inits = HashMap::new();
        for f in &graph_fields {
            match f.num {
                1 => {
                    let nf = fields(f.body)?;
                    let op = strings(&nf, 4).first().copied().unwrap_or("");
                    if matches!(op, "If" | "Loop" | "Scan") {
                        return Err(CutError::Unsupported(format!(
                            "the model has a `{op}` subgraph"
                        )));
                    }
                    nodes.push(Node {
                        raw: f.body,
                        name: strings(&nf, 3).first().copied().unwrap_or(""),
                        op,
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
        let names = |num| -> Result<Vec<&'a str>, CutError> {
            graph_fields
                .iter()
                .filter(|f| f.num == num)
                .map(|f| Ok(strings(&fields(f.body)?, 1).first().copied().unwrap_or("")))
                .collect()
        };
        let inputs = names(11)?;
        let outputs = names(12)?;
        Ok(Graph {
            model_fields,
            graph_fields,
            nodes,
            inits,
            inputs,
            outputs,
        })
    }

    /// The nodes that compute `wanted` (indices, in graph order), not looking past `stop`, and
    /// the values they take from outside (graph inputs, `stop`, or names nothing produces).
    pub fn needed<'s>(
        &'s self,
        wanted: &[&'s str],
        stop: Option<&str>,
    ) -> (Vec<usize>, HashSet<&'s str>) {
        let producer: HashMap<&'s str, usize> = self
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.outputs.iter().map(move |o| (*o, i)))
            .collect();
        let mut keep = vec![false; self.nodes.len()];
        let mut external = HashSet::new();
        let mut todo = wanted.to_vec();
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

    /// The graph's own input (11) or output (12) fields, as they are.
    pub fn io_fields(&self, num: u64) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.graph_fields
            .iter()
            .filter(move |f| f.num == num)
            .map(|f| f.raw.to_vec())
    }

    /// The model computing `output` from `input` alone, both float tensors of any shape.
    ///
    /// # Errors
    /// `Unsupported` when `output` needs another value than `input` (or is not computed).
    pub fn between(&self, input: &str, output: &'a str) -> Result<Vec<u8>, CutError> {
        let (idx, external) = self.needed(&[output], Some(input));
        if let Some(other) = external.iter().find(|n| **n != input) {
            return Err(CutError::Unsupported(format!(
                "`{output}` also needs `{other}`"
            )));
        }
        if idx.is_empty() {
            return Err(CutError::Unsupported(format!(
                "nothing computes `{output}` from `{input}`"
            )));
        }
        let mut out = Vec::new();
        self.write(
            &idx,
            &[float_value(11, input), float_value(12, output)],
            &mut out,
        )
        .expect("writing to memory");
        Ok(out)
    }

    /// Writes a model of the nodes `idx` (graph order), the initializers they read, and `io`
    /// (encoded graph input and output fields) as the graph's inputs and outputs.
    ///
    /// # Errors
    /// From the writer.
    pub fn write(&self, idx: &[usize], io: &[Vec<u8>], w: &mut impl Write) -> std::io::Result<()> {
        let used: HashSet<&str> = idx
            .iter()
            .flat_map(|&i| self.nodes[i].inputs.iter().copied())
            .collect();
        let node_fields: Vec<(Vec<u8>, &[u8])> = idx
            .iter()
            .map(|&i| (header(1, self.nodes[i].raw.len()), self.nodes[i].raw))
            .collect();
        // Graph-level fields in a fixed order: nodes, name and the rest, initializers, inputs
        // and outputs. value_info (13) only holds shape hints, dropped rather than filtered.
        let rest: Vec<&[u8]> = self
            .graph_fields
            .iter()
            .filter(|f| !matches!(f.num, 1 | 5 | 11 | 12 | 13))
            .map(|f| f.raw)
            .collect();
        let mut inits: Vec<&[u8]> = self
            .inits
            .iter()
            .filter(|(name, _)| used.contains(*name))
            .map(|(_, raw)| *raw)
            .collect();
        // In the original order, so the same cut always writes the same bytes.
        inits.sort_by_key(|raw| raw.as_ptr());
        let graph_len = node_fields
            .iter()
            .map(|(h, b)| h.len() + b.len())
            .sum::<usize>()
            + rest.iter().chain(&inits).map(|g| g.len()).sum::<usize>()
            + io.iter().map(Vec::len).sum::<usize>();
        for f in &self.model_fields {
            if f.num == 7 {
                w.write_all(&header(7, graph_len))?;
                for (h, b) in &node_fields {
                    w.write_all(h)?;
                    w.write_all(b)?;
                }
                for g in rest.iter().chain(&inits) {
                    w.write_all(g)?;
                }
                for o in io {
                    w.write_all(o)?;
                }
            } else {
                w.write_all(f.raw)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::proto::{bytes_field, node};
    use super::*;

    /// x → Relu → a → Mul(a, w) → y, and y also reads the graph input `s` via Add.
    fn toy() -> Vec<u8> {
        let mut g = node("relu", "Relu", &["x"], &["a"], &[]);
        g.extend(node("mul", "Mul", &["a", "w"], &["b"], &[]));
        g.extend(node("add", "Add", &["b", "s"], &["y"], &[]));
        g.extend(bytes_field(2, b"g"));
        // TensorProto { dims: 1, data_type: FLOAT, name: w }
        let mut t = vec![0x08, 0x01, 0x10, 0x01];
        t.extend(bytes_field(8, b"w"));
        g.extend(bytes_field(5, &t));
        g.extend(float_value(11, "x"));
        g.extend(float_value(11, "s"));
        g.extend(float_value(12, "y"));
        let mut m = vec![0x08, 0x08];
        m.extend(bytes_field(7, &g));
        m
    }

    #[test]
    fn a_cut_keeps_the_nodes_and_weights_between_its_ends() {
        let bytes = toy();
        let g = Graph::parse(&bytes).unwrap();
        assert_eq!(g.inputs, ["x", "s"]);
        let part = g.between("a", "b").unwrap();
        let p = Graph::parse(&part).unwrap();
        assert_eq!(p.nodes.len(), 1);
        assert_eq!(p.nodes[0].op, "Mul");
        assert_eq!(
            (p.inputs.as_slice(), p.outputs.as_slice()),
            (&["a"][..], &["b"][..])
        );
        assert!(p.inits.contains_key("w"));
        assert_eq!(&part[..2], &[0x08, 0x08]);
        // From x to b: Relu and Mul.
        let p2 = g.between("x", "b").unwrap();
        assert_eq!(Graph::parse(&p2).unwrap().nodes.len(), 2);
    }

    #[test]
    fn a_cut_that_needs_another_input_is_refused() {
        let bytes = toy();
        let g = Graph::parse(&bytes).unwrap();
        assert!(matches!(g.between("a", "y"), Err(CutError::Unsupported(m)) if m.contains("`s`")));
        assert!(matches!(g.between("y", "y"), Err(CutError::Unsupported(_))));
        assert!(matches!(
            Graph::parse(b"\xff\xff"),
            Err(CutError::Malformed(_))
        ));
    }
}
