//! Announces the satellite on the LAN with mDNS/DNS-SD as `_wyoming._tcp.local.`, as the
//! reference library's `HomeAssistantZeroconf` does, so Home Assistant's Wyoming integration
//! offers it under "Discovered" without typing an address.

use std::net::SocketAddr;

use mdns_sd::{ServiceDaemon, ServiceInfo};

/// The DNS-SD service type Home Assistant browses for.
pub const SERVICE: &str = "_wyoming._tcp.local.";

/// Keeps the announcement up while it lives (the mDNS responder runs on its own thread).
pub struct Zeroconf {
    daemon: ServiceDaemon,
}

impl Drop for Zeroconf {
    fn drop(&mut self) {
        let _ = self.daemon.shutdown();
    }
}

/// Announces `name` at `bound`: its address, or every address of this machine when bound to
/// all of them (`0.0.0.0`), kept up to date as interfaces come and go.
///
/// # Errors
/// The mDNS socket cannot be opened.
pub fn announce(name: &str, bound: SocketAddr) -> Result<Zeroconf, String> {
    let daemon = ServiceDaemon::new().map_err(|e| e.to_string())?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "sori".into());
    let version = env!("CARGO_PKG_VERSION");
    let props = [("software", "sori"), ("version", version)];
    let info = if bound.ip().is_unspecified() {
        ServiceInfo::new(
            SERVICE,
            name,
            &format!("{host}.local."),
            "",
            bound.port(),
            &props[..],
        )
        .map(ServiceInfo::enable_addr_auto)
    } else {
        ServiceInfo::new(
            SERVICE,
            name,
            &format!("{host}.local."),
            bound.ip(),
            bound.port(),
            &props[..],
        )
    }
    .map_err(|e| e.to_string())?;
    daemon.register(info).map_err(|e| e.to_string())?;
    tracing::info!(
        name,
        port = bound.port(),
        "announced on the LAN as {SERVICE}"
    );
    Ok(Zeroconf { daemon })
}
