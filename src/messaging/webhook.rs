//! The webhook backend: an HTTP POST of a JSON body rendered from the webhook's template
//! (ntfy, Slack-style incoming webhooks, Home Assistant automations). The outbox key goes in
//! an `Idempotency-Key` header and may be used in the template (`{key}`), so a receiver can
//! drop a retry it already has.

use std::time::Duration;

use super::outbox::Message;
use super::{Backend, SendError};
use crate::config::messaging::Webhook;

/// `text` as the inside of a JSON string.
fn json_text(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("strings serialise");
    quoted[1..quoted.len() - 1].to_string()
}

/// The request body for `m`.
pub fn render(template: &str, m: &Message) -> String {
    template
        .replace("{contact}", &json_text(&m.contact))
        .replace("{body}", &json_text(&m.body))
        .replace("{key}", &json_text(&m.key))
        .replace("{lang}", &json_text(&m.lang))
}

pub struct WebhookBackend {
    pub hooks: std::collections::BTreeMap<String, Webhook>,
}

impl Backend for WebhookBackend {
    fn send(&self, m: &Message) -> Result<(), SendError> {
        let hook = self
            .hooks
            .get(&m.address)
            .ok_or_else(|| SendError::Permanent(format!("no webhook named {}", m.address)))?;
        crate::net::install_tls_provider();
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_millis(hook.timeout_ms))
            .build()
            .map_err(|e| SendError::Temporary(e.to_string()))?;
        let mut req = client
            .post(&hook.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &m.key)
            .body(render(&hook.template, m));
        for (k, v) in &hook.headers {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .map_err(|e| SendError::Temporary(format!("{}: {e}", hook.url)))?;
        let status = resp.status();
        match status.as_u16() {
            200..=299 => Ok(()),
            // Timeouts and rate limits pass; other client errors will not.
            408 | 429 => Err(SendError::Temporary(format!(
                "{} answered {status}",
                hook.url
            ))),
            400..=499 => Err(SendError::Permanent(format!(
                "{} answered {status}",
                hook.url
            ))),
            _ => Err(SendError::Temporary(format!(
                "{} answered {status}",
                hook.url
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_get_escaped_text() {
        let m = Message {
            id: 1,
            key: "sori-1".into(),
            contact: "Mom".into(),
            backend: "webhook".into(),
            address: "family".into(),
            body: "I'll be \"late\"\n늦어요".into(),
            lang: "en".into(),
            created_ms: 0,
            state: super::super::outbox::State::Queued,
            attempts: 0,
            next_ms: 0,
            last_error: None,
            sent_ms: None,
        };
        let body = render(
            r#"{"to": "{contact}", "text": "{body}", "id": "{key}"}"#,
            &m,
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["text"], "I'll be \"late\"\n늦어요");
        assert_eq!(v["to"], "Mom");
        assert_eq!(v["id"], "sori-1");
    }
}
