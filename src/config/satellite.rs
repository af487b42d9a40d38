//! `[satellite]`: Sori as a Home Assistant voice satellite over Wyoming (`src/wyoming/satellite`).

use serde::{Deserialize, Serialize};

/// The address `sori run --wyoming-server` listens on when none is given: this machine only.
pub const DEFAULT_LISTEN: &str = "tcp://127.0.0.1:10700";

/// `[satellite]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SatelliteConfig {
    /// Listen for Home Assistant's Wyoming integration here (`tcp://HOST:PORT`); empty: Sori is
    /// not a satellite. Other machines reach only a non-loopback address, so listening on the
    /// LAN is opted into by writing one (`tcp://0.0.0.0:10700`).
    pub listen: String,
    /// The name Home Assistant shows; empty: "Sori on HOSTNAME".
    pub name: String,
    /// Wait this long (1000-120000 ms) for Home Assistant's transcript, and again for its reply,
    /// before answering on the device.
    pub timeout_ms: u32,
    /// Announce the satellite on the LAN (mDNS `_wyoming._tcp`) so Home Assistant discovers
    /// it; only when listening on a non-loopback address.
    pub zeroconf: bool,
}

impl Default for SatelliteConfig {
    fn default() -> Self {
        SatelliteConfig {
            listen: String::new(),
            name: String::new(),
            timeout_ms: 15_000,
            zeroconf: true,
        }
    }
}

impl SatelliteConfig {
    /// The listening address, if Sori is a satellite.
    pub fn addr(&self) -> Result<Option<std::net::SocketAddr>, super::ConfigError> {
        if self.listen.is_empty() {
            return Ok(None);
        }
        let bad = || {
            super::invalid(
                "satellite.listen",
                format!(
                    "`{}` is not a TCP address to listen on; use e.g. \"{DEFAULT_LISTEN}\" (this machine) or \"tcp://0.0.0.0:10700\" (the LAN)",
                    self.listen
                ),
            )
        };
        let hp = self
            .listen
            .strip_prefix("tcp://")
            .or_else(|| self.listen.strip_prefix("wyoming://"))
            .ok_or_else(bad)?;
        let hp = hp.trim_end_matches('/');
        let hp = if hp.starts_with("localhost:") {
            hp.replacen("localhost", "127.0.0.1", 1)
        } else {
            hp.to_string()
        };
        hp.parse().map(Some).map_err(|_| bad())
    }

    /// The name Home Assistant shows.
    pub fn display_name(&self) -> String {
        if !self.name.trim().is_empty() {
            return self.name.trim().to_string();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        if host.is_empty() {
            "Sori".into()
        } else {
            format!("Sori on {host}")
        }
    }

    pub(super) fn validate(&self) -> Result<(), super::ConfigError> {
        self.addr()?;
        if !(1000..=120_000).contains(&self.timeout_ms) {
            return Err(super::invalid(
                "satellite.timeout_ms",
                format!("{} is out of range; use 1000..=120000", self.timeout_ms),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let c = |l: &str| SatelliteConfig {
            listen: l.into(),
            ..SatelliteConfig::default()
        };
        assert_eq!(c("").addr().unwrap(), None);
        assert_eq!(
            c(DEFAULT_LISTEN).addr().unwrap().unwrap().to_string(),
            "127.0.0.1:10700"
        );
        assert!(c("tcp://0.0.0.0:10700").addr().unwrap().is_some());
        assert!(c("tcp://localhost:1").addr().unwrap().is_some());
        let e = c("0.0.0.0:10700").addr().unwrap_err().to_string();
        assert!(
            e.contains("satellite.listen") && e.contains("tcp://"),
            "{e}"
        );
    }
}
