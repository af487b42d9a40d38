//! Writes whisper.cpp's ggml model format from a CTranslate2 Whisper model, optionally
//! quantized to q8_0 with the same rounding as whisper.cpp's `whisper-quantize`.
//!
//! CT2 fuses the attention projections (q|k|v in self-attention, k|v in cross-attention) and
//! drops the always-zero key bias; ggml wants them apart, so they are split back here.

use std::io::Write;

use super::ModelError;
use super::ct2::{Ct2Model, Tensor};

/// Weight format of the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    F16,
    Q8_0,
}

/// Tensors whisper.cpp keeps in f32 whatever the file type.
const KEEP_F32: [&str; 4] = [
    "encoder.conv1.bias",
    "encoder.conv2.bias",
    "encoder.positional_embedding",
    "decoder.positional_embedding",
];

const GGML_MAGIC: u32 = 0x6767_6d6c;
/// `GGML_QNT_VERSION * 1000 + GGML_FTYPE_MOSTLY_Q8_0`, as whisper-quantize writes it.
const FTYPE_Q8_0: i32 = 2 * 1000 + 7;

/// GPT-2's byte-level BPE alphabet: printable unicode char → byte.
fn unicode_to_byte() -> std::collections::HashMap<char, u8> {
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    bs.iter()
        .zip(&cs)
        .map(|(&b, &c)| (char::from_u32(c).unwrap(), b as u8))
        .collect()
}

/// Decodes CT2's `vocabulary.txt` (one BPE token per line) into raw token bytes, up to
/// `<|endoftext|>` (whisper.cpp regenerates the special tokens itself).
pub fn decode_vocabulary(text: &str) -> Result<Vec<Vec<u8>>, ModelError> {
    let map = unicode_to_byte();
    let mut out = Vec::new();
    for tok in text.split('\n') {
        if tok == "<|endoftext|>" {
            return Ok(out);
        }
        let bytes: Option<Vec<u8>> = tok.chars().map(|c| map.get(&c).copied()).collect();
        out.push(bytes.ok_or_else(|| {
            ModelError::Convert(format!("vocabulary token {tok:?} is not byte-level BPE"))
        })?);
    }
    Err(ModelError::Convert(
        "vocabulary has no <|endoftext|> token".into(),
    ))
}

/// Mel filterbank as stored in openai-whisper's `mel_filters.npz`.
pub struct MelFilters {
    pub n_mels: usize,
    pub n_fft: usize,
    pub data: Vec<f32>,
}

struct Named<'a> {
    name: String,
    tensor: Tensor<'a>,
}

