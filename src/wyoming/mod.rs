//! The Wyoming protocol (Home Assistant's voice services and satellites): each event is one
//! JSON header line `{"type", "data"?, "data_length"?, "payload_length"?, "version"?}`, then
//! `data_length` bytes of JSON merged into `data`, then `payload_length` bytes of binary
//! payload (audio). This is the codec, sync over any `BufRead`/`Write` (a TCP or Unix socket);
//! `types` builds and reads the events Sori uses. Sizes are capped so a malformed or hostile
//! peer costs one closed connection, never the daemon's memory.

pub mod client;
pub mod satellite;
pub mod types;
pub mod zeroconf;

use std::io::{BufRead, Read, Write};

use serde_json::{Map, Value};
use thiserror::Error;

/// The protocol version Sori writes (that of the reference library it is tested against).
pub const VERSION: &str = "1.10.2";

/// Longest header line accepted.
const MAX_HEADER: usize = 64 * 1024;
/// Largest additional data accepted.
const MAX_DATA: usize = 1024 * 1024;
/// Largest payload accepted: 16 MiB is over eight minutes of 16 kHz 16-bit mono in one chunk.
const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum WyomingError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent something that is not a Wyoming event; the connection should be closed.
    #[error("malformed event: {0}")]
    Malformed(String),
}

/// One event: its type, data and payload.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    pub kind: String,
    pub data: Map<String, Value>,
    pub payload: Vec<u8>,
}

impl Event {
    pub fn new(kind: &str) -> Event {
        Event {
            kind: kind.to_string(),
            ..Event::default()
        }
    }

    /// With `data` (a JSON object; anything else is ignored).
    pub fn with_data(mut self, data: Value) -> Event {
        if let Value::Object(m) = data {
            self.data = m;
        }
        self
    }

    pub fn with_payload(mut self, payload: Vec<u8>) -> Event {
        self.payload = payload;
        self
    }

    pub fn is(&self, kind: &str) -> bool {
        self.kind == kind
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }

    pub fn u64(&self, key: &str) -> Option<u64> {
        self.data.get(key).and_then(Value::as_u64)
    }
}

/// Reads the next event; `Ok(None)` at a clean end of the stream.
///
/// # Errors
/// I/O errors, and `Malformed` for a header that is not a JSON object with a `type`, lengths
/// over the limits, data that is not a JSON object, or a stream that ends mid-event.
pub fn read_event(r: &mut impl BufRead) -> Result<Option<Event>, WyomingError> {
    let mut line = Vec::new();
    let n = r.take(MAX_HEADER as u64 + 1).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(WyomingError::Malformed(if line.len() > MAX_HEADER {
            format!("header line longer than {MAX_HEADER} bytes")
        } else {
            "stream ended inside a header line".into()
        }));
    }
    let mut header: Map<String, Value> = serde_json::from_slice(&line).map_err(|e| {
        WyomingError::Malformed(format!(
            "header is not a JSON object ({e}): {}",
            String::from_utf8_lossy(&line[..line.len().min(80)]).trim_end()
        ))
    })?;
    let kind = match header.remove("type") {
        Some(Value::String(t)) if !t.is_empty() => t,
        _ => return Err(WyomingError::Malformed("header has no \"type\"".into())),
    };
    let length = |h: &Map<String, Value>, key: &str, max: usize| -> Result<usize, WyomingError> {
        match h.get(key) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => match v.as_u64() {
                Some(n) if n as usize <= max => Ok(n as usize),
                Some(n) => Err(WyomingError::Malformed(format!(
                    "{key} {n} is over the limit of {max} bytes"
                ))),
                None => Err(WyomingError::Malformed(format!(
                    "{key} is not a length: {v}"
                ))),
            },
        }
    };
    let data_len = length(&header, "data_length", MAX_DATA)?;
    let payload_len = length(&header, "payload_length", MAX_PAYLOAD)?;
    let mut data = match header.remove("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(WyomingError::Malformed(format!(
                "\"data\" is not an object: {other}"
            )));
        }
    };
    if data_len > 0 {
        let mut buf = vec![0u8; data_len];
        read_exact(r, &mut buf, "data")?;
        let extra: Map<String, Value> = serde_json::from_slice(&buf).map_err(|e| {
            WyomingError::Malformed(format!("additional data is not a JSON object: {e}"))
        })?;
        data.extend(extra);
    }
    let mut payload = vec![0u8; payload_len];
    if payload_len > 0 {
        read_exact(r, &mut payload, "payload")?;
    }
    Ok(Some(Event {
        kind,
        data,
        payload,
    }))
}

