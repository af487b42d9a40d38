//! Reader for CTranslate2 `model.bin` files (binary format version 4+), the form in which
//! faster-whisper models are published. Only what the ggml conversion needs: named tensors.

use std::collections::HashMap;

use super::ModelError;

/// One tensor, borrowed from the model file's bytes (no copy: conversion must fit on a Pi).
#[derive(Debug, Clone)]
pub struct Tensor<'a> {
    pub shape: Vec<usize>,
    dtype: u8,
    raw: &'a [u8],
}

impl<'a> Tensor<'a> {
    fn elem_size(&self) -> usize {
        match self.dtype {
            1 => 1,
            2 | 4 | 5 => 2,
            _ => 4,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.raw.len() / self.elem_size()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Values widened to f32, in row-major order.
    pub fn values(&self) -> impl Iterator<Item = f32> + '_ {
        let dtype = self.dtype;
        self.raw
            .chunks_exact(self.elem_size())
            .map(move |b| match dtype {
                0 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                1 => b[0] as i8 as f32,
                2 => i16::from_le_bytes([b[0], b[1]]) as f32,
                3 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
                4 => half::f16::from_le_bytes([b[0], b[1]]).to_f32(),
                _ => half::bf16::from_le_bytes([b[0], b[1]]).to_f32(),
            })
    }

    /// Rows `[start, end)` of the tensor: CT2 fuses attention projections.
    pub fn rows(&self, start: usize, end: usize) -> Tensor<'a> {
        let row = self.shape[1..].iter().product::<usize>() * self.elem_size();
        let mut shape = self.shape.clone();
        shape[0] = end - start;
        Tensor {
            shape,
            dtype: self.dtype,
            raw: &self.raw[start * row..end * row],
        }
    }

    /// The same values seen with another shape.
    pub fn reshaped(&self, shape: Vec<usize>) -> Tensor<'a> {
        Tensor {
            shape,
            dtype: self.dtype,
            raw: self.raw,
        }
    }
}

/// All variables of a CT2 model, by name (`encoder/layer_0/self_attention/linear_0/weight` …).
pub struct Ct2Model<'a> {
    pub vars: HashMap<String, Tensor<'a>>,
}

struct Cursor<'a> {
    buf: &'a [u8],
    off: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self.off.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| ModelError::Convert("CT2 model.bin is truncated".into()))?;
        let s = &self.buf[self.off..end];
        self.off = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ModelError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ModelError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    /// A u16-length-prefixed, NUL-terminated string.
    fn string(&mut self) -> Result<String, ModelError> {
        let n = self.u16()? as usize;
        let raw = self.take(n)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        Ok(String::from_utf8_lossy(raw).into_owned())
    }
}

impl<'a> Ct2Model<'a> {
    /// Parses a whole `model.bin`.
    ///
    /// # Errors
    /// `ModelError::Convert` when the file is not a CT2 model or uses int8 weights (convert from
    /// the f16 release instead).
    pub fn parse(buf: &'a [u8]) -> Result<Self, ModelError> {
        let mut c = Cursor { buf, off: 0 };
        let version = c.u32()?;
        if !(2..=10).contains(&version) {
            return Err(ModelError::Convert(format!(
                "not a CTranslate2 model (version {version})"
            )));
        }
        let _spec = c.string()?;
        let _revision = c.u32()?;
        let n = c.u32()?;
        let mut vars = HashMap::with_capacity(n as usize);
        for _ in 0..n {
            let name = c.string()?;
            let rank = c.u8()? as usize;
            let mut shape = Vec::with_capacity(rank);
            for _ in 0..rank {
                shape.push(c.u32()? as usize);
            }
            let dtype = c.u8()?;
            let nbytes = c.u32()? as usize;
            let raw = c.take(nbytes)?;
            match dtype {
                0 | 2..=5 => {}
                1 if rank == 0 || name.ends_with("num_heads") => {}
                1 => {
                    return Err(ModelError::Convert(format!(
                        "{name}: int8 CT2 weights are not supported; use the f16 model"
                    )));
                }
                t => {
                    return Err(ModelError::Convert(format!(
                        "{name}: unknown CT2 dtype {t}"
                    )));
                }
            }
            vars.insert(name, Tensor { shape, dtype, raw });
        }
        Ok(Ct2Model { vars })
    }

    /// The variable `name`, or a conversion error naming it.
    pub fn get(&self, name: &str) -> Result<&Tensor<'a>, ModelError> {
        self.vars
            .get(name)
            .ok_or_else(|| ModelError::Convert(format!("CT2 model has no variable {name}")))
    }

    /// Number of `prefix/layer_N/` blocks.
    pub fn layers(&self, prefix: &str) -> usize {
        let p = format!("{prefix}/layer_");
        let mut ids: Vec<&str> = self
            .vars
            .keys()
            .filter_map(|k| k.strip_prefix(&p))
            .filter_map(|r| r.split('/').next())
            .filter(|id| id.chars().all(|c| c.is_ascii_digit()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }
}
