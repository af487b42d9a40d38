//! `[api]`: the local HTTP/WebSocket API and the dashboard it serves.

use serde::{Deserialize, Serialize};

/// `[api]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ApiConfig {
    /// Serve the API and the dashboard from `sori run`.
    pub enabled: bool,
    /// Address and port. Anything but loopback (127.0.0.1, ::1) needs `token`.
    pub bind: String,
    /// Bearer token every request must carry (`Authorization: Bearer …`, or `?token=` for
    /// the dashboard and WebSocket). Empty: `SORI_API_TOKEN`, else none (loopback only).
    pub token: String,
    /// How many past runs the history keeps.
    pub history: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            enabled: true,
            bind: "127.0.0.1:8340".into(),
            token: String::new(),
            history: 200,
        }
    }
}

impl ApiConfig {
    /// The token in force (config, then `SORI_API_TOKEN`).
    pub fn token(&self) -> Option<String> {
        super::messaging::secret(&self.token, "SORI_API_TOKEN")
    }

    pub fn addr(&self) -> Result<std::net::SocketAddr, super::ConfigError> {
        self.bind.parse().map_err(|_| {
            super::invalid(
                "api.bind",
                format!(
                    "`{}` is not an address and port, e.g. \"127.0.0.1:8340\"",
                    self.bind
                ),
            )
        })
    }

    pub(super) fn validate(&self) -> Result<(), super::ConfigError> {
        let addr = self.addr()?;
        if self.enabled && !addr.ip().is_loopback() && self.token().is_none() {
            return Err(super::invalid(
                "api.token",
                format!(
                    "api.bind = \"{}\" is reachable from other machines: set api.token (or SORI_API_TOKEN) to a long random string, or bind to 127.0.0.1",
                    self.bind
                ),
            ));
        }
        if self.history == 0 {
            return Err(super::invalid("api.history", "keep at least 1 run"));
        }
        Ok(())
    }
}
