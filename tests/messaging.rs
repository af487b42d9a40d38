//! Messaging against real servers started here: a real SMTP server (aiosmtpd from PyPI) and a
//! local HTTP server for the webhook. Dictated in English and Korean, read back, confirmed,
//! delivered exactly once by the delivery thread; "no" re-dictates, "cancel" sends nothing; a
//! server that is down gets the message once it is back.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sori::config::Config;
use sori::messaging::{Backends, worker::Outbox};

struct Smtp {
    child: Child,
    port: u16,
    out: std::path::PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smtp(dir: &Path) -> Smtp {
    let port = common::free_port();
    let out = dir.join("mail.jsonl");
    let mut child = Command::new(common::servers_python())
        .arg(common::repo().join("tests/servers/smtp_sink.py"))
        .arg(port.to_string())
        .arg(&out)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "the SMTP server did not start");
    Smtp { child, port, out }
}

fn mails(s: &Smtp) -> Vec<serde_json::Value> {
    std::fs::read_to_string(&s.out)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A webhook receiver on `port`: records each request's body and Idempotency-Key.
fn webhook_server(l: TcpListener) -> Arc<Mutex<Vec<(String, String)>>> {
    slow_webhook_server(l, Duration::ZERO)
}

/// As [`webhook_server`], answering each request `delay` after it arrived (a crash can then
/// land between the server keeping a message and Sori marking it sent).
fn slow_webhook_server(l: TcpListener, delay: Duration) -> Arc<Mutex<Vec<(String, String)>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            // A client killed halfway through its request is dropped, as a real server would;
            // the server goes on.
            let Some((body, key)) = read_request(&s) else {
                continue;
            };
            g.lock().unwrap().push((body, key));
            std::thread::sleep(delay);
            let mut s = s;
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    got
}

