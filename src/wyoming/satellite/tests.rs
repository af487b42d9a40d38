//! The link's protocol logic against a loopback socket standing in for Home Assistant.

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};

use super::*;
use crate::wyoming::read_event;

fn identity() -> Identity {
    Identity {
        name: "Sori on test".into(),
        wake_words: vec![("hey_jarvis".into(), "hey jarvis".into())],
        languages: vec!["en".into()],
    }
}

/// A link connected to a socket whose other end the test reads as Home Assistant.
fn connected(
    timeout_ms: u64,
) -> (
    Arc<Link>,
    BufReader<TcpStream>,
    tokio::sync::mpsc::Receiver<Announcement>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let link = Link::new(
        identity(),
        Duration::from_millis(timeout_ms),
        Some(tx),
        None,
    );
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let ha = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (sat, _) = l.accept().unwrap();
    link.connected(&sat).unwrap();
    (link, BufReader::new(ha), rx)
}

fn ev(kind: &str, data: serde_json::Value) -> Event {
    Event::new(kind).with_data(data)
}

#[test]
fn info_names_the_satellite_and_its_wake_words() {
    let link = Link::new(identity(), Duration::from_secs(1), None, None);
    let info = link.info();
    assert_eq!(info.data["satellite"]["name"], "Sori on test");
    assert_eq!(
        info.data["satellite"]["active_wake_words"],
        json!(["hey_jarvis"])
    );
    assert_eq!(info.data["wake"][0]["models"][0]["phrase"], "hey jarvis");
    let pong = link.on_event(&ev("ping", json!({"text": "x"})));
    assert_eq!(pong[0].kind, "pong");
    assert_eq!(pong[0].data["text"], "x");
}

#[test]
fn without_home_assistant_the_device_answers() {
    let link = Link::new(identity(), Duration::from_secs(1), None, None);
    assert_eq!(link.converse(&[0; 1600]), Ok(None));
    assert!(link.reply().is_none());
    // Connected but not yet asked to run: still the device.
    let (link, _ha, _rx) = connected(1000);
    assert!(!link.is_ready());
    assert_eq!(link.converse(&[0; 1600]), Ok(None));
}

#[test]
fn a_command_goes_to_the_pipeline_and_its_reply_comes_back() {
    let (link, mut ha, _rx) = connected(5000);
    link.on_event(&Event::new("run-satellite"));
    assert!(link.is_ready());
    let l2 = link.clone();
    let sent = std::thread::spawn(move || l2.converse(&vec![7i16; 3000]));
    let mut kinds = Vec::new();
    let mut samples = 0;
    while let Some(e) = read_event(&mut ha).unwrap() {
        if let Some((_, s)) = types::chunk_samples(&e) {
            samples += s.len();
        }
        kinds.push(e.kind.clone());
        if e.is("run-pipeline") {
            assert_eq!(e.str("start_stage"), Some("asr"));
            assert_eq!(e.str("end_stage"), Some("tts"));
            assert_eq!(e.str("wake_word_name"), Some("hey_jarvis"));
        }
        if e.is("audio-stop") {
            break;
        }
    }
    assert_eq!(samples, 3000);
    assert_eq!(
        kinds[..3],
        ["detection", "run-pipeline", "audio-start"],
        "{kinds:?}"
    );
    link.on_event(&ev("transcribe", json!({"language": "en"})));
    link.on_event(&ev("transcript", json!({"text": "turn on the light"})));
    assert_eq!(
        sent.join().unwrap(),
        Ok(Some(("turn on the light".into(), Some("en".into()))))
    );
    link.on_event(&ev(
        "synthesize",
        json!({"text": "Turned on.", "voice": {"language": "en_US"}}),
    ));
    let fmt = types::AudioFormat {
        rate: 22_050,
        width: 2,
        channels: 1,
    };
    link.on_event(&types::audio_start(fmt));
    link.on_event(&types::audio_chunk(fmt, &[1, 2, 3]));
    link.on_event(&types::audio_stop());
    let r = link.reply().unwrap().unwrap();
    assert_eq!(r.text, "Turned on.");
    assert_eq!(r.language.as_deref(), Some("en_US"));
    let audio = r.audio.unwrap();
    assert_eq!((audio.sample_rate, audio.samples), (22_050, vec![1, 2, 3]));
    // Once played, Home Assistant hears so.
    link.on_loop_event(&crate::pipeline::events::Event {
        run: 1,
        audio_ms: 0,
        time_ms: 0,
        unix_ms: 0,
        kind: crate::pipeline::events::EventKind::TtsEnd { cut: false },
    });
    assert_eq!(read_event(&mut ha).unwrap().unwrap().kind, "played");
}

#[test]
fn an_error_from_home_assistant_is_an_error_and_silence_falls_back() {
    let (link, mut ha, _rx) = connected(300);
    link.on_event(&Event::new("run-satellite"));
    let l2 = link.clone();
    let sent = std::thread::spawn(move || l2.converse(&[0; 100]));
    while let Some(e) = read_event(&mut ha).unwrap() {
        if e.is("audio-stop") {
            break;
        }
    }
    link.on_event(&ev(
        "error",
        json!({"text": "No text recognized", "code": "stt-no-text-recognized"}),
    ));
    let err = sent.join().unwrap().unwrap_err();
    assert!(err.contains("No text recognized"), "{err}");
    // No answer within the timeout: the device answers instead.
    link.lock().run = None;
    assert_eq!(link.converse(&[0; 100]), Ok(None));
}

#[test]
fn timers_ring_and_pause_mutes_until_home_assistant_leaves() {
    let (link, _ha, mut rx) = connected(1000);
    link.on_event(&Event::new("run-satellite"));
    link.on_event(&ev(
        "timer-started",
        json!({"id": "a", "total_seconds": 60, "name": "pasta"}),
    ));
    link.on_event(&ev("timer-finished", json!({"id": "a"})));
    let a = rx.try_recv().unwrap();
    assert!(a.ring);
    assert_eq!(a.key, "homeassistant:timer:a");
    assert_eq!(a.speech, "Your pasta timer is done.");
    link.on_event(&Event::new("pause-satellite"));
    assert!(link.mute_flag().load(Ordering::Relaxed));
    assert!(!link.is_ready());
    let id = link.lock().conn.as_ref().unwrap().id;
    link.disconnected(id);
    assert!(!link.mute_flag().load(Ordering::Relaxed));
    // Unknown events are ignored.
    assert!(link.on_event(&Event::new("something-new")).is_empty());
}
