//! 8-bit weights for a model's convolutions, made on the device: each `Conv` whose weights are
//! a float initializer becomes `ConvInteger` on uint8 weights (one scale and zero point per
//! tensor) with its input quantised as it runs (`DynamicQuantizeLinear`), then scaled back and
//! the bias added. This is the graph ONNX Runtime's own `quantize_dynamic` writes for `Conv`
//! with uint8 weights. A Piper voice's front (text encoder, duration predictor and flow) is
//! 56 MB of convolution weights in float; in 8 bits it takes 15 MB, and ONNX Runtime runs it as
//! fast (its u8 kernels), about 48 MB less memory for as long as the voice is loaded.
//!
//! Pure: bytes in, bytes out; fields it does not rewrite are copied byte for byte.

use std::collections::{HashMap, HashSet};

use crate::graph::proto::{
    Field, Malformed, bytes_field, fields, float_value, header, ints, node, strings, varint,
    varint_field,
};

#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    #[error("not a readable ONNX model: {0}")]
    Malformed(#[from] Malformed),
    #[error("{0}")]
    Unsupported(String),
}

/// ONNX `TensorProto.DataType` values.
const FLOAT: u64 = 1;
const UINT8: u64 = 2;
/// ONNX `AttributeProto.AttributeType.INT`.
const ATTR_INT: u64 = 2;

/// A float initializer, decoded.
struct Weights {
    dims: Vec<i64>,
    values: Vec<f32>,
}

