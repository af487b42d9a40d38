//! The Matrix backend (client-server API over blocking HTTP): logs in with a password (as a
//! fixed device, so transaction ids keep their meaning across logins) or uses an access
//! token, finds or creates a direct room with the contact (recorded in `m.direct` account
//! data, as every Matrix client does), and sends `m.room.message` with the outbox key as the
//! transaction id, so the homeserver turns a retried send into the same event.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::outbox::Message;
use super::{Backend, SendError};
use crate::config::messaging::MatrixConfig;

/// The device Sori logs in as.
pub const DEVICE_ID: &str = "SORI";

pub struct MatrixBackend {
    cfg: MatrixConfig,
    token: Mutex<Option<String>>,
    client: reqwest::blocking::Client,
}

pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether an HTTP status is worth retrying.
fn classify(status: u16, what: &str, body: &str) -> SendError {
    let msg = format!("Matrix {what}: {status} {body}");
    match status {
        408 | 429 | 500..=599 => SendError::Temporary(msg),
        _ => SendError::Permanent(msg),
    }
}

impl MatrixBackend {
    pub fn new(cfg: MatrixConfig) -> MatrixBackend {
        crate::net::install_tls_provider();
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_millis(cfg.timeout_ms))
            .build()
            .expect("an HTTP client with default TLS settings builds");
        let token = cfg.access_token().map(Some).unwrap_or(None);
        MatrixBackend {
            cfg,
            token: Mutex::new(token),
            client,
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/_matrix/client/v3{path}",
            self.cfg.homeserver.trim_end_matches('/')
        )
    }

    fn login(&self) -> Result<String, SendError> {
        let Some(password) = self.cfg.password() else {
            return Err(SendError::Permanent(
                "Matrix: no access token and no password (messaging.matrix)".into(),
            ));
        };
        let body = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": self.cfg.user},
            "password": password,
            "device_id": DEVICE_ID,
            "initial_device_display_name": "Sori",
        });
        let v = self.call(reqwest::Method::POST, "/login", Some(&body), None, "login")?;
        let token = v["access_token"]
            .as_str()
            .ok_or_else(|| SendError::Permanent("Matrix login: no access token".into()))?
            .to_string();
        tracing::info!(user = %self.cfg.user, "logged in to Matrix");
        Ok(token)
    }

    fn token(&self) -> Result<String, SendError> {
        let mut t = self
            .token
            .lock()
            .map_err(|_| SendError::Temporary("poisoned".into()))?;
        if let Some(tok) = t.as_ref() {
            return Ok(tok.clone());
        }
        let tok = self.login()?;
        *t = Some(tok.clone());
        Ok(tok)
    }

    /// Sori's own user id.
    pub fn user(&self) -> &str {
        &self.cfg.user
    }

    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
        what: &str,
    ) -> Result<Value, SendError> {
        self.call_within(method, path, body, token, what, None)
    }

    fn call_within(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
        what: &str,
        timeout: Option<Duration>,
    ) -> Result<Value, SendError> {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .map_err(|e| SendError::Temporary(format!("Matrix {what}: {e}")))?;
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(classify(status, what, &text));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// One authenticated call, logging in first if needed and again (once) if the token was
    /// refused. `timeout` overrides `messaging.matrix.timeout_ms` (a /sync long poll).
    ///
    /// # Errors
    /// As [`Backend::send`].
    pub fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
        timeout: Option<Duration>,
    ) -> Result<Value, SendError> {
        let token = self.token()?;
        match self.call_within(method.clone(), path, body, Some(&token), what, timeout) {
            Err(SendError::Permanent(e)) if self.relogin(&e) => {
                let token = self.token()?;
                self.call_within(method, path, body, Some(&token), what, timeout)
            }
            other => other,
        }
    }

    /// After a refused token: forget it so the next call logs in, if a password allows that.
    fn relogin(&self, error: &str) -> bool {
        if !error.contains(": 401 ") || self.cfg.password().is_none() {
            return false;
        }
        tracing::info!("Matrix token refused; logging in again: {error}");
        if let Ok(mut t) = self.token.lock() {
            *t = None;
        }
        true
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.timeout_ms)
    }

    fn direct_path(&self) -> String {
        format!("/user/{}/account_data/m.direct", enc(&self.cfg.user))
    }

    /// `m.direct`: user id → direct rooms (an empty object if there is none yet).
    fn direct_map(&self, token: &str) -> Result<Value, SendError> {
        let path = self.direct_path();
        match self.call(reqwest::Method::GET, &path, None, Some(token), "m.direct") {
            Ok(v) if v.is_object() => Ok(v),
            Ok(_) => Ok(json!({})),
            Err(SendError::Permanent(e)) if e.contains("404") => Ok(json!({})),
            Err(e) => Err(e),
        }
    }

    fn put_direct(&self, token: &str, direct: &Value) -> Result<(), SendError> {
        let path = self.direct_path();
        self.call(
            reqwest::Method::PUT,
            &path,
            Some(direct),
            Some(token),
            "m.direct",
        )
        .map(|_| ())
    }

    /// Records `room` as a direct room with `user` (after joining a room they opened).
    ///
    /// # Errors
    /// As [`Backend::send`].
    pub fn add_direct(&self, user: &str, room: &str) -> Result<(), SendError> {
        let token = self.token()?;
        let mut direct = self.direct_map(&token)?;
        let mut rooms = direct[user].as_array().cloned().unwrap_or_default();
        if rooms.iter().any(|r| r == room) {
            return Ok(());
        }
        rooms.push(json!(room));
        direct[user] = Value::Array(rooms);
        self.put_direct(&token, &direct)
    }

    /// The direct room with `user`: from `m.direct`, else created (and recorded there).
    fn direct_room(&self, token: &str, user: &str) -> Result<String, SendError> {
        let mut direct = self.direct_map(token)?;
        if let Some(room) = direct[user]
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str)
        {
            return Ok(room.to_string());
        }
        let created = self.call(
            reqwest::Method::POST,
            "/createRoom",
            Some(&json!({"is_direct": true, "invite": [user], "preset": "trusted_private_chat"})),
            Some(token),
            "createRoom",
        )?;
        let room = created["room_id"]
            .as_str()
            .ok_or_else(|| SendError::Temporary("Matrix createRoom: no room id".into()))?
            .to_string();
        direct[user] = json!([room]);
        self.put_direct(token, &direct)?;
        Ok(room)
    }

    fn send_once(&self, token: &str, m: &Message) -> Result<(), SendError> {
        let room = self.direct_room(token, &m.address)?;
        let path = format!("/rooms/{}/send/m.room.message/{}", enc(&room), enc(&m.key));
        let body = json!({"msgtype": "m.text", "body": m.body});
        self.call(
            reqwest::Method::PUT,
            &path,
            Some(&body),
            Some(token),
            "send",
        )?;
        Ok(())
    }
}

impl Backend for MatrixBackend {
    fn send(&self, m: &Message) -> Result<(), SendError> {
        let token = self.token()?;
        match self.send_once(&token, m) {
            // An expired or revoked token: log in again, once.
            Err(SendError::Permanent(e)) if self.relogin(&e) => {
                let token = self.token()?;
                self.send_once(&token, m)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_parts_are_escaped() {
        assert_eq!(super::enc("!abc:example.org"), "%21abc%3Aexample.org");
        assert_eq!(super::enc("sori-1a-ff"), "sori-1a-ff");
    }
}