/// One whole POST: (body, Idempotency-Key); `None` if the client went away before the end.
fn read_request(s: &std::net::TcpStream) -> Option<(String, String)> {
    let mut r = BufReader::new(s.try_clone().ok()?);
    let (mut len, mut key) = (0usize, String::new());
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    loop {
        line.clear();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let t = line.trim();
        if t.is_empty() {
            break;
        }
        let lower = t.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
        if lower.starts_with("idempotency-key:") {
            key = t.split_once(':')?.1.trim().to_string();
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((String::from_utf8(body).ok()?, key))
}

fn config(smtp_port: u16, webhook_port: u16) -> Config {
    let toml = format!(
        r#"
[messaging.contacts]
"Mom" = {{ aliases = ["엄마"], backend = "email", address = "mom@example.com" }}
"Jisoo" = {{ aliases = ["지수"], backend = "webhook", address = "family" }}

[messaging.email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
security = "none"
from = "Sori <sori@example.com>"

[messaging.webhooks]
"family" = {{ url = "http://127.0.0.1:{webhook_port}/hook", template = '{{"to": "{{contact}}", "text": "{{body}}", "id": "{{key}}"}}' }}
"#
    );
    let cfg: Config = toml::from_str(&toml).unwrap();
    cfg.validate().unwrap();
    cfg
}

fn brain(cfg: &Config, outbox: Outbox, db: Arc<Mutex<sori::store::Store>>) -> sori::skill::Brain {
    let services = sori::skill::builtin::Services {
        outbox: Some(outbox),
        offline: true,
        ..Default::default()
    };
    let (mut b, problems) = sori::skill::load::from_config_with(cfg, db, services, vec![]).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    b.responses.fixed = true;
    b
}

#[test]
fn dictated_messages_are_read_back_confirmed_and_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = start_smtp(dir.path());
    let hook = TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_port = hook.local_addr().unwrap().port();
    let got = webhook_server(hook);
    let cfg = config(smtp.port, hook_port);
    let db = Arc::new(Mutex::new(sori::store::Store::open(dir.path()).unwrap()));
    let outbox = Outbox::spawn(db.clone(), Backends::from_config(&cfg));
    let mut b = brain(&cfg, outbox, db);

    // Email, in one sentence.
    let out = b.ask("send a message to mom saying I'll be late for dinner", None);
    assert_eq!(out.reply, "To Mom: I'll be late for dinner. Send it?");
    assert!(mails(&smtp).is_empty(), "nothing goes before a yes");
    assert_eq!(b.ask("yes", None).reply, "Sent.");
    let m = mails(&smtp);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["rcpt"][0], "mom@example.com");
    assert_eq!(
        m[0]["body"].as_str().unwrap().trim(),
        "I'll be late for dinner"
    );
    assert!(m[0]["message_id"].as_str().unwrap().starts_with("<sori-"));

    // Korean, by webhook: asked for the message, the answer taken as said.
    assert_eq!(
        b.ask("지수한테 문자 보내 줘", None).reply,
        "뭐라고 보낼까요?"
    );
    assert_eq!(
        b.ask("오늘 저녁 일곱 시에 만나", Some("ko")).reply,
        "지수에게: 오늘 저녁 일곱 시에 만나. 보낼까요?"
    );
    assert_eq!(b.ask("응", None).reply, "보냈어요.");
    let hooks = got.lock().unwrap().clone();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let v: serde_json::Value = serde_json::from_str(&hooks[0].0).unwrap();
    assert_eq!(v["to"], "Jisoo");
    assert_eq!(v["text"], "오늘 저녁 일곱 시에 만나");
    assert_eq!(
        v["id"],
        hooks[0].1.as_str(),
        "the key is in the body and the header"
    );

    // Email with Korean text, and "did it go out?".
    b.ask("엄마한테 사랑한다고 문자 보내 줘", None);
    assert_eq!(b.ask("네", None).reply, "보냈어요.");
    let m = mails(&smtp);
    assert_eq!(m[1]["body"].as_str().unwrap().trim(), "사랑한다");
    let status = b.ask("did my message go out", None).reply;
    assert!(
        status.starts_with("Yes, your message to Mom went out at"),
        "{status}"
    );

    // "No" re-dictates; the new text is read back; "cancel" sends nothing.
    assert_eq!(b.ask("message mom", None).reply, "What's the message?");
    // Sounds like a command, but it is the message.
    assert_eq!(
        b.ask("what time is it?", None).reply,
        "To Mom: What time is it? Send it?"
    );
    assert_eq!(b.ask("no", None).reply, "Okay, what should it say instead?");
    assert_eq!(
        b.ask("call me when you're home", None).reply,
        "To Mom: Call me when you're home. Send it?"
    );
    b.ask("never mind", None);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(mails(&smtp).len(), 2, "cancelled messages are not sent");
    assert_eq!(got.lock().unwrap().len(), 1);
}

#[test]
fn a_server_that_is_down_gets_the_message_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    // Reserve a port, then close it: the webhook is down.
    let port = common::free_port();
    let cfg = config(common::free_port(), port);
    let db = Arc::new(Mutex::new(sori::store::Store::open(dir.path()).unwrap()));
    let outbox = Outbox::spawn(db.clone(), Backends::from_config(&cfg));
    let mut b = brain(&cfg, outbox, db.clone());
    b.ask("send a message to jisoo saying the door code changed", None);
    assert_eq!(
        b.ask("yes", None).reply,
        "I can't reach the server right now; I'll send it when I'm back online."
    );
    assert_eq!(
        b.ask("did my message go out", None).reply,
        "Not yet. Your message to Jisoo is waiting to be sent; I'll keep trying."
    );
    // The server comes back; the retry (after a 2 s backoff) delivers it, once.
    let got = webhook_server(TcpListener::bind(("127.0.0.1", port)).unwrap());
    common::wait_until("the retry", || !got.lock().unwrap().is_empty());
    std::thread::sleep(Duration::from_millis(500));
    let hooks = got.lock().unwrap().clone();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert!(hooks[0].0.contains("The door code changed"), "{hooks:?}");
    let status = b.ask("did my message go out", None).reply;
    assert!(
        status.starts_with("Yes, your message to Jisoo went out"),
        "{status}"
    );

    // A restart with a message still queued: the new delivery thread sends it.
    drop(b);
    let mut db2 = sori::store::Store::open(dir.path()).unwrap();
    sori::messaging::outbox::enqueue(
        db2.conn(),
        &sori::messaging::outbox::New {
            contact: "Jisoo",
            backend: "webhook",
            address: "family",
            body: "Left over from before a restart",
            lang: "en",
        },
        chrono::Utc::now().timestamp_millis(),
    )
    .unwrap();
    drop(db2);
    let db = Arc::new(Mutex::new(sori::store::Store::open(dir.path()).unwrap()));
    let _outbox = Outbox::spawn(db, Backends::from_config(&cfg));
    common::wait_until("the left-over message", || got.lock().unwrap().len() == 2);
}