/// The float values of an initializer (`TensorProto`), or `None` for another type or data kept
/// outside the file.
fn float_tensor(tf: &[Field<'_>]) -> Result<Option<Weights>, Malformed> {
    let mut data_type = 0;
    for f in tf.iter().filter(|f| f.num == 2) {
        data_type = varint(f.body, &mut 0)?;
    }
    // data_location (14) = EXTERNAL
    let external = tf.iter().any(|f| f.num == 14 || f.num == 13);
    if data_type != FLOAT || external {
        return Ok(None);
    }
    let dims = ints(tf, 1)?;
    let le = |b: &[u8]| -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let values = if let Some(raw) = tf.iter().find(|f| f.num == 9) {
        le(raw.body)
    } else {
        // float_data (4): packed, or one fixed32 field per value.
        tf.iter()
            .filter(|f| f.num == 4)
            .flat_map(|f| le(f.body))
            .collect()
    };
    let count: i64 = dims.iter().product();
    if usize::try_from(count).ok() != Some(values.len()) {
        return Err(Malformed("an initializer's data does not match its shape"));
    }
    Ok(Some(Weights { dims, values }))
}

/// Asymmetric uint8 quantisation of a whole tensor (`quantize_dynamic`'s `QUInt8`): the range
/// always includes 0, so zero padding stays exact.
fn to_u8(w: &[f32]) -> (Vec<u8>, f32, u8) {
    let lo = w.iter().fold(0f32, |a, &b| a.min(b));
    let hi = w.iter().fold(0f32, |a, &b| a.max(b));
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    let zero = (-lo / scale).round_ties_even().clamp(0.0, 255.0);
    let q = w
        .iter()
        .map(|&x| ((x / scale).round_ties_even() + zero).clamp(0.0, 255.0) as u8)
        .collect();
    (q, scale, zero as u8)
}

fn tensor(name: &str, dims: &[i64], data_type: u64, raw: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(raw.len() + name.len() + 32);
    for &d in dims {
        t.extend(varint_field(1, d as u64));
    }
    t.extend(varint_field(2, data_type));
    t.extend(bytes_field(8, name.as_bytes()));
    t.extend(bytes_field(9, raw));
    bytes_field(5, &t)
}

/// `to = FLOAT`, for `Cast`.
fn cast_to_float() -> Vec<u8> {
    let mut a = bytes_field(1, b"to");
    a.extend(varint_field(3, FLOAT));
    a.extend(varint_field(20, ATTR_INT));
    bytes_field(5, &a)
}

/// The default domain's opset, from the model's `opset_import` (field 8).
fn opset(model: &[Field<'_>]) -> Result<u64, Malformed> {
    for f in model.iter().filter(|f| f.num == 8) {
        let of = fields(f.body)?;
        let domain = strings(&of, 1).first().copied().unwrap_or("");
        if domain.is_empty() || domain == "ai.onnx" {
            if let Some(v) = of.iter().find(|f| f.num == 2) {
                return varint(v.body, &mut 0);
            }
        }
    }
    Ok(0)
}

/// `bytes` with every convolution on float weights in 8 bits, and how many were converted.
///
/// # Errors
/// `Malformed` for bytes that are not ONNX; `Unsupported` for an opset before 11 or a model
/// with nothing to convert.
pub fn conv_weights(bytes: &[u8]) -> Result<(Vec<u8>, usize), QuantizeError> {
    let model = fields(bytes)?;
    if opset(&model)? < 11 {
        return Err(QuantizeError::Unsupported(
            "the model's opset is older than 11 (no DynamicQuantizeLinear)".into(),
        ));
    }
    let graph_field = model
        .iter()
        .find(|f| f.num == 7)
        .ok_or(Malformed("no graph"))?;
    let graph = fields(graph_field.body)?;
    let mut inits: HashMap<&str, Vec<Field<'_>>> = HashMap::new();
    for f in graph.iter().filter(|f| f.num == 5) {
        let tf = fields(f.body)?;
        if let Some(name) = strings(&tf, 8).first() {
            inits.insert(name, tf);
        }
    }
    // Each node's parsed fields and its whole encoded field.
    let nodes: Vec<(Vec<Field<'_>>, &[u8])> = graph
        .iter()
        .filter(|f| f.num == 1)
        .map(|f| Ok((fields(f.body)?, f.raw)))
        .collect::<Result<_, Malformed>>()?;
    // How often each value is read: a weight is converted only where its Conv is its one
    // reader, so nothing else sees the uint8 tensor or misses the float one, and no two Convs
    // write the same uint8 initializer.
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for (nf, _) in &nodes {
        for input in strings(nf, 1) {
            *uses.entry(input).or_default() += 1;
        }
    }
    for f in graph.iter().filter(|f| f.num == 12) {
        let name = strings(&fields(f.body)?, 1).first().copied().unwrap_or("");
        *uses.entry(name).or_default() += 1;
    }

    let mut out_nodes: Vec<Vec<u8>> = Vec::new();
    let mut new_inits: Vec<Vec<u8>> = Vec::new();
    let mut dropped: HashSet<&str> = HashSet::new();
    let mut quantized_inputs: HashMap<&str, [String; 3]> = HashMap::new();
    let mut converted = 0;
    for (nf, raw) in &nodes {
        let op = strings(nf, 4).first().copied().unwrap_or("");
        let domain = strings(nf, 7).first().copied().unwrap_or("");
        let inputs = strings(nf, 1);
        let outputs = strings(nf, 2);
        let weight = inputs.get(1).copied().unwrap_or("");
        let plain = op != "Conv"
            || !(domain.is_empty() || domain == "ai.onnx")
            || outputs.len() != 1
            || uses.get(weight) != Some(&1);
        let w = match inits.get(weight) {
            Some(tf) if !plain => float_tensor(tf)?,
            _ => None,
        };
        let bias = match inputs.get(2).filter(|b| !b.is_empty()) {
            None => Some(None),
            Some(b) => match inits.get(b) {
                Some(tf) => float_tensor(tf)?.map(|t| Some((*b, t))),
                None => None,
            },
        };
        let (Some(w), Some(bias)) = (w, bias) else {
            out_nodes.push(raw.to_vec());
            continue;
        };
        if w.dims.len() < 3 || w.values.iter().any(|v| !v.is_finite()) {
            out_nodes.push(raw.to_vec());
            continue;
        }
        let x = inputs[0];
        let y = outputs[0];
        let name = strings(nf, 3).first().copied().unwrap_or(y);
        let [xq, xs, xz] = quantized_inputs.entry(x).or_insert_with(|| {
            let q = [
                format!("{x}_quantized"),
                format!("{x}_scale"),
                format!("{x}_zero_point"),
            ];
            out_nodes.push(node(
                &format!("{x}_QuantizeLinear"),
                "DynamicQuantizeLinear",
                &[x],
                &[&q[0], &q[1], &q[2]],
                &[],
            ));
            q
        });
        let (q, scale, zero) = to_u8(&w.values);
        let (wq, ws, wz) = (
            format!("{weight}_quantized"),
            format!("{weight}_scale"),
            format!("{weight}_zero_point"),
        );
        new_inits.push(tensor(&wq, &w.dims, UINT8, &q));
        new_inits.push(tensor(&ws, &[], FLOAT, &scale.to_le_bytes()));
        new_inits.push(tensor(&wz, &[], UINT8, &[zero]));
        dropped.insert(weight);
        let attrs: Vec<&[u8]> = nf.iter().filter(|f| f.num == 5).map(|f| f.raw).collect();
        let (yi, yf, s) = (
            format!("{y}_int32"),
            format!("{y}_float"),
            format!("{y}_scales"),
        );
        let scaled = format!("{y}_scaled");
        out_nodes.push(node(
            &format!("{name}_quant"),
            "ConvInteger",
            &[xq, &wq, xz, &wz],
            &[&yi],
            &attrs,
        ));
        out_nodes.push(node(
            &format!("{name}_cast"),
            "Cast",
            &[&yi],
            &[&yf],
            &[&cast_to_float()],
        ));
        out_nodes.push(node(
            &format!("{name}_scales_mul"),
            "Mul",
            &[xs, &ws],
            &[&s],
            &[],
        ));
        match bias {
            None => out_nodes.push(node(&format!("{name}_scale"), "Mul", &[&yf, &s], &[y], &[])),
            Some((b, t)) => {
                out_nodes.push(node(
                    &format!("{name}_scale"),
                    "Mul",
                    &[&yf, &s],
                    &[&scaled],
                    &[],
                ));
                // [C] → [C, 1, …]: broadcast over the output's spatial axes.
                let mut dims = vec![t.values.len() as i64];
                dims.resize(w.dims.len() - 1, 1);
                let br = format!("{name}_bias_reshaped");
                let raw: Vec<u8> = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
                new_inits.push(tensor(&br, &dims, FLOAT, &raw));
                out_nodes.push(node(
                    &format!("{name}_bias_add"),
                    "Add",
                    &[&scaled, &br],
                    &[y],
                    &[],
                ));
                if uses.get(b) == Some(&1) {
                    dropped.insert(b);
                } else if let Some(n) = uses.get_mut(b) {
                    *n -= 1;
                }
            }
        }
        converted += 1;
    }
    if converted == 0 {
        return Err(QuantizeError::Unsupported(
            "no convolution with float weights".into(),
        ));
    }

    // The graph: nodes, then every other field as it was (initializers and graph inputs that
    // named a converted weight left out), then the new initializers.
    let mut body: Vec<u8> = Vec::with_capacity(graph_field.body.len() / 3);
    for n in &out_nodes {
        body.extend_from_slice(n);
    }
    for f in &graph {
        let keep = match f.num {
            1 => false,
            5 | 11 => {
                let name_field = if f.num == 5 { 8 } else { 1 };
                let name = strings(&fields(f.body)?, name_field)
                    .first()
                    .copied()
                    .unwrap_or("");
                !dropped.contains(name)
            }
            _ => true,
        };
        if keep {
            body.extend_from_slice(f.raw);
        }
    }
    for t in &new_inits {
        body.extend_from_slice(t);
    }
    let mut out = Vec::with_capacity(body.len() + 64);
    for f in &model {
        if f.num == 7 {
            out.extend(header(7, body.len()));
            out.extend_from_slice(&body);
        } else {
            out.extend_from_slice(f.raw);
        }
    }
    Ok((out, converted))
}

/// A model of one 1-D convolution `y = conv(x, w) + b` (`w`: `[out, in, k]`, padded to keep the
/// length), opset 15: for tests of `conv_weights`.
pub fn one_conv_model(w: &[f32], out: usize, inp: usize, k: usize, b: &[f32]) -> Vec<u8> {
    let f32s = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let ints_attr = |name: &str, v: &[i64]| {
        let mut a = bytes_field(1, name.as_bytes());
        for &x in v {
            a.extend(varint_field(8, x as u64));
        }
        a.extend(varint_field(20, 7)); // INTS
        bytes_field(5, &a)
    };
    let pad = (k / 2) as i64;
    let mut g = node(
        "conv",
        "Conv",
        &["x", "w", "b"],
        &["y"],
        &[
            &ints_attr("kernel_shape", &[k as i64]),
            &ints_attr("pads", &[pad, pad]),
        ],
    );
    g.extend(tensor(
        "w",
        &[out as i64, inp as i64, k as i64],
        FLOAT,
        &f32s(w),
    ));
    g.extend(tensor("b", &[out as i64], FLOAT, &f32s(b)));
    g.extend(float_value(11, "x"));
    g.extend(float_value(12, "y"));
    model_of(&g)
}

/// A model (opset 15) of the encoded graph fields `g`.
fn model_of(g: &[u8]) -> Vec<u8> {
    let mut m = varint_field(1, 8); // ir_version
    let mut opset = bytes_field(1, b"");
    opset.extend(varint_field(2, 15));
    m.extend(bytes_field(8, &opset));
    m.extend(bytes_field(7, g));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_convolution_becomes_an_integer_one_with_its_scales() {
        let w: Vec<f32> = (0..24).map(|i| (i as f32 - 11.0) / 10.0).collect();
        let model = one_conv_model(&w, 4, 2, 3, &[0.5, -0.5, 1.0, 0.0]);
        let (q, n) = conv_weights(&model).unwrap();
        assert_eq!(n, 1);
        let m = fields(&q).unwrap();
        let g = fields(m.iter().find(|f| f.num == 7).unwrap().body).unwrap();
        let ops: Vec<String> = g
            .iter()
            .filter(|f| f.num == 1)
            .map(|f| strings(&fields(f.body).unwrap(), 4)[0].to_string())
            .collect();
        assert_eq!(
            ops,
            [
                "DynamicQuantizeLinear",
                "ConvInteger",
                "Cast",
                "Mul",
                "Mul",
                "Add"
            ]
        );
        let inits = inits_of(&q);
        // The float weights and the bias as it was are gone; the bias comes back as [4, 1].
        assert!(
            !inits.iter().any(|(n, _)| n == "w" || n == "b"),
            "{inits:?}"
        );
        assert!(inits.contains(&("w_quantized".into(), UINT8)));
        assert!(inits.contains(&("w_scale".into(), FLOAT)));
        assert!(inits.contains(&("conv_bias_reshaped".into(), FLOAT)));
        // The graph's input and output are those of the model.
        assert_eq!(g.iter().filter(|f| f.num == 11 || f.num == 12).count(), 2);
    }

    /// The initializers' names and types.
    fn inits_of(model: &[u8]) -> Vec<(String, u64)> {
        let m = fields(model).unwrap();
        let g = fields(m.iter().find(|f| f.num == 7).unwrap().body).unwrap();
        g.iter()
            .filter(|f| f.num == 5)
            .map(|f| {
                let tf = fields(f.body).unwrap();
                let ty = varint(tf.iter().find(|f| f.num == 2).unwrap().body, &mut 0).unwrap();
                (strings(&tf, 8)[0].to_string(), ty)
            })
            .collect()
    }

    #[test]
    fn a_weight_two_convolutions_share_stays_float() {
        let w: Vec<u8> = [0.5f32, -1.0, 0.25, 2.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let mut g = node("conv1", "Conv", &["x", "w"], &["y"], &[]);
        g.extend(node("conv2", "Conv", &["y", "w"], &["z"], &[]));
        g.extend(node("conv3", "Conv", &["z", "v"], &["out"], &[]));
        g.extend(tensor("w", &[2, 2, 1], FLOAT, &w));
        g.extend(tensor("v", &[2, 2, 1], FLOAT, &w));
        g.extend(float_value(11, "x"));
        g.extend(float_value(12, "out"));
        let (q, n) = conv_weights(&model_of(&g)).unwrap();
        // Only `v` has one reader; `w` stays float, once, for both of its convolutions.
        assert_eq!(n, 1);
        let inits = inits_of(&q);
        assert_eq!(
            inits.iter().filter(|(n, _)| n == "w").count(),
            1,
            "{inits:?}"
        );
        assert!(inits.contains(&("w".into(), FLOAT)));
        assert!(inits.contains(&("v_quantized".into(), UINT8)));
        assert!(!inits.iter().any(|(n, _)| n == "w_quantized" || n == "v"));
    }

    #[test]
    fn a_model_without_float_convolutions_is_refused() {
        let model = one_conv_model(&[1.0; 6], 2, 1, 3, &[0.0, 0.0]);
        let (q, _) = conv_weights(&model).unwrap();
        assert!(matches!(
            conv_weights(&q),
            Err(QuantizeError::Unsupported(_))
        ));
        assert!(matches!(
            conv_weights(b"not onnx"),
            Err(QuantizeError::Malformed(_))
        ));
    }

    #[test]
    fn weights_keep_zero_exact_and_their_range() {
        let w = [-1.0f32, -0.5, 0.0, 0.25, 1.0];
        let (q, scale, zero) = to_u8(&w);
        assert!((scale - 2.0 / 255.0).abs() < 1e-7);
        assert_eq!(q[2], zero, "0 must map to the zero point exactly");
        for (x, q) in w.iter().zip(&q) {
            let back = (f32::from(*q) - f32::from(zero)) * scale;
            assert!(
                (back - x).abs() <= scale / 2.0 + 1e-6,
                "{x} came back as {back}"
            );
        }
        // All positive: the range still starts at 0.
        let (q, _, zero) = to_u8(&[0.5, 1.0]);
        assert_eq!(zero, 0);
        assert_eq!(q[1], 255);
        // All zero: a scale of 1, nothing lost.
        assert_eq!(to_u8(&[0.0, 0.0]), (vec![0, 0], 1.0, 0));
    }
}
