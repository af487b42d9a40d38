//! Engines give their working memory back between commands and replies (a 512 MB device has
//! no room for what a long reply leaves behind). The process's resident memory is measured, so
//! these tests live in their own binary and take turns: another test's engines in the same
//! process would move the figures.

mod common;

use std::sync::{Arc, Mutex, MutexGuard};

use common::*;
use sori::audio::Clip;
use sori::tts::stream::Synth;
use sori::tts::{Tts, TtsError};

fn alone() -> MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resident memory of this process, in MB.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// `text` said by espeak-ng, as 16 kHz samples.
fn spoken(text: &str) -> Vec<f32> {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("c.wav");
    espeak(text, "en-us", &wav);
    sori::audio::wav::load_16k_mono(&wav).unwrap()
}

/// Between commands whisper gives its working memory back (`Stt::rest`), every time, and the
/// next command, and a language identification on the re-created state, come out as before.
#[test]
fn whisper_gives_its_working_memory_back_between_commands() {
    use sori::stt::Stt;
    require_models();
    let _alone = alone();
    let pcm = spoken("what is the weather like today");
    let cfg = models_config();
    let mut stt = sori::load_stt(&cfg).unwrap();
    let among = ["en".to_string(), "ko".to_string()];
    for round in 0..3 {
        stt.prepare();
        assert_eq!(
            stt.identify(&pcm, &among).map(|(l, _)| l),
            Some("en".into())
        );
        let t = stt.transcribe_in(&pcm, Some("en")).unwrap();
        assert!(
            wer("what is the weather like today", &t.text) <= 0.2,
            "{:?}",
            t.text
        );
        let busy = rss_mb();
        stt.rest();
        let resting = rss_mb();
        eprintln!("round {round}: {busy:.0} MB transcribing, {resting:.0} MB at rest");
        assert!(
            busy - resting >= 30.0,
            "round {round}: only {:.0} MB given back ({busy:.0} → {resting:.0} MB)",
            busy - resting
        );
    }
}

/// Resident memory after each piece, around a real engine.
struct Measuring {
    inner: Box<dyn Tts>,
    after: Arc<Mutex<Vec<f64>>>,
}

impl Tts for Measuring {
    fn synthesize(&mut self, text: &str, language: &str) -> Result<Clip, TtsError> {
        let clip = self.inner.synthesize(text, language)?;
        self.after.lock().unwrap().push(rss_mb());
        Ok(clip)
    }

    fn rest_after_next(&mut self, language: &str) {
        self.inner.rest_after_next(language);
    }
}

/// A Piper voice's working memory grows with the longest piece it has made; once a reply is
/// made it is given back, so a daemon does not carry its longest reply's memory between replies.
#[test]
fn the_voice_gives_its_working_memory_back_after_a_reply() {
    require_models();
    let _alone = alone();
    let cfg = models_config();
    let voices = sori::tts::Voices::from_config(&cfg).unwrap();
    let after = Arc::new(Mutex::new(Vec::new()));
    let synth = Synth::spawn(Box::new(Measuring {
        inner: Box::new(voices),
        after: after.clone(),
    }));
    // A long first sentence (its own pieces), then a short last one.
    let reply = "Tomorrow will be warm and sunny in the morning with a light breeze from the sea \
                 and a few clouds over the hills in the afternoon. Enjoy it.";
    for _ in 0..2 {
        for piece in synth.speak(reply, "en") {
            piece.unwrap();
        }
        let a = std::mem::take(&mut *after.lock().unwrap());
        eprintln!("MB after each piece: {a:.0?}");
        let (last, earlier) = a.split_last().unwrap();
        let most = earlier.iter().copied().fold(0.0, f64::max);
        assert!(
            most - last >= 20.0,
            "the reply's working memory was kept: {a:.0?} MB after each piece"
        );
    }
}