fn collect<'a>(m: &Ct2Model<'a>) -> Result<Vec<Named<'a>>, ModelError> {
    let mut out: Vec<Named> = Vec::new();
    let d_audio = m.get("encoder/position_encodings/encodings")?.shape[1];
    let d_text = m.get("decoder/position_encodings/encodings")?.shape[1];
    push(
        &mut out,
        "encoder.positional_embedding",
        m.get("encoder/position_encodings/encodings")?.clone(),
    );
    for c in ["conv1", "conv2"] {
        push(
            &mut out,
            &format!("encoder.{c}.weight"),
            m.get(&format!("encoder/{c}/weight"))?.clone(),
        );
        // ggml wants the conv bias as a column.
        let b = m.get(&format!("encoder/{c}/bias"))?;
        push(
            &mut out,
            &format!("encoder.{c}.bias"),
            b.reshaped(vec![b.len(), 1]),
        );
    }
    for i in 0..m.layers("encoder") {
        let (dst, src) = (format!("encoder.blocks.{i}"), format!("encoder/layer_{i}"));
        self_attn(&mut out, m, &dst, &src, d_audio)?;
        mlp(&mut out, m, &dst, &src)?;
    }
    ln(&mut out, m, "encoder.ln_post", "encoder/layer_norm")?;
    push(
        &mut out,
        "decoder.positional_embedding",
        m.get("decoder/position_encodings/encodings")?.clone(),
    );
    push(
        &mut out,
        "decoder.token_embedding.weight",
        m.get("decoder/embeddings/weight")?.clone(),
    );
    for i in 0..m.layers("decoder") {
        let (b, s) = (format!("decoder.blocks.{i}"), format!("decoder/layer_{i}"));
        self_attn(&mut out, m, &b, &s, d_text)?;
        ln(
            &mut out,
            m,
            &format!("{b}.cross_attn_ln"),
            &format!("{s}/attention/layer_norm"),
        )?;
        lin(
            &mut out,
            m,
            &format!("{b}.cross_attn.query"),
            &format!("{s}/attention/linear_0"),
            None,
            true,
        )?;
        let kv = format!("{s}/attention/linear_1");
        lin(
            &mut out,
            m,
            &format!("{b}.cross_attn.key"),
            &kv,
            Some((0, d_text)),
            false,
        )?;
        lin(
            &mut out,
            m,
            &format!("{b}.cross_attn.value"),
            &kv,
            Some((d_text, 2 * d_text)),
            true,
        )?;
        lin(
            &mut out,
            m,
            &format!("{b}.cross_attn.out"),
            &format!("{s}/attention/linear_2"),
            None,
            true,
        )?;
        mlp(&mut out, m, &b, &s)?;
    }
    ln(&mut out, m, "decoder.ln", "decoder/layer_norm")?;
    Ok(out)
}

fn push<'a>(out: &mut Vec<Named<'a>>, name: &str, tensor: Tensor<'a>) {
    out.push(Named {
        name: name.to_string(),
        tensor,
    });
}

fn lin<'a>(
    out: &mut Vec<Named<'a>>,
    m: &Ct2Model<'a>,
    dst: &str,
    src: &str,
    rows: Option<(usize, usize)>,
    bias: bool,
) -> Result<(), ModelError> {
    let w = m.get(&format!("{src}/weight"))?;
    let b = m.vars.get(&format!("{src}/bias"));
    fn cut<'t>(t: &Tensor<'t>, rows: Option<(usize, usize)>) -> Tensor<'t> {
        match rows {
            Some((a, z)) => t.rows(a, z),
            None => t.clone(),
        }
    }
    push(out, &format!("{dst}.weight"), cut(w, rows));
    match (bias, b) {
        (true, Some(b)) => push(out, &format!("{dst}.bias"), cut(b, rows)),
        (true, None) => return Err(ModelError::Convert(format!("{src} has no bias"))),
        // The key projection has no bias in Whisper; CT2 stores zeros for it, if anything.
        (false, Some(b)) if cut(b, rows).values().any(|x| x != 0.0) => {
            return Err(ModelError::Convert(format!(
                "{src}: unexpected non-zero key bias"
            )));
        }
        (false, _) => {}
    }
    Ok(())
}

fn ln<'a>(
    out: &mut Vec<Named<'a>>,
    m: &Ct2Model<'a>,
    dst: &str,
    src: &str,
) -> Result<(), ModelError> {
    push(
        out,
        &format!("{dst}.weight"),
        m.get(&format!("{src}/gamma"))?.clone(),
    );
    push(
        out,
        &format!("{dst}.bias"),
        m.get(&format!("{src}/beta"))?.clone(),
    );
    Ok(())
}

fn self_attn<'a>(
    out: &mut Vec<Named<'a>>,
    m: &Ct2Model<'a>,
    dst: &str,
    src: &str,
    d: usize,
) -> Result<(), ModelError> {
    ln(
        out,
        m,
        &format!("{dst}.attn_ln"),
        &format!("{src}/self_attention/layer_norm"),
    )?;
    let qkv = format!("{src}/self_attention/linear_0");
    lin(
        out,
        m,
        &format!("{dst}.attn.query"),
        &qkv,
        Some((0, d)),
        true,
    )?;
    lin(
        out,
        m,
        &format!("{dst}.attn.key"),
        &qkv,
        Some((d, 2 * d)),
        false,
    )?;
    lin(
        out,
        m,
        &format!("{dst}.attn.value"),
        &qkv,
        Some((2 * d, 3 * d)),
        true,
    )?;
    lin(
        out,
        m,
        &format!("{dst}.attn.out"),
        &format!("{src}/self_attention/linear_1"),
        None,
        true,
    )
}