fn read_exact(r: &mut impl Read, buf: &mut [u8], what: &str) -> Result<(), WyomingError> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            WyomingError::Malformed(format!("stream ended inside the {what}"))
        } else {
            WyomingError::Io(e)
        }
    })
}

/// Writes an event the way the reference library does: data after the header line (so the
/// line stays short), then the payload; one `write_all` per part, no flush per chunk needed by
/// the caller beyond its own.
///
/// # Errors
/// I/O errors.
pub fn write_event(w: &mut impl Write, e: &Event) -> Result<(), WyomingError> {
    let data = if e.data.is_empty() {
        None
    } else {
        Some(serde_json::to_vec(&e.data).expect("a JSON map serializes"))
    };
    let mut header = Map::new();
    header.insert("type".into(), Value::String(e.kind.clone()));
    header.insert("version".into(), Value::String(VERSION.into()));
    if let Some(d) = &data {
        header.insert("data_length".into(), d.len().into());
    }
    if !e.payload.is_empty() {
        header.insert("payload_length".into(), e.payload.len().into());
    }
    let mut line = serde_json::to_vec(&header).expect("a JSON map serializes");
    line.push(b'\n');
    w.write_all(&line)?;
    if let Some(d) = &data {
        w.write_all(d)?;
    }
    if !e.payload.is_empty() {
        w.write_all(&e.payload)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_all(bytes: &[u8]) -> Vec<Result<Option<Event>, WyomingError>> {
        let mut r = std::io::BufReader::new(bytes);
        let mut out = Vec::new();
        loop {
            let e = read_event(&mut r);
            let stop = !matches!(e, Ok(Some(_)));
            out.push(e);
            if stop {
                return out;
            }
        }
    }

    #[test]
    fn events_round_trip_with_data_and_payload() {
        let events = [
            Event::new("describe"),
            Event::new("transcript").with_data(json!({"text": "지금 몇 시야?", "language": "ko"})),
            Event::new("audio-chunk")
                .with_data(json!({"rate": 16000, "width": 2, "channels": 1}))
                .with_payload(vec![1, 2, 3, 0, 255, b'\n']),
        ];
        let mut buf = Vec::new();
        for e in &events {
            write_event(&mut buf, e).unwrap();
        }
        let first_line = buf.split(|b| *b == b'\n').next().unwrap();
        assert_eq!(
            std::str::from_utf8(first_line).unwrap(),
            format!("{{\"type\":\"describe\",\"version\":\"{VERSION}\"}}")
        );
        let got: Vec<Event> = read_all(&buf)
            .into_iter()
            .map_while(|e| e.unwrap())
            .collect();
        assert_eq!(got, events);
    }

    #[test]
    fn inline_data_and_additional_data_are_merged() {
        let extra = br#"{"text":"hi"}"#;
        let msg = format!(
            "{{\"type\":\"transcript\",\"data\":{{\"language\":\"en\"}},\"data_length\":{}}}\n",
            extra.len()
        );
        let mut bytes = msg.into_bytes();
        bytes.extend_from_slice(extra);
        let e = read_all(&bytes).remove(0).unwrap().unwrap();
        assert_eq!(e.str("text"), Some("hi"));
        assert_eq!(e.str("language"), Some("en"));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for (bad, says) in [
            (&b"not json\n"[..], "not a JSON object"),
            (b"{\"data\":{}}\n", "no \"type\""),
            (
                b"{\"type\":\"x\",\"payload_length\":99999999999}\n",
                "over the limit",
            ),
            (b"{\"type\":\"x\",\"payload_length\":-1}\n", "not a length"),
            (
                b"{\"type\":\"x\",\"payload_length\":10}\nabc",
                "ended inside the payload",
            ),
            (
                b"{\"type\":\"x\",\"data_length\":3}\n[1]",
                "not a JSON object",
            ),
            (b"{\"type\":\"x\"", "ended inside a header"),
        ] {
            match read_all(bad).remove(0) {
                Err(WyomingError::Malformed(m)) => assert!(m.contains(says), "{m}"),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bad)),
            }
        }
        let long = vec![b'x'; MAX_HEADER + 10];
        assert!(matches!(
            read_all(&long).remove(0),
            Err(WyomingError::Malformed(m)) if m.contains("longer than")
        ));
    }

    #[test]
    fn the_end_of_the_stream_is_none() {
        assert!(matches!(read_all(b"").remove(0), Ok(None)));
    }
}