/// The daemon's cycle in one process: whisper transcribes a command and rests, the voice speaks
/// the reply and rests, a few times over. No round may cost more than the first, nor leave
/// more behind. glibc's default mmap threshold rises after each big free,
/// which moved the later rounds' buffers onto the threads' heaps: there the daemon kept 22 MB
/// after its first reply and its second command peaked 30 MB above the first
/// (`sori::memory::configure`).
#[test]
fn a_command_and_its_reply_leave_nothing_behind() {
    use sori::stt::Stt;
    require_models();
    let _alone = alone();
    let pcm = spoken("what is the weather like today");
    let cfg = models_config();
    let mut stt = sori::load_stt(&cfg).unwrap();
    let synth = Synth::spawn(Box::new(sori::tts::Voices::from_config(&cfg).unwrap()));
    let reply = "Today will be warm and sunny, with a light breeze from the sea. Enjoy it.";
    // The daemon has both engines warmed up and at rest before the first command.
    stt.rest();
    for piece in synth.speak("Ready.", "en") {
        piece.unwrap();
    }
    // (at rest before the command, while transcribing, at rest after the reply)
    let mut rounds: Vec<(f64, f64, f64)> = Vec::new();
    for _ in 0..4 {
        let before = rss_mb();
        stt.prepare();
        let t = stt.transcribe_in(&pcm, Some("en")).unwrap();
        assert!(
            wer("what is the weather like today", &t.text) <= 0.2,
            "{:?}",
            t.text
        );
        let busy = rss_mb();
        stt.rest();
        for piece in synth.speak(reply, "en") {
            piece.unwrap();
        }
        rounds.push((before, busy, rss_mb()));
    }
    eprintln!("MB per round (resting, transcribing, after the reply): {rounds:.0?}");
    // Both engines are loaded and warm, so round 0 is a daemon's first command.
    let (rest0, busy0, _) = rounds[0];
    for (i, &(rest, busy, after)) in rounds.iter().enumerate().skip(1) {
        assert!(
            busy - busy0 <= 8.0,
            "round {i} transcribed at {busy:.0} MB, round 0 at {busy0:.0} MB: {rounds:.0?}"
        );
        assert!(
            rest - rest0 <= 8.0 && after - rest0 <= 8.0,
            "round {i} rested at {rest:.0}/{after:.0} MB, round 0 at {rest0:.0} MB: {rounds:.0?}"
        );
    }
}

/// Names from a music library go to whisper as its prompt (`Handler::hints`), and whisper.cpp
/// computed the logits of every prompt token, 207 KB each, of which it reads two rows
/// (`patches/whisper-cpp.cmake`, 4). The prompt still costs its rows of whisper's logits
/// vector (zero-filled up to the prompt's length), but no longer twice that.
#[test]
fn a_long_prompt_costs_whisper_one_row_of_logits_per_token() {
    use sori::stt::Stt;
    require_models();
    let _alone = alone();
    let pcm = spoken("play Kind of Blue by Miles Davis");
    let mut stt = sori::load_stt(&models_config()).unwrap();
    // About 60 tokens of names.
    let names = "Abbey Road, Kind of Blue, Miles Davis, The Beatles, Norah Jones, Come Away With \
                 Me, Blue in Green, So What, Here Comes the Sun, Yesterday, Let It Be, Don't Know \
                 Why, Minji, Jisoo, Clair de Lune";
    let mut busy = Vec::new();
    for prompt in ["", names, "", names] {
        stt.rest();
        let resting = rss_mb();
        let t = stt.transcribe_prompted(&pcm, Some("en"), prompt).unwrap();
        assert!(
            wer("play kind of blue by miles davis", &t.text) <= 0.34,
            "{prompt:?}: {:?}",
            t.text
        );
        busy.push(rss_mb() - resting);
    }
    eprintln!("MB over resting, without and with the prompt: {busy:.0?}");
    let extra = busy[1].max(busy[3]) - busy[0].min(busy[2]);
    // 60-odd rows of 51,865 floats are 13 MB; computing them all in the graph too was 24 MB.
    assert!(
        extra <= 18.0,
        "the prompt cost whisper {extra:.0} MB: {busy:.0?}"
    );
}

/// A voice whose front is in 8 bits (`tts.quantize`, the default) holds far less memory than
/// the published float one: 56 MB of convolution weights become 15.
#[test]
fn the_eight_bit_voice_holds_less_memory() {
    require_models();
    let _alone = alone();
    let models = repo().join("models");
    let voice = models.join("piper/en_US-joe-medium.onnx");
    // The 8-bit voice first: ONNX Runtime's and the phonemizer's one-time costs go to it.
    let mut cost = Vec::new();
    for quantized in [true, false] {
        sori::memory::give_back();
        let before = rss_mb();
        let piper = sori::tts::piper::Piper::load_with(&models, &voice, 1.0, 2, quantized).unwrap();
        sori::memory::give_back();
        let loaded = rss_mb();
        drop(piper);
        eprintln!(
            "quantized {quantized}: {:.0} MB for the voice",
            loaded - before
        );
        cost.push(loaded - before);
    }
    assert!(
        cost[1] - cost[0] >= 30.0,
        "8-bit {:.0} MB, float {:.0} MB",
        cost[0],
        cost[1]
    );
}