fn mlp<'a>(
    out: &mut Vec<Named<'a>>,
    m: &Ct2Model<'a>,
    dst: &str,
    src: &str,
) -> Result<(), ModelError> {
    ln(
        out,
        m,
        &format!("{dst}.mlp_ln"),
        &format!("{src}/ffn/layer_norm"),
    )?;
    lin(
        out,
        m,
        &format!("{dst}.mlp.0"),
        &format!("{src}/ffn/linear_0"),
        None,
        true,
    )?;
    lin(
        out,
        m,
        &format!("{dst}.mlp.2"),
        &format!("{src}/ffn/linear_1"),
        None,
        true,
    )
}

/// One q8_0 block: f16 scale then 32 signed bytes, rounding like whisper.cpp (half away from 0).
fn quantize_q8_0(x: &[f32], out: &mut Vec<u8>) {
    for block in x.chunks_exact(32) {
        let amax = block.iter().fold(0f32, |a, v| a.max(v.abs()));
        let d = amax / 127f32;
        let id = if d != 0.0 { 1f32 / d } else { 0f32 };
        out.extend_from_slice(&half::f16::from_f32(d).to_le_bytes());
        for &v in block {
            let v = v * id;
            out.push((v.signum() * (v.abs() + 0.5).floor()) as i8 as u8);
        }
    }
}

fn i32s(w: &mut impl Write, xs: &[i32]) -> std::io::Result<()> {
    for x in xs {
        w.write_all(&x.to_le_bytes())?;
    }
    Ok(())
}

/// Converts `model` to ggml and writes it to `w`.
///
/// # Errors
/// `ModelError::Convert` for a model that is not Whisper-shaped, `ModelError::Io` on write.
pub fn write_ggml(
    model: &Ct2Model,
    vocab: &[Vec<u8>],
    mel: &MelFilters,
    quant: Quant,
    w: &mut impl Write,
) -> Result<(), ModelError> {
    let emb = model.get("decoder/embeddings/weight")?;
    let (n_vocab, d_text) = (emb.shape[0], emb.shape[1]);
    let enc_pos = model.get("encoder/position_encodings/encodings")?;
    let (n_audio_ctx, d_audio) = (enc_pos.shape[0], enc_pos.shape[1]);
    let n_text_ctx = model.get("decoder/position_encodings/encodings")?.shape[0];
    let n_mels = model.get("encoder/conv1/weight")?.shape[1];
    let heads = |n: &str| -> Result<usize, ModelError> {
        model
            .get(n)?
            .values()
            .next()
            .map(|h| h as usize)
            .ok_or_else(|| ModelError::Convert(format!("{n} is empty")))
    };
    if n_mels != mel.n_mels {
        return Err(ModelError::Convert(format!(
            "model wants {n_mels} mel bins, filters have {}",
            mel.n_mels
        )));
    }
    let ftype = match quant {
        Quant::F16 => 1,
        Quant::Q8_0 => FTYPE_Q8_0,
    };
    let hp = [
        n_vocab,
        n_audio_ctx,
        d_audio,
        heads("encoder/num_heads")?,
        model.layers("encoder"),
        n_text_ctx,
        d_text,
        heads("decoder/num_heads")?,
        model.layers("decoder"),
        n_mels,
    ];
    w.write_all(&GGML_MAGIC.to_le_bytes())?;
    i32s(w, &hp.map(|x| x as i32))?;
    i32s(w, &[ftype, mel.n_mels as i32, mel.n_fft as i32])?;
    for v in &mel.data {
        w.write_all(&v.to_le_bytes())?;
    }
    i32s(w, &[vocab.len() as i32])?;
    for t in vocab {
        i32s(w, &[t.len() as i32])?;
        w.write_all(t)?;
    }
    let mut buf = Vec::new();
    for Named { name, tensor } in collect(model)? {
        let nd = tensor.shape.len();
        buf.clear();
        let tt = if nd < 2 || KEEP_F32.contains(&name.as_str()) {
            tensor
                .values()
                .for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
            0
        } else if nd == 2 && quant == Quant::Q8_0 {
            // Quantize from the f16 values, exactly as quantizing the f16 file would.
            let x: Vec<f32> = tensor
                .values()
                .map(|v| half::f16::from_f32(v).to_f32())
                .collect();
            quantize_q8_0(&x, &mut buf);
            8
        } else {
            tensor
                .values()
                .for_each(|v| buf.extend_from_slice(&half::f16::from_f32(v).to_le_bytes()));
            1
        };
        i32s(w, &[nd as i32, name.len() as i32, tt])?;
        let ne: Vec<i32> = tensor.shape.iter().rev().map(|&x| x as i32).collect();
        i32s(w, &ne)?;
        w.write_all(name.as_bytes())?;
        w.write_all(&buf)?;
    }
    Ok(())
}

