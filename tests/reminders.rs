//! Timers going off: the reminder task with paused tokio time over a real SQLite file
//! (several timers, cancel, how long left, add time, a restart with pending and expired
//! timers), and through the real daemon (a timer that ended while Sori was off is announced
//! and rings at start-up; a timer confirmed by voice survives SIGKILL).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::daemon::{events, of_type, splice, wait_events};
use common::{espeak, require_models, run_ok, sori};
use sori::pipeline::Announcement;
use sori::pipeline::reminders::{self, Clock};
use sori::skill::reminders::Reminders;
use sori::store::Store;

/// 2026-11-26 07:00 UTC.
const BASE_MS: i64 = 1_795_676_400_000;

/// A wall clock that follows tokio's (paused) time.
fn paused_clock() -> Clock {
    let t0 = tokio::time::Instant::now();
    Arc::new(move || BASE_MS + t0.elapsed().as_millis() as i64)
}

fn brain(db: Arc<Mutex<Store>>, clock: Clock) -> sori::skill::Brain {
    let persona = sori::persona::Persona::new(&Default::default()).unwrap();
    let mut b = sori::skill::load::builtin(persona, db).unwrap();
    b.responses.fixed = true;
    b.set_clock(move || {
        chrono::DateTime::from_timestamp_millis(clock())
            .unwrap()
            .naive_utc()
    });
    b
}

struct Task {
    rx: tokio::sync::mpsc::Receiver<Announcement>,
    handle: tokio::task::JoinHandle<()>,
}

fn start(db: &Arc<Mutex<Store>>, b: &sori::skill::Brain, clock: &Clock) -> Task {
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let changed = db.lock().unwrap().changed();
    let r = Reminders::new(db.clone(), b.responses.clone(), b.zone);
    Task {
        rx,
        handle: tokio::spawn(reminders::run(r, clock.clone(), changed, tx)),
    }
}

/// The next announcement and when it came (seconds since the clock started).
async fn next(t: &mut Task, clock: &Clock) -> (Announcement, i64) {
    let a = tokio::time::timeout(Duration::from_secs(8 * 86_400), t.rx.recv())
        .await
        .expect("an announcement within a week")
        .expect("the task is running");
    (a, (clock() - BASE_MS) / 1000)
}

#[tokio::test(start_paused = true)]
async fn timers_ring_on_time_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = paused_clock();
    let db = Arc::new(Mutex::new(Store::open(dir.path()).unwrap()));
    let mut b = brain(db.clone(), clock.clone());
    let mut task = start(&db, &b, &clock);
    for s in [
        "set a pasta timer for 10 minutes",
        "set a timer for 3 minutes",
        "set a tea timer for five minutes",
    ] {
        assert!(b.ask(s, None).reply.contains("set for"), "{s}");
    }
    let (a, at) = next(&mut task, &clock).await;
    assert_eq!(at, 180, "the 3 minute timer rings at 3:00");
    assert_eq!(a.speech, "Your 3 minute timer is done.");
    assert!(a.ring && a.language == "en");

    assert_eq!(
        b.ask("cancel the tea timer", None).reply,
        "Cancelled your tea timer."
    );
    assert_eq!(
        b.ask("how much time is left on the pasta timer", None)
            .reply,
        "7 minutes left on your pasta timer."
    );
    assert_eq!(
        b.ask("add 2 minutes to the pasta timer", None).reply,
        "Added 2 minutes. 9 minutes left on your pasta timer."
    );
    let (a, at) = next(&mut task, &clock).await;
    assert_eq!(
        at, 720,
        "pasta: 10 minutes plus 2, and the tea timer never rang"
    );
    assert_eq!(a.speech, "Your pasta timer is done.");
    assert_eq!(
        b.ask("do I have any timers", None).reply,
        "You don't have any timers."
    );

    // A paused timer does not ring; resumed, it rings with the time it had left.
    b.ask("set an egg timer for 2 minutes", None);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(
        b.ask("pause the egg timer", None).reply,
        "Paused your egg timer."
    );
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert!(task.rx.try_recv().is_err(), "a paused timer rang");
    b.ask("resume the egg timer", None);
    let (a, at) = next(&mut task, &clock).await;
    assert_eq!(at, 720 + 60 + 600 + 60);
    assert_eq!(a.speech, "Your egg timer is done.");

    // Restart: Sori stops with one timer that will have ended and one still running.
    let before = (clock() - BASE_MS) / 1000;
    b.ask("set a timer for 1 minute", None);
    b.ask("라면 타이머 20분 맞춰줘", None);
    drop(task.rx);
    task.handle.await.unwrap();
    drop(b);
    drop(db);
    tokio::time::sleep(Duration::from_secs(5 * 60)).await;

    let db = Arc::new(Mutex::new(Store::open(dir.path()).unwrap()));
    let b = brain(db.clone(), clock.clone());
    let mut task = start(&db, &b, &clock);
    let (a, at) = next(&mut task, &clock).await;
    assert_eq!(
        at,
        before + 300,
        "the expired timer is announced at start-up"
    );
    assert_eq!(
        a.speech,
        "Your 1 minute timer ended 4 minutes ago, while I was off."
    );
    let (a, at) = next(&mut task, &clock).await;
    assert_eq!(at, before + 20 * 60, "the pending one rings on time");
    assert_eq!(a.speech, "라면 타이머가 끝났어요.");
    assert_eq!(a.language, "ko");
}

