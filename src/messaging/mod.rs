//! Messaging: dictated messages delivered through a real service, never lost, never twice.
//!
//! - `outbox`: the durable queue in the state database (written before Sori says "sent").
//! - `worker`: the delivery thread, retrying with backoff across outages and restarts.
//! - `email`, `webhook`, `matrix`: the backends, chosen per contact (`[messaging.contacts]`).
//! - `inbox`, `matrix_inbox`: messages from contacts over Matrix, kept until read aloud.

pub mod email;
pub mod inbox;
pub mod matrix;
pub mod matrix_inbox;
pub mod outbox;
pub mod webhook;
pub mod worker;

use std::collections::BTreeMap;

use thiserror::Error;

use crate::config::Config;
pub use outbox::Message;

#[derive(Debug, Error)]
pub enum SendError {
    /// Worth retrying: the network, a server error, a timeout.
    #[error("{0} (will retry)")]
    Temporary(String),
    /// Will never work as it is: a bad address, refused credentials.
    #[error("{0}")]
    Permanent(String),
}

/// A way to deliver a message. Implementations pass the message's key on (as a transaction
/// id, header or Message-ID) so a retried delivery is recognisable as the same message.
pub trait Backend: Send + Sync {
    /// Delivers `m` to `m.address`.
    ///
    /// # Errors
    /// Why it was not delivered, and whether trying again may help.
    fn send(&self, m: &Message) -> Result<(), SendError>;
}

/// The configured backends by name (`email`, `webhook`).
#[derive(Default)]
pub struct Backends {
    by_name: BTreeMap<String, Box<dyn Backend>>,
    matrix: Option<std::sync::Arc<matrix::MatrixBackend>>,
}

impl<T: Backend + ?Sized> Backend for std::sync::Arc<T> {
    fn send(&self, m: &Message) -> Result<(), SendError> {
        (**self).send(m)
    }
}

impl Backends {
    pub fn from_config(cfg: &Config) -> Backends {
        let m = &cfg.messaging;
        let mut by_name: BTreeMap<String, Box<dyn Backend>> = BTreeMap::new();
        by_name.insert(
            "webhook".into(),
            Box::new(webhook::WebhookBackend {
                hooks: m.webhooks.clone(),
            }),
        );
        if !m.email.smtp_host.is_empty() {
            by_name.insert(
                "email".into(),
                Box::new(email::EmailBackend {
                    cfg: m.email.clone(),
                    sender_name: cfg.persona.name.clone(),
                }),
            );
        }
        let matrix = (!m.matrix.homeserver.is_empty())
            .then(|| std::sync::Arc::new(matrix::MatrixBackend::new(m.matrix.clone())));
        if let Some(mx) = &matrix {
            by_name.insert("matrix".into(), Box::new(mx.clone()));
        }
        Backends { by_name, matrix }
    }

    /// The Matrix client, shared with the inbox so both use one login.
    pub fn matrix(&self) -> Option<std::sync::Arc<matrix::MatrixBackend>> {
        self.matrix.clone()
    }

    /// Adds or replaces a backend (tests use fakes for the worker's logic).
    pub fn insert(&mut self, name: &str, b: Box<dyn Backend>) {
        self.by_name.insert(name.to_string(), b);
    }

    /// Delivers through the message's backend.
    ///
    /// # Errors
    /// As [`Backend::send`]; an unknown backend is permanent.
    pub fn send(&self, m: &Message) -> Result<(), SendError> {
        match self.by_name.get(&m.backend) {
            Some(b) => b.send(m),
            None => Err(SendError::Permanent(format!(
                "the {} backend is not configured",
                m.backend
            ))),
        }
    }
}
