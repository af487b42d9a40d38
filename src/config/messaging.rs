//! `[messaging]`: who Sori can send messages to, and through what.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `[messaging]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct MessagingConfig {
    /// `[messaging.contacts]`: name = { aliases, backend, address }.
    pub contacts: BTreeMap<String, Contact>,
    /// `[messaging.email]`
    pub email: EmailConfig,
    /// `[messaging.webhooks]`: name = { url, template }; a contact's `address` names one.
    pub webhooks: BTreeMap<String, Webhook>,
    /// `[messaging.matrix]`
    pub matrix: MatrixConfig,
}

/// `[messaging.matrix]`: the account Sori sends from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct MatrixConfig {
    /// The homeserver's URL, e.g. `https://matrix.example.org`.
    pub homeserver: String,
    /// Sori's own user id, e.g. `@sori:example.org`.
    pub user: String,
    /// Empty: `SORI_MATRIX_PASSWORD` (used to log in when there is no access token).
    pub password: String,
    /// Empty: `SORI_MATRIX_TOKEN`, else log in with the password.
    pub access_token: String,
    pub timeout_ms: u64,
    /// Announce new messages from contacts with a chime ("New message from Mom"); they are
    /// kept for "read my messages" either way.
    pub announce: bool,
}

impl Default for MatrixConfig {
    fn default() -> Self {
        MatrixConfig {
            homeserver: String::new(),
            user: String::new(),
            password: String::new(),
            access_token: String::new(),
            timeout_ms: 10_000,
            announce: true,
        }
    }
}

/// A secret from config, else from the environment variable `env`; empty counts as unset.
pub(super) fn secret(value: &str, env: &str) -> Option<String> {
    Some(value.to_string())
        .filter(|p| !p.is_empty())
        .or_else(|| std::env::var(env).ok())
        .filter(|p| !p.is_empty())
}

impl MatrixConfig {
    pub fn password(&self) -> Option<String> {
        secret(&self.password, "SORI_MATRIX_PASSWORD")
    }

    pub fn access_token(&self) -> Option<String> {
        secret(&self.access_token, "SORI_MATRIX_TOKEN")
    }
}

/// A contact: the name Sori says, other names people use ("엄마", "Mother"), and where
/// messages go.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Contact {
    pub aliases: Vec<String>,
    /// `email`, `webhook` or `matrix`.
    pub backend: String,
    /// An email address, a webhook's name, or a Matrix user id (`@mom:example.org`).
    pub address: String,
}

/// `[messaging.email]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct EmailConfig {
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `starttls` (port 587), `tls` (port 465) or `none` (a server on this machine only).
    pub security: String,
    pub username: String,
    /// Empty: `SORI_SMTP_PASSWORD`, else no login.
    pub password: String,
    /// The sender, e.g. `Sori <sori@example.com>`.
    pub from: String,
    pub timeout_ms: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            smtp_host: String::new(),
            smtp_port: 587,
            security: "starttls".into(),
            username: String::new(),
            password: String::new(),
            from: String::new(),
            timeout_ms: 10_000,
        }
    }
}

impl EmailConfig {
    pub fn password(&self) -> Option<String> {
        Some(self.password.clone())
            .filter(|p| !p.is_empty())
            .or_else(|| std::env::var("SORI_SMTP_PASSWORD").ok())
            .filter(|p| !p.is_empty())
    }
}

/// A webhook: an HTTP POST of a JSON body rendered from `template`, where `{contact}`,
/// `{body}`, `{key}` and `{lang}` are replaced by JSON-escaped text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    pub template: String,
    /// Extra headers, e.g. `{ Authorization = "Bearer …" }`.
    pub headers: BTreeMap<String, String>,
    pub timeout_ms: u64,
}

impl Default for Webhook {
    fn default() -> Self {
        Webhook {
            url: String::new(),
            template: r#"{"to": "{contact}", "text": "{body}"}"#.into(),
            headers: BTreeMap::new(),
            timeout_ms: 10_000,
        }
    }
}

impl MessagingConfig {
    pub(super) fn validate(&self) -> Result<(), super::ConfigError> {
        for (name, c) in &self.contacts {
            let key = format!("messaging.contacts.{name}");
            match c.backend.as_str() {
                "email" if c.address.contains('@') => {}
                "email" => {
                    return Err(super::invalid(
                        &format!("{key}.address"),
                        format!("`{}` is not an email address", c.address),
                    ));
                }
                "webhook" if self.webhooks.contains_key(&c.address) => {}
                "webhook" => {
                    return Err(super::invalid(
                        &format!("{key}.address"),
                        format!(
                            "no webhook `{}`; add [messaging.webhooks.{}] with its url",
                            c.address, c.address
                        ),
                    ));
                }
                "matrix" if self.matrix.homeserver.is_empty() || self.matrix.user.is_empty() => {
                    return Err(super::invalid(
                        "messaging.matrix.homeserver",
                        format!(
                            "contact {name} uses Matrix: set messaging.matrix.homeserver and user"
                        ),
                    ));
                }
                "matrix" if c.address.starts_with('@') && c.address.contains(':') => {}
                "matrix" => {
                    return Err(super::invalid(
                        &format!("{key}.address"),
                        format!("`{}` is not a Matrix user id; use @name:server", c.address),
                    ));
                }
                other => {
                    return Err(super::invalid(
                        &format!("{key}.backend"),
                        format!("unknown backend `{other}`; use email, webhook or matrix"),
                    ));
                }
            }
            if c.backend == "email" && self.email.smtp_host.is_empty() {
                return Err(super::invalid(
                    "messaging.email.smtp_host",
                    format!("contact {name} uses email: set the SMTP server's host name"),
                ));
            }
        }
        if !["starttls", "tls", "none"].contains(&self.email.security.as_str()) {
            return Err(super::invalid(
                "messaging.email.security",
                format!(
                    "unknown `{}`; use starttls, tls or none",
                    self.email.security
                ),
            ));
        }
        for (name, w) in &self.webhooks {
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return Err(super::invalid(
                    &format!("messaging.webhooks.{name}.url"),
                    format!("`{}` is not an http(s) URL", w.url),
                ));
            }
        }
        Ok(())
    }
}
