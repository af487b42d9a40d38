//! `sori run` as a child process on the virtual devices, and its events file.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::pulse::{Pulse, follow_until};
use super::sori;

/// Held by tests whose outcome depends on whisper keeping up with a reply as it plays (a stop
/// heard mid-reply must be transcribed before the reply ends). `cargo test` runs two tests at
/// once; with two daemons transcribing on a 2-core machine each is several times slower, and a
/// CI run failed that way. Tests that only check what was heard afterwards need not take it.
pub fn one_transcriber_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // A test that panicked while holding it has still finished.
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Concatenates WAVs (all at `rate`, mono 16-bit) with `gap_ms` of silence around and between.
pub fn splice(parts: &[&Path], gap_ms: u32, rate: u32, out: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(out, spec).unwrap();
    let gap = (rate * gap_ms / 1000) as usize;
    for _ in 0..gap {
        w.write_sample(0i16).unwrap();
    }
    for p in parts {
        let mut r = hound::WavReader::open(p).unwrap();
        assert_eq!(r.spec().sample_rate, rate, "{}", p.display());
        assert_eq!(r.spec().channels, 1, "{}", p.display());
        for s in r.samples::<i16>() {
            w.write_sample(s.unwrap()).unwrap();
        }
        for _ in 0..gap {
            w.write_sample(0i16).unwrap();
        }
    }
    w.finalize().unwrap();
}

pub fn events(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

pub fn of_type<'a>(ev: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    ev.iter().filter(|e| e["type"] == t).collect()
}

/// Waits until the events file holds `n` events of type `t`.
pub fn wait_events(path: &Path, t: &str, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let ev = events(path);
        if of_type(&ev, t).len() >= n {
            return ev;
        }
        assert!(
            Instant::now() < deadline,
            "no {n}× {t} within {timeout:?}; events: {ev:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sori did not stop within 15 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `sori run` on the virtual devices and waits for its capture stream; returns the
/// process and its later log lines.
pub fn start_daemon(
    pulse: &Pulse,
    events: &Path,
    extra: &[&str],
) -> (Child, std::sync::mpsc::Receiver<String>) {
    start_daemon_env(pulse, events, extra, &[])
}

/// [`start_daemon`] with extra environment variables (e.g. `SORI_FAKE_NOW`).
pub fn start_daemon_env(
    pulse: &Pulse,
    events: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut cmd = sori();
    // A test that fails before `terminate` must not leave its daemon running for the rest of
    // the suite: the daemon gets SIGKILL when the test's thread ends.
    // SAFETY: prctl is async-signal-safe and touches only the child.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd
        .env("PULSE_SERVER", &pulse.server)
        .envs(env.iter().copied())
        .args(["run", "--events"])
        .arg(events)
        .args(["--set", "stt.language=en"])
        // Daemons in parallel tests must not fight over the API's port.
        .args(["--set", "api.bind=127.0.0.1:0"])
        .args(extra)
        .envs(std::env::var_os("SORI_SAVE_AUDIO").map(|d| ("SORI_SAVE_AUDIO", d)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    match follow_until(
        &mut child,
        "capture stream started",
        Duration::from_secs(90),
    ) {
        Ok(log) => (child, log),
        Err(e) => {
            let _ = child.kill();
            panic!("{e}");
        }
    }
}
