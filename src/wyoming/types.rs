//! The Wyoming events Sori sends and reads, by the reference library's names and fields
//! (`wyoming.audio`, `.asr`, `.tts`, `.wake`, `.info`, `.error`).

use serde_json::{Value, json};

use super::Event;

/// `rate`, `width` (bytes per sample) and `channels` of raw PCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioFormat {
    pub rate: u32,
    pub width: u32,
    pub channels: u32,
}

/// What Sori's microphone path gives and whisper takes.
pub const MIC: AudioFormat = AudioFormat {
    rate: 16_000,
    width: 2,
    channels: 1,
};

impl AudioFormat {
    fn json(&self) -> Value {
        json!({"rate": self.rate, "width": self.width, "channels": self.channels})
    }

    /// The format an `audio-start` or `audio-chunk` names.
    pub fn of(e: &Event) -> Option<AudioFormat> {
        Some(AudioFormat {
            rate: u32::try_from(e.u64("rate")?).ok()?,
            width: u32::try_from(e.u64("width")?).ok()?,
            channels: u32::try_from(e.u64("channels")?).ok()?,
        })
    }
}

pub fn audio_start(f: AudioFormat) -> Event {
    Event::new("audio-start").with_data(f.json())
}

/// 16-bit little-endian samples as a chunk (`width` 2).
pub fn audio_chunk(f: AudioFormat, samples: &[i16]) -> Event {
    let mut payload = Vec::with_capacity(samples.len() * 2);
    for s in samples {
        payload.extend_from_slice(&s.to_le_bytes());
    }
    Event::new("audio-chunk")
        .with_data(f.json())
        .with_payload(payload)
}

pub fn audio_stop() -> Event {
    Event::new("audio-stop")
}

/// A chunk's samples as 16-bit mono (the first channel); `None` unless it is 16-bit PCM.
pub fn chunk_samples(e: &Event) -> Option<(AudioFormat, Vec<i16>)> {
    let f = AudioFormat::of(e)?;
    if f.width != 2 || f.channels == 0 {
        return None;
    }
    let frame = 2 * f.channels as usize;
    let samples = e
        .payload
        .chunks_exact(frame)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some((f, samples))
}

/// `transcribe`: the language to expect (`None`: the server detects it).
pub fn transcribe(language: Option<&str>) -> Event {
    match language {
        Some(l) => Event::new("transcribe").with_data(json!({ "language": l })),
        None => Event::new("transcribe"),
    }
}

pub fn transcript(text: &str, language: Option<&str>) -> Event {
    let mut d = json!({ "text": text });
    if let Some(l) = language {
        d["language"] = json!(l);
    }
    Event::new("transcript").with_data(d)
}

/// `synthesize`: text, and optionally a voice by name and language.
pub fn synthesize(text: &str, voice: Option<&str>, language: Option<&str>) -> Event {
    let mut v = serde_json::Map::new();
    if let Some(n) = voice {
        v.insert("name".into(), json!(n));
    }
    if let Some(l) = language {
        v.insert("language".into(), json!(l));
    }
    let mut d = json!({ "text": text });
    if !v.is_empty() {
        d["voice"] = Value::Object(v);
    }
    Event::new("synthesize").with_data(d)
}

/// `detect`: which wake words to listen for (empty: all the server has).
pub fn detect(names: &[&str]) -> Event {
    if names.is_empty() {
        Event::new("detect")
    } else {
        Event::new("detect").with_data(json!({ "names": names }))
    }
}

pub fn detection(name: &str, timestamp_ms: Option<u64>) -> Event {
    let mut d = json!({ "name": name });
    if let Some(t) = timestamp_ms {
        d["timestamp"] = json!(t);
    }
    Event::new("detection").with_data(d)
}

pub fn describe() -> Event {
    Event::new("describe")
}

pub fn error(text: &str, code: Option<&str>) -> Event {
    let mut d = json!({ "text": text });
    if let Some(c) = code {
        d["code"] = json!(c);
    }
    Event::new("error").with_data(d)
}

/// The names of the models an `info` event offers for a service (`asr`, `tts`, `wake`),
/// installed ones only.
pub fn info_models(info: &Event, service: &str) -> Vec<String> {
    info.data
        .get(service)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p["installed"].as_bool().unwrap_or(true))
        .flat_map(|p| {
            let key = if service == "tts" { "voices" } else { "models" };
            p[key].as_array().cloned().unwrap_or_default()
        })
        .filter(|m| m["installed"].as_bool().unwrap_or(true))
        .filter_map(|m| m["name"].as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_carry_little_endian_samples() {
        let e = audio_chunk(MIC, &[1, -2, i16::MAX]);
        assert_eq!(e.payload, [1, 0, 0xfe, 0xff, 0xff, 0x7f]);
        assert_eq!(chunk_samples(&e), Some((MIC, vec![1, -2, i16::MAX])));
        let stereo = AudioFormat { channels: 2, ..MIC };
        let e = audio_chunk(stereo, &[5, 6, 7, 8]);
        assert_eq!(chunk_samples(&e).unwrap().1, [5, 7], "the first channel");
        let wide = Event::new("audio-chunk")
            .with_data(json!({"rate": 16000, "width": 4, "channels": 1}))
            .with_payload(vec![0; 8]);
        assert_eq!(chunk_samples(&wide), None);
    }

    #[test]
    fn event_data_follows_the_reference_library() {
        assert_eq!(
            Value::Object(synthesize("hi", Some("en_US-joe-medium"), None).data),
            json!({"text": "hi", "voice": {"name": "en_US-joe-medium"}})
        );
        assert_eq!(
            Value::Object(transcribe(Some("ko")).data),
            json!({"language": "ko"})
        );
        assert!(transcribe(None).data.is_empty());
        assert_eq!(detect(&["ok_nabu"]).data["names"], json!(["ok_nabu"]));
    }

    #[test]
    fn models_are_read_from_info() {
        let info = Event::new("info").with_data(json!({
            "asr": [{"name": "faster-whisper", "installed": true,
                     "models": [{"name": "base", "installed": true, "languages": ["en", "ko"]},
                                {"name": "large", "installed": false}]}],
            "tts": [{"name": "piper", "voices": [{"name": "en_US-joe-medium"}]}]
        }));
        assert_eq!(info_models(&info, "asr"), ["base"]);
        assert_eq!(info_models(&info, "tts"), ["en_US-joe-medium"]);
        assert!(info_models(&info, "wake").is_empty());
    }
}
