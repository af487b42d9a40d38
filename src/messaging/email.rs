//! The email backend: SMTP with STARTTLS or TLS (rustls), through lettre. The outbox key is
//! the Message-ID, so a message retried after a crash is the same email to the receiving
//! server and mail clients, which drop duplicates.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{SmtpTransport, Transport};

use super::outbox::Message;
use super::{Backend, SendError};
use crate::config::messaging::EmailConfig;

pub struct EmailBackend {
    pub cfg: EmailConfig,
    /// Shown as the sender when `from` has no name.
    pub sender_name: String,
}

/// The subject: the start of the message, on one line.
fn subject(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    let mut s: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        s.push('…');
    }
    s
}

impl Backend for EmailBackend {
    fn send(&self, m: &Message) -> Result<(), SendError> {
        let c = &self.cfg;
        let bad = |what: &str, e: String| SendError::Permanent(format!("{what}: {e}"));
        let from: Mailbox = if c.from.is_empty() {
            return Err(SendError::Permanent(
                "messaging.email.from is not set".into(),
            ));
        } else {
            c.from.parse().map_err(|e: lettre::address::AddressError| {
                bad("messaging.email.from", e.to_string())
            })?
        };
        let to: Mailbox = m
            .address
            .parse()
            .map_err(|e: lettre::address::AddressError| bad(&m.address, e.to_string()))?;
        let domain = from.email.domain().to_string();
        let mail = lettre::Message::builder()
            .message_id(Some(format!("<{}@{domain}>", m.key)))
            .from(from)
            .to(to)
            .subject(subject(&m.body))
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| bad("message", e.to_string()))?;
        let builder = match c.security.as_str() {
            "tls" => SmtpTransport::relay(&c.smtp_host),
            "starttls" => SmtpTransport::starttls_relay(&c.smtp_host),
            _ => Ok(SmtpTransport::builder_dangerous(&c.smtp_host)),
        }
        .map_err(|e| bad("messaging.email.smtp_host", e.to_string()))?;
        let mut builder = builder
            .port(c.smtp_port)
            .timeout(Some(Duration::from_millis(c.timeout_ms)));
        if let Some(pw) = c.password() {
            builder = builder.credentials(Credentials::new(c.username.clone(), pw));
        }
        match builder.build().send(&mail) {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("SMTP: {e}"))),
            Err(e) => Err(SendError::Temporary(format!("SMTP: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn subjects_are_the_first_line_shortened() {
        assert_eq!(super::subject("I'll be late\nsorry"), "I'll be late");
        assert_eq!(super::subject(&"가".repeat(70)).chars().count(), 61);
    }
}
