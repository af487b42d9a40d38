//! A music library written at test time: sine tones encoded by sox (MP3, FLAC, Ogg Vorbis,
//! WAV) and tagged with lofty. Nothing copyrighted is committed.

use std::path::{Path, PathBuf};
use std::process::Command;

use lofty::config::WriteOptions;
use lofty::file::TaggedFileExt;
use lofty::tag::{Accessor, Tag, TagExt};

pub struct Song<'a> {
    pub file: &'a str,
    pub hz: u32,
    pub seconds: f32,
    pub title: &'a str,
    pub artist: &'a str,
    pub album: &'a str,
    pub genre: &'a str,
    pub track: u32,
}

/// Encodes a stereo tone at half scale into `path` (format from its extension) and tags it.
pub fn write_song(dir: &Path, s: &Song) -> PathBuf {
    let path = dir.join(s.file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let st = Command::new("sox")
        .args(["-n", "-r", "44100", "-c", "2"])
        .arg(&path)
        .args([
            "synth",
            &s.seconds.to_string(),
            "sine",
            &s.hz.to_string(),
            "vol",
            "0.5",
        ])
        .status()
        .expect("sox is not installed: run scripts/deps.sh --test");
    assert!(
        st.success(),
        "sox could not write {} (MP3 needs libsox-fmt-mp3)",
        path.display()
    );
    let mut f = lofty::read_from_path(&path).unwrap();
    if f.primary_tag().is_none() {
        let kind = f.primary_tag_type();
        f.insert_tag(Tag::new(kind));
    }
    let tag = f.primary_tag_mut().unwrap();
    tag.set_title(s.title.into());
    tag.set_artist(s.artist.into());
    tag.set_album(s.album.into());
    tag.set_genre(s.genre.into());
    tag.set_track(s.track);
    tag.save_to_path(&path, WriteOptions::default()).unwrap();
    path
}

/// The usual test library: one song per format, 440/550/660/770 Hz.
pub fn standard(dir: &Path, seconds: f32) -> Vec<PathBuf> {
    [
        Song {
            file: "tones/summer/01 Blue Sky.mp3",
            hz: 440,
            seconds,
            title: "Blue Sky",
            artist: "The Tones",
            album: "Summer Tapes",
            genre: "Pop",
            track: 1,
        },
        Song {
            file: "tones/summer/02 Night Drive.flac",
            hz: 660,
            seconds,
            title: "Night Drive",
            artist: "The Tones",
            album: "Summer Tapes",
            genre: "Pop",
            track: 2,
        },
        Song {
            file: "mina/Rainy Piano.ogg",
            hz: 550,
            seconds,
            title: "Rainy Piano",
            artist: "Mina Park",
            album: "Quiet Rooms",
            genre: "Classical",
            track: 1,
        },
        Song {
            file: "iu/밤편지.wav",
            hz: 770,
            seconds,
            title: "밤편지",
            artist: "아이유",
            album: "팔레트",
            genre: "Ballad",
            track: 1,
        },
    ]
    .iter()
    .map(|s| write_song(dir, s))
    .collect()
}

/// Power of `hz` in `samples` (Goertzel), as an amplitude (a full-scale sine gives ~1).
pub fn tone_level(samples: &[f32], rate: u32, hz: f32) -> f32 {
    let n = samples.len() as f32;
    if n == 0.0 {
        return 0.0;
    }
    let w = std::f32::consts::TAU * hz / rate as f32;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in samples {
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power.max(0.0).sqrt() / n
}

/// How loud Sori's message chime is in 16 kHz `samples`: the quieter of its two notes, each
/// at its loudest over sliding Goertzel windows; ~0 unless both notes are there.
pub fn message_chime_level(samples: &[f32]) -> f32 {
    let loudest = |hz: f32| {
        samples
            .windows(1600)
            .step_by(400)
            .map(|w| tone_level(w, 16_000, hz))
            .fold(0.0f32, f32::max)
    };
    loudest(784.0).min(loudest(987.8))
}

/// A 16-bit WAV file's samples as f32.
pub fn wav_samples(path: &Path) -> Vec<f32> {
    wav_with_rate(path).1
}

/// A 16-bit WAV file's sample rate and samples as f32.
pub fn wav_with_rate(path: &Path) -> (u32, Vec<f32>) {
    let r = hound::WavReader::open(path).unwrap();
    let rate = r.spec().sample_rate;
    let s = r
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    (rate, s)
}

/// Levels of 100 ms windows as L (above `loud` of the loudest), d (a ratio in `ducked`) or .
/// (silence, edges, in between), and that run of classes with repeats and dots squeezed out
/// ("LL..dddLL" → "LdL"): how music ducking looks at the speaker.
pub fn duck_classes(w: &[f32], loud: f32, ducked: std::ops::Range<f32>) -> (String, String) {
    let max = w.iter().fold(0.0f32, |m, x| m.max(*x));
    let classes: String = w
        .iter()
        .map(|x| {
            let r = x / max;
            if r > loud {
                'L'
            } else if ducked.contains(&r) {
                'd'
            } else {
                '.'
            }
        })
        .collect();
    let squeezed = classes
        .chars()
        .filter(|&c| c != '.')
        .fold(String::new(), |mut a, c| {
            if !a.ends_with(c) {
                a.push(c);
            }
            a
        });
    (classes, squeezed)
}

/// What a speaker recording says (whisper, English) and whether Sori's message chime is in it:
/// (the transcript in lower case, the chime's level).
pub fn heard_at_speaker(wav: &Path) -> (String, f32) {
    let chime = message_chime_level(&wav_samples(wav));
    let out = super::run_ok(
        super::sori()
            .args(["transcribe", "--json", "--lang", "en"])
            .arg(wav),
    );
    let text = super::transcripts(&out)[0]["text"]
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    (text, chime)
}

/// What a speaker recording of several replies says, reply by reply, in lower case: whisper
/// given the whole recording, pauses and all, can skip whole replies, so the recording is cut
/// at pauses of 0.5 s or more and each piece (earcons left out: under 0.4 s) is transcribed,
/// with the model loaded once.
pub fn heard_in_pieces(wav: &Path) -> String {
    let (rate, s) = wav_with_rate(wav);
    let win = (rate / 20) as usize; // 50 ms
    let loud: Vec<bool> = s
        .chunks(win)
        .map(|w| (w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32).sqrt() > 0.01)
        .collect();
    let mut pieces = Vec::new();
    let (mut start, mut quiet) = (None, 0);
    for (i, &l) in loud.iter().enumerate() {
        if l {
            start.get_or_insert(i);
            quiet = 0;
        } else if let Some(st) = start {
            quiet += 1;
            if quiet == 10 {
                pieces.push((st, i + 1 - quiet));
                start = None;
            }
        }
    }
    if let Some(st) = start {
        pieces.push((st, loud.len() - quiet));
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut files = Vec::new();
    for (n, (a, b)) in pieces.into_iter().filter(|(a, b)| b - a >= 8).enumerate() {
        let f = dir.path().join(format!("piece{n}.wav"));
        let mut w = hound::WavWriter::create(&f, spec).unwrap();
        // A little of the quiet around each piece, as whisper expects.
        let (from, to) = (a.saturating_sub(4) * win, ((b + 4) * win).min(s.len()));
        for x in &s[from..to] {
            w.write_sample(sori::audio::f32_to_i16(*x)).unwrap();
        }
        w.finalize().unwrap();
        files.push(f);
    }
    if files.is_empty() {
        return String::new();
    }
    let out = super::run_ok(
        super::sori()
            .args(["transcribe", "--json", "--lang", "en"])
            .args(&files),
    );
    super::transcripts(&out)
        .iter()
        .filter_map(|t| t["text"].as_str())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
