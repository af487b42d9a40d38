//! Shared HTTP setup.

/// Installs rustls' ring crypto provider once (reqwest is built without a default provider so
/// the same build works on x86 and the Pi without aws-lc's C toolchain needs).
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
