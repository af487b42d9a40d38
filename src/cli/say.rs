//! `sori say` (speak text on the speaker or into a WAV) and `sori volume`.

use std::path::PathBuf;
use std::time::Instant;

use sori::audio::mixer::{Mixer, VolumeChange};
use sori::audio::{self, AudioSink, Clip};
use sori::config::Config;
use sori::tts::stream::Synth;
use sori::tts::voices::VoiceSpec;
use sori::tts::{Tts, Voices};

#[derive(clap::Args)]
pub struct SayArgs {
    /// What to say. Numbers, times and units are read out naturally ("5:30", "21°C", "3분").
    pub text: String,
    /// Language: en or ko. Default: Korean if the text has Hangul, else English.
    #[arg(long)]
    pub lang: Option<String>,
    /// Voice for this language: piper:NAME, piper:/path/voice.onnx or espeak:VOICE
    /// (default: tts.voices in the config).
    #[arg(long)]
    pub voice: Option<String>,
    /// Write a WAV file instead of playing on the speaker.
    #[arg(long, value_name = "FILE.wav")]
    pub output: Option<PathBuf>,
    /// Print timings as JSON: voice load, first audio, synthesis time and audio length.
    #[arg(long)]
    pub json: bool,
    /// Say it this many times (for benchmarks: the voice is loaded once).
    #[arg(long, default_value_t = 1, hide = true)]
    pub repeat: u32,
}

pub fn say(cfg: &Config, args: SayArgs) -> anyhow::Result<()> {
    let lang = args
        .lang
        .clone()
        .unwrap_or_else(|| sori::lang::detect(&args.text).to_string());
    let mut voices = Voices::from_config(cfg)?;
    if let Some(v) = &args.voice {
        voices.set_voice(&lang, VoiceSpec::parse(v, &cfg.models_dir())?);
    }
    // Loading is timed on its own; an explicitly chosen voice that cannot load is an error,
    // the configured one falls back to espeak-ng (as the daemon does).
    let started = Instant::now();
    let loaded = voices.preload(&lang);
    if args.voice.is_some() {
        loaded?;
    }
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let spec = voices.spec(&lang);
    let mut sink: Box<dyn AudioSink> = match &args.output {
        Some(f) => Box::new(audio::wav::WavSink::create(f)?),
        None => audio::open_sink(&cfg.audio)?,
    };
    // The device volume applies on the speaker; a WAV file gets the voice at full level.
    let mixer = args.output.is_none().then(|| Mixer::from_config(cfg));
    let synth = Synth::spawn(Box::new(voices) as Box<dyn Tts>);
    let never = std::sync::atomic::AtomicBool::new(false);
    for _ in 0..args.repeat.max(1) {
        let t0 = Instant::now();
        let (mut first_ms, mut audio_ms, mut sentences) = (None, 0u64, 0);
        for piece in synth.speak(&args.text, &lang) {
            let mut clip: Clip = piece?;
            first_ms.get_or_insert(t0.elapsed().as_secs_f64() * 1000.0);
            sentences += 1;
            audio_ms += clip.duration_ms();
            if let Some(m) = &mixer {
                m.apply_speech_gain(&mut clip.samples);
            }
            sink.queue_until(&clip, &never)?;
        }
        sink.drain_until(&never)?;
        let total_ms = t0.elapsed().as_secs_f64() * 1000.0;
        if args.json {
            let voice = spec.to_string();
            println!(
                "{}",
                serde_json::json!({
                    "lang": lang, "voice": voice, "sentences": sentences, "load_ms": load_ms,
                    "first_audio_ms": first_ms, "total_ms": total_ms, "audio_ms": audio_ms,
                    "rtf": if audio_ms > 0 { total_ms / audio_ms as f64 } else { 0.0 },
                })
            );
        } else {
            tracing::info!(output = %sink.describe(), sentences, audio_ms, first_audio_ms = first_ms.unwrap_or(0.0) as u64, "said");
        }
    }
    Ok(())
}

#[derive(Clone, Debug)]
pub enum VolumeArg {
    Show,
    Change(VolumeChange),
}

pub fn parse_volume(s: &str) -> Result<VolumeArg, String> {
    Ok(match s {
        "show" | "status" => VolumeArg::Show,
        "up" | "louder" => VolumeArg::Change(VolumeChange::Up),
        "down" | "quieter" => VolumeArg::Change(VolumeChange::Down),
        "mute" => VolumeArg::Change(VolumeChange::Mute),
        "unmute" => VolumeArg::Change(VolumeChange::Unmute),
        n => match n.parse::<u8>() {
            Ok(n) if n <= 100 => VolumeArg::Change(VolumeChange::To(n)),
            _ => {
                return Err(format!(
                    "`{n}` is not a volume: use 0-100, up, down, mute, unmute or show"
                ));
            }
        },
    })
}

pub fn volume(cfg: &Config, arg: VolumeArg) -> anyhow::Result<()> {
    let mixer = Mixer::from_config(cfg);
    let v = match arg {
        VolumeArg::Show => mixer.volume(),
        VolumeArg::Change(c) => mixer.change(c)?,
    };
    println!(
        "volume {}{}",
        v.level,
        if v.muted { " (music muted)" } else { "" }
    );
    Ok(())
}
