//! The speaker coming back (a USB speaker replugged; here its sound server restarts): music
//! on Sori's music channel carries on through the reopened device on its own, and replies
//! play again. In-process, through rodio on ALSA's pulse plugin; its own test binary because
//! it points the process's `PULSE_SERVER` at its server.

mod common;

use std::num::NonZero;
use std::time::Duration;

use common::library::{tone_level, wav_with_rate};
use common::pulse::Pulse;
use sori::audio::{AudioSink, Clip};

/// The 440 Hz level of each 100 ms window.
fn tone_windows(rate: u32, s: &[f32]) -> Vec<f32> {
    s.chunks((rate / 10) as usize)
        .map(|w| tone_level(w, rate, 440.0))
        .collect()
}

#[test]
fn music_comes_back_with_the_speaker_and_replies_play_again() {
    let mut pulse = Pulse::start();
    // SAFETY: the only test in this binary; nothing else reads the environment meanwhile.
    unsafe { std::env::set_var("PULSE_SERVER", &pulse.server) };
    let dir = tempfile::tempdir().unwrap();
    let mut sink = sori::audio::rodio_sink::RodioSink::open("").unwrap();
    let music = sink
        .music_channel()
        .expect("the speaker has a music channel");
    // A minute of a 440 Hz tone as "music".
    let rate = 48_000;
    let tone: Vec<f32> = (0..rate * 60)
        .map(|i| 0.5 * (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin())
        .collect();
    music.player.append(rodio::buffer::SamplesBuffer::new(
        NonZero::<u16>::MIN,
        NonZero::new(rate).unwrap(),
        tone,
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while music.player.get_pos() < Duration::from_millis(500) {
        assert!(
            std::time::Instant::now() < deadline,
            "the music never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    pulse.restart();
    let before = music.player.get_pos();
    let heard = dir.path().join("heard.wav");
    let rec = pulse.record_speaker(&heard);
    // No clip plays: the sink must notice and reopen the device by itself.
    std::thread::sleep(Duration::from_secs(6));
    rec.stop();
    let (r, s) = wav_with_rate(&heard);
    let w = tone_windows(r, &s);
    let playing = w.iter().filter(|l| **l > 0.2).count();
    assert!(
        playing >= 20,
        "the music did not come back within 6 s: 440 Hz in {playing} of {} windows: {w:?}",
        w.len()
    );
    // It went on from where the speaker was lost, not from the start.
    let after = music.player.get_pos();
    assert!(after > before, "{before:?} → {after:?}");

    // Replies play too.
    let clip = Clip {
        sample_rate: 16_000,
        samples: (0..16_000)
            .map(|i| (8000.0 * (i as f32 * 880.0 * std::f32::consts::TAU / 16_000.0).sin()) as i16)
            .collect(),
    };
    assert!(
        sink.play_until(&clip, &Default::default()).unwrap(),
        "the clip was cut"
    );
}