/// Reads `mel_<n>` from openai-whisper's `mel_filters.npz` (a zip of `.npy` arrays).
pub fn read_mel_filters(npz: &[u8], n_mels: usize) -> Result<MelFilters, ModelError> {
    let bad = |m: &str| ModelError::Convert(format!("mel_filters.npz: {m}"));
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(npz)).map_err(|e| bad(&e.to_string()))?;
    let mut f = zip
        .by_name(&format!("mel_{n_mels}.npy"))
        .map_err(|e| bad(&e.to_string()))?;
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut f, &mut raw)?;
    if !raw.starts_with(b"\x93NUMPY") || raw.len() < 10 {
        return Err(bad("not a .npy array"));
    }
    let (hlen, start) = match raw[6] {
        1 => (u16::from_le_bytes([raw[8], raw[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes(raw[8..12].try_into().unwrap()) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&raw[start..start + hlen]).map_err(|_| bad("header"))?;
    let shape: Vec<usize> = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("no shape"))?
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let body = &raw[start + hlen..];
    let data: Vec<f32> = if header.contains("'<f4'") {
        body.chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect()
    } else if header.contains("'<f8'") {
        body.chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32)
            .collect()
    } else if header.contains("'<f2'") {
        body.chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect()
    } else {
        return Err(bad("unsupported dtype"));
    };
    if shape.len() != 2
        || shape[0] * shape[1] != data.len()
        || header.contains("'fortran_order': True")
    {
        return Err(bad("unexpected layout"));
    }
    Ok(MelFilters {
        n_mels: shape[0],
        n_fft: shape[1],
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q8_0_rounds_half_away_from_zero_and_scales_by_amax() {
        let mut x = vec![0f32; 32];
        x[0] = 127.0;
        x[1] = -63.5;
        x[2] = 0.49;
        let mut out = Vec::new();
        quantize_q8_0(&x, &mut out);
        assert_eq!(out.len(), 34);
        assert_eq!(half::f16::from_le_bytes([out[0], out[1]]).to_f32(), 1.0);
        assert_eq!(out[2] as i8, 127);
        assert_eq!(out[3] as i8, -64);
        assert_eq!(out[4] as i8, 0);
    }

    #[test]
    fn vocabulary_decodes_byte_level_tokens() {
        let v = decode_vocabulary("!\nĠthe\nĊ\n<|endoftext|>\n<|startoftranscript|>").unwrap();
        assert_eq!(v, vec![b"!".to_vec(), b" the".to_vec(), b"\n".to_vec()]);
        assert!(decode_vocabulary("a\nb").is_err());
    }
}