/// The delivery loop killed (SIGKILL) at 50 random points: every confirmed message still
/// arrives, and any repeat carries the same idempotency key, so the receiver keeps one.
#[test]
fn killing_delivery_at_random_points_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hook = TcpListener::bind("127.0.0.1:0").unwrap();
    let cfg_text = format!(
        r#"
[state]
dir = "{}"
[messaging.contacts]
"Jisoo" = {{ backend = "webhook", address = "family" }}
[messaging.webhooks]
"family" = {{ url = "http://{}/hook" }}
"#,
        dir.path().join("state").display(),
        hook.local_addr().unwrap()
    );
    let got = slow_webhook_server(hook, Duration::from_millis(25));
    let cfg_path = dir.path().join("config.toml");
    std::fs::write(&cfg_path, cfg_text).unwrap();
    let mut store = sori::store::Store::open(&dir.path().join("state")).unwrap();
    let bodies: Vec<String> = (0..30).map(|i| format!("message number {i}")).collect();
    for b in &bodies {
        sori::messaging::outbox::enqueue(
            store.conn(),
            &sori::messaging::outbox::New {
                contact: "Jisoo",
                backend: "webhook",
                address: "family",
                body: b,
                lang: "en",
            },
            0,
        )
        .unwrap();
    }
    drop(store);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..50 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = common::sori()
            .arg("--config")
            .arg(&cfg_path)
            .args(["-q", "outbox", "deliver", "--once"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20 + seed % 100));
        let _ = child.kill();
        let _ = child.wait();
    }
    let before = got.lock().unwrap().len();
    common::run_ok(
        common::sori()
            .arg("--config")
            .arg(&cfg_path)
            .args(["outbox", "deliver"]),
    );
    let hooks = got.lock().unwrap().clone();
    let mut by_key: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (body, key) in &hooks {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        by_key
            .entry(key.clone())
            .or_default()
            .push(v["text"].as_str().unwrap().to_string());
    }
    let delivered: std::collections::BTreeSet<&str> = by_key
        .values()
        .map(|texts| {
            assert!(
                texts.windows(2).all(|w| w[0] == w[1]),
                "one key, two messages: {texts:?}"
            );
            texts[0].as_str()
        })
        .collect();
    let wanted: std::collections::BTreeSet<&str> = bodies.iter().map(String::as_str).collect();
    assert_eq!(
        delivered, wanted,
        "every message arrives, under one key each"
    );
    eprintln!(
        "{} requests for {} messages ({before} before the final run): repeats carried the same key",
        hooks.len(),
        bodies.len()
    );
    let out = common::run_ok(
        common::sori()
            .arg("--config")
            .arg(&cfg_path)
            .args(["outbox", "list", "--json", "--limit", "100"]),
    );
    let sent = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"state\":\"sent\""))
        .count();
    assert_eq!(sent, 30);
}
