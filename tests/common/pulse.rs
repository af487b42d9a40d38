//! A headless PulseAudio server with two null sinks, no sound card needed:
//! - `micfeed`: tests play utterances into it; its monitor is the default source, which Sori
//!   captures through cpal → ALSA → the pulse plugin;
//! - `speaker`: the default sink Sori plays into; tests record `speaker.monitor`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Pulse {
    child: Child,
    dir: tempfile::TempDir,
    /// `unix:/…/native`: pass as `PULSE_SERVER` to every client.
    pub server: String,
}

const DEFAULT_PA: &str = "\
load-module module-native-protocol-unix auth-anonymous=1 socket=@DIR@/native
load-module module-null-sink sink_name=speaker rate=48000 channels=2 sink_properties=device.description=TestSpeaker
load-module module-null-sink sink_name=micfeed rate=16000 channels=1 sink_properties=device.description=TestMicFeed
set-default-sink speaker
set-default-source micfeed.monitor
";

impl Pulse {
    /// Starts the server and waits until it answers (no fixed sleep).
    pub fn start() -> Pulse {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("run")).unwrap();
        std::fs::write(
            d.join("default.pa"),
            DEFAULT_PA.replace("@DIR@", &d.display().to_string()),
        )
        .unwrap();
        let child = spawn(d);
        let server = format!("unix:{}/native", d.display());
        let p = Pulse { child, dir, server };
        p.wait_ready();
        p
    }

    /// Kills the server and starts a fresh one at the same address, as when a USB sound card
    /// is unplugged and plugged back in: clients' streams die and must be opened again.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.dir.path());
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self
                .cmd("pactl")
                .arg("info")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("pulseaudio did not come up within 20 s");
    }

    /// A command that talks to this server.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env("PULSE_SERVER", &self.server);
        c
    }

    /// Plays a WAV into the virtual microphone and waits until it has been played.
    pub fn speak_into_mic(&self, wav: &Path) {
        let st = self
            .cmd("paplay")
            .args(["-d", "micfeed"])
            .arg(wav)
            .status()
            .expect("paplay (pulseaudio-utils)");
        assert!(st.success(), "paplay failed");
    }

    /// Starts recording what Sori plays and returns once the recording stream exists, so
    /// nothing played after this is missed; stop it with `Recorder::stop`.
    pub fn record_speaker(&self, out: &Path) -> Recorder {
        // Other clients (a running Sori) may be recording too: wait for one more stream.
        let streams = || {
            let o = self
                .cmd("pactl")
                .args(["list", "short", "source-outputs"])
                .output()
                .expect("pactl (pulseaudio-utils)");
            String::from_utf8_lossy(&o.stdout).lines().count()
        };
        let before = streams();
        let child = self
            .cmd("parecord")
            .args([
                "-d",
                "speaker.monitor",
                "--file-format=wav",
                "--rate=16000",
                "--channels=1",
            ])
            .arg(out)
            .spawn()
            .expect("parecord (pulseaudio-utils)");
        let rec = Recorder(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if streams() > before {
                return rec;
            }
            assert!(
                Instant::now() < deadline,
                "parecord did not start recording within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn spawn(d: &Path) -> Child {
    Command::new("pulseaudio")
        .args(["-n", "-F"])
        .arg(d.join("default.pa"))
        .args([
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--log-target=stderr",
            "--log-level=error",
        ])
        .env("XDG_RUNTIME_DIR", d.join("run"))
        .env("HOME", d)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pulseaudio is not installed: run scripts/deps.sh --test")
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Recorder(Child);

impl Recorder {
    /// SIGINT lets parecord finish the WAV header.
    pub fn stop(mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
        let _ = self.0.wait();
    }
}

/// Reads `child`'s stderr until a line contains `needle` (the error shows the lines seen).
/// Keeps draining stderr in the background afterwards so the child never blocks.
pub fn wait_for_line(child: &mut Child, needle: &str, timeout: Duration) -> Result<(), String> {
    let rest = follow_until(child, needle, timeout)?;
    std::thread::spawn(move || rest.iter().for_each(drop));
    Ok(())
}

/// Like `wait_for_line`, but hands back the stderr lines that come after the one found.
pub fn follow_until(
    child: &mut Child,
    needle: &str,
    timeout: Duration,
) -> Result<std::sync::mpsc::Receiver<String>, String> {
    let stderr = child.stderr.take().expect("stderr piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Ok(rx),
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    Err(format!(
        "no line containing {needle:?} within {timeout:?}; stderr so far:\n{}",
        seen.join("\n")
    ))
}