#[tokio::test(start_paused = true)]
async fn alarms_ring_repeat_snooze_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = paused_clock(); // Thursday 07:00
    let db = Arc::new(Mutex::new(Store::open(dir.path()).unwrap()));
    let mut b = brain(db.clone(), clock.clone());
    let mut task = start(&db, &b, &clock);
    assert_eq!(
        b.ask("set an alarm for 7:30 am", None).reply,
        "Alarm set for 7:30 AM today."
    );
    assert_eq!(
        b.ask("wake me up at 6 every weekday", None).reply,
        "Alarm set for 6:00 AM on weekdays."
    );
    let (a, at) = next(&mut task, &clock).await;
    assert_eq!(at, 30 * 60);
    assert!(a.ring && a.speech.starts_with("It's 7:30 AM"), "{a:?}");
    assert_eq!(
        b.ask("snooze ten minutes", None).reply,
        "Okay, I'll ring again in 10 minutes."
    );
    let (_, at) = next(&mut task, &clock).await;
    assert_eq!(at, 40 * 60, "rang again after the snooze");
    // Said while (or just after) it rings, "turn off the alarm" stops the ringing and keeps
    // the weekday alarm.
    let off = b.ask("turn off the alarm", None);
    assert_eq!(off.reply, "Okay, alarm off.");
    assert_eq!(off.action, Some(sori::skill::Action::Stop));
    // The one-off is done; the weekday alarm rings on Friday at 6, then on Monday.
    assert_eq!(
        b.ask("what alarms do I have", None).reply,
        "You have an alarm for 6:00 AM on weekdays."
    );
    let (_, at) = next(&mut task, &clock).await;
    assert_eq!(at, 23 * 3600, "Friday 06:00");
    drop(task.rx);
    task.handle.await.unwrap();
    drop(b);
    drop(db);

    let db = Arc::new(Mutex::new(Store::open(dir.path()).unwrap()));
    let b = brain(db.clone(), clock.clone());
    let mut task = start(&db, &b, &clock);
    let (a, at) = next(&mut task, &clock).await;
    assert_eq!(at, 23 * 3600 + 3 * 86_400, "Monday 06:00, after a restart");
    assert_eq!(a.key, "alarm:2");
}

/// "hey jarvis … <command>" as one recording with `tail_ms` of silence after it.
fn spoken(dir: &std::path::Path, command: &str, voice: &str, tail_ms: u32) -> std::path::PathBuf {
    let (w, c, s, u) = (
        dir.join("w.wav"),
        dir.join("c.wav"),
        dir.join("s.wav"),
        dir.join("u.wav"),
    );
    espeak("hey jarvis", "en-us", &w);
    espeak(command, voice, &c);
    silence(&s, tail_ms);
    splice(&[&w, &c, &s], 700, 22_050, &u);
    u
}

fn silence(path: &std::path::Path, ms: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for _ in 0..(22_050 * ms / 1000) {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
}

fn ask(state: &std::path::Path, text: &str) -> String {
    let out = run_ok(
        sori()
            .args(["--set", &format!("state.dir=\"{}\"", state.display())])
            .args(["ask", "--json", text]),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["reply"].as_str().unwrap().to_string()
}

#[test]
fn a_spoken_timer_is_set_and_survives_sigkill_right_after_it_is_confirmed() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let input = spoken(dir.path(), "set a timer for five minutes", "en-us", 8000);
    let ev = dir.path().join("e.jsonl");
    // In real time, so the process is still running when the reply is decided.
    let mut child = sori()
        .args(["--set", &format!("state.dir=\"{}\"", state.display())])
        .args(["--set", "stt.language=en", "run", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(dir.path().join("out.wav"))
        .arg("--events")
        .arg(&ev)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let got = wait_events(&ev, "SkillEnd", 1, Duration::from_secs(120));
    child.kill().unwrap(); // SIGKILL: no clean shutdown
    let _ = child.wait();
    let said = of_type(&got, "SkillEnd")[0]["speech"].as_str().unwrap();
    assert!(
        said.contains("5 minutes"),
        "the spoken command was understood: {said:?} ({:?})",
        of_type(&events(&ev), "SttEnd")
    );
    let left = ask(&state, "how much time is left on my timer");
    assert!(
        left.contains("left on your 5 minute timer"),
        "the confirmed timer was stored before Sori said so: {left:?}"
    );
}

#[test]
fn a_timer_that_ended_while_sori_was_off_rings_at_start_up() {
    require_models();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    assert!(ask(&state, "set a pasta timer for 1 second").contains("1 second"));
    std::thread::sleep(Duration::from_millis(1500));
    let input = dir.path().join("quiet.wav");
    silence(&input, 3000);
    let (ev, out) = (dir.path().join("e.jsonl"), dir.path().join("out.wav"));
    run_ok(
        sori()
            .args(["--set", &format!("state.dir=\"{}\"", state.display())])
            .args(["--set", "alarms.ring_seconds=6"])
            .args(["run", "--fast", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&out)
            .arg("--events")
            .arg(&ev),
    );
    let ev = events(&ev);
    let ann = of_type(&ev, "Announce");
    assert_eq!(ann.len(), 1, "{ev:#?}");
    let said = ann[0]["speech"].as_str().unwrap();
    assert!(said.starts_with("Your pasta timer is"), "{said}");
    // It rang: the alarm sound and the words, repeated for about ring_seconds.
    let reader = hound::WavReader::open(&out).unwrap();
    let secs = reader.duration() as f32 / reader.spec().sample_rate as f32;
    assert!((6.0..12.0).contains(&secs), "rang for {secs} s");
    let heard = run_ok(
        sori()
            .args(["transcribe", "--json", "--lang", "en"])
            .arg(&out),
    );
    let text = String::from_utf8_lossy(&heard.stdout).to_lowercase();
    assert!(text.contains("pasta timer"), "{text}");
    assert_eq!(
        ask(&state, "do I have any timers"),
        "You don't have any timers."
    );
}
