//! The cpal capture ring, through the real ALSA → PulseAudio path: overflow is counted (not a
//! crash, not a block), and a vanished device ends reads with an error instead of a hang.

mod common;

use std::time::{Duration, Instant};

use common::pulse::Pulse;
use sori::audio::AudioSource;
use sori::audio::cpal_source::CpalSource;

#[test]
fn overflow_is_counted_and_a_vanished_device_is_an_error() {
    let pulse = Pulse::start();
    // SAFETY: this test binary has a single test; no other thread reads the environment yet.
    unsafe { std::env::set_var("PULSE_SERVER", &pulse.server) };
    let mut src = CpalSource::open("pulse", 100).expect("open the virtual microphone");
    let mut frame = [0i16; 320];
    assert!(src.read_frame(&mut frame).unwrap());
    assert_eq!(src.dropped_samples(), 0);

    // Not reading for a while overflows the 100 ms ring; the callback drops and counts.
    std::thread::sleep(Duration::from_millis(1500));
    for _ in 0..10 {
        assert!(src.read_frame(&mut frame).unwrap());
    }
    assert!(src.dropped_samples() > 0, "overflow was not counted");

    // Capture keeps going after an overflow.
    let before = Instant::now();
    for _ in 0..50 {
        src.read_frame(&mut frame).unwrap();
    }
    assert!(before.elapsed() < Duration::from_secs(5));

    // The sound server goes away (like a USB microphone unplugged): reads fail, promptly.
    drop(pulse);
    let gone = Instant::now();
    let err = loop {
        match src.read_frame(&mut frame) {
            Ok(_) if gone.elapsed() < Duration::from_secs(15) => continue,
            Ok(_) => panic!("still reading 15 s after the device vanished"),
            Err(e) => break e,
        }
    };
    assert!(
        err.to_string().contains("stopped delivering audio"),
        "{err}"
    );
    // Closing the dead source must not hang either.
    let closing = Instant::now();
    drop(src);
    assert!(closing.elapsed() < Duration::from_secs(2));
}
