//! The Matrix backend against a real Synapse homeserver (matrix-synapse from PyPI, SQLite, on
//! loopback) started here, with users registered through its shared-secret registration: a
//! dictated message arrives in a direct room with the contact exactly once, a retried send
//! with the same key makes no second event, and later messages use the same room.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use sori::messaging::{Backend, Backends, worker::Outbox};

const SECRET: &str = "sori-test-registration-secret";

struct Synapse {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Synapse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_synapse() -> Synapse {
    sori::net::install_tls_provider();
    let py = common::servers_python();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = common::free_port();
    let limit = "{per_second: 1000, burst_count: 1000}";
    let conf = format!(
        r#"server_name: "localhost"
pid_file: "{d}/hs.pid"
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{d}/hs.db"
media_store_path: "{d}/media"
signing_key_path: "{d}/hs.signing.key"
registration_shared_secret: "{SECRET}"
macaroon_secret_key: "sori-test-macaroon"
form_secret: "sori-test-form"
report_stats: false
enable_registration: false
trusted_key_servers: []
suppress_key_server_warning: true
rc_message: {limit}
rc_registration: {limit}
rc_room_creation: {limit}
rc_login:
  address: {limit}
  account: {limit}
  failed_attempts: {limit}
rc_invites:
  per_room: {limit}
  per_user: {limit}
  per_issuer: {limit}
"#,
        d = d.display()
    );
    let cfg = d.join("homeserver.yaml");
    std::fs::write(&cfg, conf).unwrap();
    let st = Command::new(&py)
        .args(["-m", "synapse.app.homeserver", "-c"])
        .arg(&cfg)
        .arg("--generate-keys")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "synapse could not generate its keys");
    let child = Command::new(&py)
        .args(["-m", "synapse.app.homeserver", "-c"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let s = Synapse {
        child,
        url: url.clone(),
        _dir: dir,
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        if reqwest::blocking::get(format!("{url}/health")).is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "synapse did not start within 90 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let bin = std::path::Path::new(&py).with_file_name("register_new_matrix_user");
    for user in ["sori", "mom"] {
        let out = Command::new(&bin)
            .args([
                "-u",
                user,
                "-p",
                &format!("{user}-password"),
                "--no-admin",
                "-k",
                SECRET,
            ])
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "register {user}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    s
}

/// Logs in as `user` and returns the access token.
fn login(url: &str, user: &str) -> String {
    let v: Value = reqwest::blocking::Client::new()
        .post(format!("{url}/_matrix/client/v3/login"))
        .json(&json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": format!("{user}-password")}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// Mom joins every room she is invited to and returns the text messages in them.
fn moms_messages(url: &str, token: &str) -> Vec<(String, String)> {
    let c = reqwest::blocking::Client::new();
    let sync: Value = c
        .get(format!("{url}/_matrix/client/v3/sync?timeout=0"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut rooms: Vec<String> = sync["rooms"]["join"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    for room in sync["rooms"]["invite"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
    {
        c.post(format!(
            "{url}/_matrix/client/v3/join/{}",
            room.replace('!', "%21").replace(':', "%3A")
        ))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .unwrap();
        rooms.push(room.clone());
    }
    let mut out = Vec::new();
    for room in rooms {
        let v: Value = c
            .get(format!(
                "{url}/_matrix/client/v3/rooms/{}/messages?dir=b&limit=100",
                room.replace('!', "%21").replace(':', "%3A")
            ))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        for e in v["chunk"].as_array().unwrap() {
            if e["type"] == "m.room.message" {
                out.push((
                    room.clone(),
                    e["content"]["body"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    out
}

#[test]
fn dictated_messages_arrive_in_a_direct_room_exactly_once() {
    let hs = start_synapse();
    let toml = format!(
        r#"
[messaging.contacts]
"Mom" = {{ aliases = ["엄마"], backend = "matrix", address = "@mom:localhost" }}
[messaging.matrix]
homeserver = "{}"
user = "@sori:localhost"
password = "sori-password"
"#,
        hs.url
    );
    let cfg: sori::config::Config = toml::from_str(&toml).unwrap();
    cfg.validate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Mutex::new(sori::store::Store::open(dir.path()).unwrap()));
    let outbox = Outbox::spawn(db.clone(), Backends::from_config(&cfg));
    let services = sori::skill::builtin::Services {
        outbox: Some(outbox),
        offline: true,
        ..Default::default()
    };
    let (mut b, _) =
        sori::skill::load::from_config_with(&cfg, db.clone(), services, vec![]).unwrap();
    b.responses.fixed = true;

    assert_eq!(
        b.ask("send a message to mom saying dinner is ready", None)
            .reply,
        "To Mom: Dinner is ready. Send it?"
    );
    let answer = b.ask("yes", None).reply;
    assert!(
        answer == "Sent." || answer.starts_with("I can't reach"),
        "{answer}"
    );
    let sent = |n: usize| {
        db.lock()
            .unwrap()
            .conn()
            .query_row(
                "SELECT count(*) FROM outbox WHERE state = 'sent'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            == n as i64
    };
    common::wait_until("the first delivery", || sent(1));

    let mom = login(&hs.url, "mom");
    let got = moms_messages(&hs.url, &mom);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1, "Dinner is ready");

    // The same outbox row sent again (a crash before it was marked): no second event.
    let m = sori::messaging::outbox::recent(db.lock().unwrap().conn(), 1)
        .unwrap()
        .remove(0);
    sori::messaging::matrix::MatrixBackend::new(cfg.messaging.matrix.clone())
        .send(&m)
        .unwrap();
    assert_eq!(
        moms_messages(&hs.url, &mom).len(),
        1,
        "a retry made a second message"
    );

    // Korean, into the same direct room.
    b.ask("엄마한테 곧 간다고 문자 보내 줘", None);
    b.ask("네", None);
    common::wait_until("the second delivery", || sent(2));
    let got = moms_messages(&hs.url, &mom);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, got[1].0, "one direct room: {got:?}");
    assert!(got.iter().any(|(_, t)| t == "곧 간다"), "{got:?}");
}
