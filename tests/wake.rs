//! The wake word's feature pipeline with the real openWakeWord models on real recordings.

mod common;

use common::*;
use sori::audio::wav::load_16k_mono;
use sori::wake::features::{CHUNK, Features};

/// The embedding model cut into stages that each compute only the new rows (`wake::embedding`)
/// must give the embeddings the whole model gives, window by window, on real speech.
#[test]
fn the_streaming_embedding_equals_the_whole_model_on_real_speech() {
    require_models();
    let models = repo().join("models");
    let mut streaming = Features::load(&models).unwrap();
    let mut whole = Features::load_with(&models, false).unwrap();
    assert!(
        streaming.is_streaming(),
        "the shipped embedding model should stream"
    );
    assert!(!whole.is_streaming());

    let Some(eval) = eval_dir() else { return };
    let eval = eval.join("audio");
    let mut chunks = 0;
    let mut worst = 0.0f32;
    let mut energy = 0.0f32;
    for clip in ["wyoming_oww_hey_jarvis.wav", "pymicro_hey_jarvis_1.wav"] {
        let audio = load_16k_mono(&eval.join(clip)).unwrap();
        let samples: Vec<i16> = audio.iter().map(|s| (s * 32767.0) as i16).collect();
        for chunk in samples.chunks_exact(CHUNK) {
            let a = *streaming.push(chunk).unwrap();
            let b = *whole.push(chunk).unwrap();
            worst = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(worst, f32::max);
            energy = b.iter().map(|x| x.abs()).fold(energy, f32::max);
            chunks += 1;
        }
    }
    assert!(chunks > 30, "{chunks} chunks");
    // Embeddings are of order 1-10; the stages may differ only by float rounding.
    assert!(energy > 0.5, "the embeddings are all near zero: {energy}");
    assert!(worst < 1e-3, "the streaming embedding differs by {worst}");
}
