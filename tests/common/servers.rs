//! Test servers as child processes (Wyoming servers, …): killed when dropped, started on a free
//! loopback port and waited for until they listen; and `sori doctor`'s checks read as JSON.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A server process, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `cmd` with `--uri tcp://127.0.0.1:PORT` appended and waits (up to two minutes: some
/// load a model first) until it listens; the server and its `tcp://` address.
pub fn start_tcp(mut cmd: Command, what: &str) -> (Server, String) {
    let port = super::free_port();
    let uri = format!("tcp://127.0.0.1:{port}");
    let child = cmd
        .args(["--uri", &uri])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    super::wait_for(what, Duration::from_secs(120), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (server, uri)
}

/// `sori doctor --json` with no audio devices and these `--set`s; the check called `name`.
pub fn doctor_check(sets: &[String], name: &str) -> serde_json::Value {
    let mut cmd = super::sori();
    cmd.args(["doctor", "--json", "--no-sound", "--listen", "0.1"])
        .args([
            "--set",
            "audio.input=\"null\"",
            "--set",
            "audio.output=\"null\"",
        ]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().unwrap();
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    checks
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("doctor has no {name:?} check"))
}
