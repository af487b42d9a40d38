//! The Matrix backend against a real Synapse homeserver (matrix-synapse from PyPI, SQLite, on
//! loopback) started here, with users registered through its shared-secret registration: a
//! dictated message arrives in a direct room with the contact exactly once, a retried send
//! with the same key makes no second event, and later messages use the same room; a contact's
//! messages are read aloud once, marked read on the homeserver, and announced as they arrive,
//! while a stranger's are not.

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
    for user in ["sori", "mom", "eve"] {
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

/// Sori's account and Mom, a Matrix contact, as config TOML.
fn sori_config(url: &str) -> String {
    format!(
        r#"
[messaging.contacts]
"Mom" = {{ aliases = ["엄마"], backend = "matrix", address = "@mom:localhost" }}
[messaging.matrix]
homeserver = "{url}"
user = "@sori:localhost"
password = "sori-password"
"#
    )
}

#[test]
fn dictated_messages_arrive_in_a_direct_room_exactly_once() {
    let hs = start_synapse();
    let cfg: sori::config::Config = toml::from_str(&sori_config(&hs.url)).unwrap();
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

fn enc(room: &str) -> String {
    room.replace('!', "%21").replace(':', "%3A")
}

/// `user` opens a direct room with Sori and says `texts` in it; returns the room and the
/// event ids.
fn write_to_sori(url: &str, token: &str, texts: &[&str]) -> (String, Vec<String>) {
    let c = reqwest::blocking::Client::new();
    let v: Value = c
        .post(format!("{url}/_matrix/client/v3/createRoom"))
        .bearer_auth(token)
        .json(&json!({"is_direct": true, "invite": ["@sori:localhost"], "preset": "trusted_private_chat"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let room = v["room_id"].as_str().unwrap().to_string();
    let events = texts
        .iter()
        .enumerate()
        .map(|(i, t)| say_in(url, token, &room, t, &format!("t{i}-{}", t.len())))
        .collect();
    (room, events)
}

fn say_in(url: &str, token: &str, room: &str, text: &str, txn: &str) -> String {
    let v: Value = reqwest::blocking::Client::new()
        .put(format!(
            "{url}/_matrix/client/v3/rooms/{}/send/m.room.message/{txn}",
            enc(room)
        ))
        .bearer_auth(token)
        .json(&json!({"msgtype": "m.text", "body": text}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["event_id"].as_str().unwrap().to_string()
}

/// The event Sori's read receipt in `room` points at, as Mom's client sees it.
fn sori_read_up_to(url: &str, token: &str, room: &str) -> Option<String> {
    let sync: Value = reqwest::blocking::Client::new()
        .get(format!("{url}/_matrix/client/v3/sync?timeout=0"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let ephemeral = sync["rooms"]["join"][room]["ephemeral"]["events"].as_array()?;
    ephemeral
        .iter()
        .filter(|e| e["type"] == "m.receipt")
        .flat_map(|e| e["content"].as_object().into_iter().flatten())
        .find(|(_, r)| r["m.read"]["@sori:localhost"].is_object())
        .map(|(event, _)| event.clone())
}

#[test]
fn a_contacts_messages_are_read_aloud_once_and_marked_read() {
    let hs = start_synapse();
    let cfg: sori::config::Config = toml::from_str(&sori_config(&hs.url)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Mutex::new(sori::store::Store::open(dir.path()).unwrap()));
    let backends = Backends::from_config(&cfg);
    let inbox = Arc::new(sori::messaging::matrix_inbox::MatrixInbox::new(
        backends.matrix().unwrap(),
        db.clone(),
        &cfg.messaging.contacts,
    ));
    let services = sori::skill::builtin::Services {
        outbox: Some(Outbox::spawn(db.clone(), backends)),
        inbox: Some(inbox.clone()),
        offline: true,
        ..Default::default()
    };
    let (mut b, _) =
        sori::skill::load::from_config_with(&cfg, db.clone(), services, vec![]).unwrap();
    b.responses.fixed = true;
    assert_eq!(
        b.ask("read my messages", None).reply,
        "You have no new messages."
    );

    let mom = login(&hs.url, "mom");
    let eve = login(&hs.url, "eve");
    let (room, events) = write_to_sori(&hs.url, &mom, &["I'll be home at seven", "저녁 먹었어?"]);
    write_to_sori(&hs.url, &eve, &["You won a prize, click here"]);
    let out = b.ask("read my messages", None);
    assert_eq!(
        out.reply,
        "You have 2 new messages. From Mom. I'll be home at seven. From Mom. 저녁 먹었어?"
    );
    // The receipt reaches the homeserver: Mom's client shows her last message as read.
    common::wait_until("Sori's read receipt", || {
        sori_read_up_to(&hs.url, &mom, &room).as_deref() == Some(events[1].as_str())
    });
    // Read once: asking again finds nothing new; the stranger is never read out.
    assert_eq!(b.ask("메시지 읽어 줘", None).reply, "새 메시지가 없어요.");

    // A reply goes into the room Mom opened.
    let asked = b.ask("send a message to mom saying yes I did", None).reply;
    assert_eq!(asked, "To Mom: Yes I did. Send it?");
    b.ask("yes", None);
    common::wait_until("the reply", || {
        moms_messages(&hs.url, &mom)
            .iter()
            .any(|(r, t)| r == &room && t == "Yes I did")
    });

    // The daemon's long poll: a new message is handed on (for the chime) as it arrives.
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    inbox.clone().spawn(Box::new(move |new| {
        let _ = tx.lock().unwrap().send(new.to_vec());
    }));
    std::thread::sleep(Duration::from_millis(500));
    say_in(&hs.url, &mom, &room, "Call me when you can", "later-1");
    let new = rx
        .recv_timeout(Duration::from_secs(45))
        .expect("no new message");
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].body, "Call me when you can");
    let a =
        sori::skill::messaging::announcement(&b.responses, &cfg.messaging.contacts, &new).unwrap();
    assert_eq!(a.speech, "New message from Mom.");
    assert!(a.chime && !a.ring);
    // And it waits to be read, once.
    assert_eq!(
        b.ask("any new messages", None).reply,
        "You have one new message. From Mom. Call me when you can."
    );
    // Mom writing in Korean gets a Korean announcement with her Korean name.
    say_in(&hs.url, &mom, &room, "전화해", "later-2");
    let new = rx
        .recv_timeout(Duration::from_secs(45))
        .expect("no new message");
    let a =
        sori::skill::messaging::announcement(&b.responses, &cfg.messaging.contacts, &new).unwrap();
    assert_eq!(
        (a.speech.as_str(), a.language.as_str()),
        ("엄마에게서 메시지가 왔어요.", "ko")
    );
}

/// Through `sori run` on virtual devices: a message from Mom is announced with the chime
/// (heard at the speaker), and "read my messages" said into the microphone reads it.
#[test]
fn the_daemon_announces_a_new_message_and_reads_it_when_asked() {
    use common::daemon::{events, of_type, splice, start_daemon, terminate, wait_events};
    common::require_models();
    let hs = start_synapse();
    let pulse = common::pulse::Pulse::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = d.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[state]\ndir = \"{}\"\n{}",
            d.join("state").display(),
            sori_config(&hs.url)
        ),
    )
    .unwrap();
    let ev_path = d.join("events.jsonl");
    let cfg_arg = config.display().to_string();
    let (mut child, log) = start_daemon(&pulse, &ev_path, &["--config", &cfg_arg]);
    // Let the inbox thread make its first sync (the start of "new").
    std::thread::sleep(Duration::from_secs(3));
    let heard = d.join("heard.wav");
    let rec = pulse.record_speaker(&heard);
    let mom = login(&hs.url, "mom");
    write_to_sori(&hs.url, &mom, &["I'm at the station"]);
    let ev = wait_events(&ev_path, "Announce", 1, Duration::from_secs(60));
    assert_eq!(
        of_type(&ev, "Announce")[0]["speech"],
        "New message from Mom."
    );
    wait_events(&ev_path, "RunEnd", 1, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    rec.stop();
    // The chime's two notes, then the words.
    let (text, chime) = common::library::heard_at_speaker(&heard);
    assert!(chime > 0.01, "no chime at the speaker ({chime})");
    // By word error rate: Piper's voice varies run to run (CI once heard "for" for "from").
    assert!(
        common::wer("new message from mom", &text) <= 0.25,
        "speaker said {text}"
    );

    // "Hey Jarvis … read my messages", said again if whisper mishears it.
    let (w, c, u) = (d.join("w.wav"), d.join("c.wav"), d.join("u.wav"));
    common::espeak("hey jarvis", "en-us", &w);
    common::espeak("read my messages", "en-us", &c);
    splice(&[&w, &c], 500, 22_050, &u);
    let mut replies: Vec<String> = Vec::new();
    let mut runs = 1;
    while runs < 4 && !replies.iter().any(|r| r.contains("station")) {
        pulse.speak_into_mic(&u);
        runs += 1;
        wait_events(&ev_path, "RunEnd", runs, Duration::from_secs(60));
        replies = of_type(&events(&ev_path), "SkillEnd")
            .iter()
            .filter_map(|e| e["speech"].as_str().map(String::from))
            .collect();
    }
    let status = terminate(&mut child);
    let log: Vec<String> = log.try_iter().collect();
    assert!(status.success(), "{}", log.join("\n"));
    assert!(
        replies
            .iter()
            .any(|r| r == "You have one new message. From Mom. I'm at the station."),
        "{replies:?}"
    );
}
