//! Just enough of the protobuf wire format to read and write ONNX models without a schema:
//! a message is a list of fields, each kept as its raw bytes so that everything not touched is
//! copied byte for byte (`cut`, and the voice's `split` and `quantize`).

/// Bytes that are not a protobuf message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub &'static str);

/// One protobuf field: its number, wire type, the whole encoded field and its payload.
#[derive(Clone, Copy)]
pub struct Field<'a> {
    pub num: u64,
    /// The wire type: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
    pub wire: u8,
    /// The whole encoded field: key, length and payload.
    pub raw: &'a [u8],
    /// The payload (for a varint, its encoded bytes).
    pub body: &'a [u8],
}

/// Reads a varint at `at`, moving `at` past it.
pub fn varint(buf: &[u8], at: &mut usize) -> Result<u64, Malformed> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*at).ok_or(Malformed("truncated varint"))?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(Malformed("varint too long"))
}

/// The fields of a message, in order.
pub fn fields(buf: &[u8]) -> Result<Vec<Field<'_>>, Malformed> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let start = at;
        let key = varint(buf, &mut at)?;
        let body_start;
        match key & 7 {
            0 => {
                body_start = at;
                varint(buf, &mut at)?;
            }
            1 => {
                body_start = at;
                at += 8;
            }
            2 => {
                let len = varint(buf, &mut at)? as usize;
                body_start = at;
                at = at.checked_add(len).ok_or(Malformed("length overflow"))?;
            }
            5 => {
                body_start = at;
                at += 4;
            }
            _ => return Err(Malformed("unknown wire type")),
        }
        if at > buf.len() {
            return Err(Malformed("field runs past the end"));
        }
        out.push(Field {
            num: key >> 3,
            wire: (key & 7) as u8,
            raw: &buf[start..at],
            body: &buf[body_start..at],
        });
    }
    Ok(out)
}

/// The values of string field `num`.
pub fn strings<'a>(fs: &[Field<'a>], num: u64) -> Vec<&'a str> {
    fs.iter()
        .filter(|f| f.num == num)
        .map(|f| std::str::from_utf8(f.body).unwrap_or(""))
        .collect()
}

/// Appends `v` as a varint.
pub fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field's key and length.
pub fn header(num: u64, len: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(12);
    put_varint((num << 3) | 2, &mut h);
    put_varint(len as u64, &mut h);
    h
}

/// A length-delimited field: bytes, a string or an embedded message.
pub fn bytes_field(num: u64, body: &[u8]) -> Vec<u8> {
    let mut v = header(num, body.len());
    v.extend_from_slice(body);
    v
}

/// A varint field.
pub fn varint_field(num: u64, value: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(11);
    put_varint(num << 3, &mut v);
    put_varint(value, &mut v);
    v
}

/// The values of a repeated int64 field `num`, packed or not.
pub fn ints(fs: &[Field<'_>], num: u64) -> Result<Vec<i64>, Malformed> {
    let mut out = Vec::new();
    for f in fs.iter().filter(|f| f.num == num) {
        let mut at = 0;
        if f.wire == 2 {
            while at < f.body.len() {
                out.push(varint(f.body, &mut at)? as i64);
            }
        } else {
            out.push(varint(f.body, &mut at)? as i64);
        }
    }
    Ok(out)
}

/// `ValueInfoProto` for a float tensor of any shape named `name`.
pub fn float_value_info(name: &str) -> Vec<u8> {
    // TypeProto { tensor_type (1): { elem_type (1): FLOAT = 1 } }
    let mut v = bytes_field(1, name.as_bytes());
    v.extend(bytes_field(2, &[0x0a, 0x02, 0x08, 0x01]));
    v
}

/// A graph input (`num` 11) or output (12): a float tensor of any shape named `name`.
pub fn float_value(num: u64, name: &str) -> Vec<u8> {
    bytes_field(num, &float_value_info(name))
}

/// A `NodeProto` field of the graph; `attrs` are encoded `AttributeProto` fields.
pub fn node(name: &str, op: &str, inputs: &[&str], outputs: &[&str], attrs: &[&[u8]]) -> Vec<u8> {
    let mut n = Vec::new();
    for i in inputs {
        n.extend(bytes_field(1, i.as_bytes()));
    }
    for o in outputs {
        n.extend(bytes_field(2, o.as_bytes()));
    }
    n.extend(bytes_field(3, name.as_bytes()));
    n.extend(bytes_field(4, op.as_bytes()));
    for a in attrs {
        n.extend_from_slice(a);
    }
    bytes_field(1, &n)
}
