//! The satellite's TCP server: one thread accepts Home Assistant's connections, one reads
//! each, and one follows the loop's events. A malformed event closes only its connection.

use std::io::BufReader;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

use super::Link;
use crate::pipeline::events::Bus;
use crate::wyoming::{WyomingError, read_event, write_event};

/// Listens on `addr` and serves Home Assistant until the process ends; the bound address.
///
/// # Errors
/// The address cannot be bound (in use, or not this machine's).
pub fn serve(link: Arc<Link>, addr: SocketAddr, bus: &Bus) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    if !bound.ip().is_loopback() {
        tracing::warn!(
            %bound,
            "the satellite is reachable from other machines: whoever connects first receives the commands spoken after the wake word, as Home Assistant does; listen on 127.0.0.1 or firewall the port if that is not wanted"
        );
    }
    tracing::info!(%bound, "Wyoming satellite listening for Home Assistant");
    let mut events = bus.subscribe();
    let watcher = link.clone();
    std::thread::Builder::new()
        .name("sori-sat-events".into())
        .spawn(move || {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match events.blocking_recv() {
                    Ok(e) => watcher.on_loop_event(&e),
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        })?;
    std::thread::Builder::new()
        .name("sori-sat-accept".into())
        .spawn(move || {
            for stream in listener.incoming() {
                match stream {
                    Ok(s) => {
                        let link = link.clone();
                        let _ = std::thread::Builder::new()
                            .name("sori-sat-conn".into())
                            .spawn(move || connection(&link, s));
                    }
                    Err(e) => tracing::warn!("satellite: accepting a connection failed: {e}"),
                }
            }
        })?;
    Ok(bound)
}

fn connection(link: &Link, stream: TcpStream) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string());
    let _ = stream.set_nodelay(true);
    let id = match link.connected(&stream) {
        Ok(id) => id,
        Err(e) => return tracing::warn!(%peer, "satellite connection failed: {e}"),
    };
    tracing::info!(%peer, "Home Assistant connected");
    // Answers go on a clone of the stream, under the link's lock for whole events.
    let mut reader = BufReader::new(stream);
    loop {
        match read_event(&mut reader) {
            Ok(Some(e)) => {
                let answer = link.on_event(&e);
                if !answer.is_empty() && !link.send_on(id, &answer) {
                    break;
                }
            }
            Ok(None) => break,
            Err(WyomingError::Malformed(m)) => {
                tracing::warn!(%peer, "closing the connection: malformed event from Home Assistant: {m}");
                break;
            }
            Err(WyomingError::Io(e)) => {
                tracing::debug!(%peer, "connection ended: {e}");
                break;
            }
        }
    }
    let _ = reader.get_ref().shutdown(std::net::Shutdown::Both);
    link.disconnected(id);
}

impl Link {
    /// Writes answers to connection `id` only (not a newer one that replaced it).
    fn send_on(&self, id: u64, events: &[super::Event]) -> bool {
        let writer = match self.lock().conn.as_ref() {
            Some(c) if c.id == id => c.writer.clone(),
            _ => return false,
        };
        let Ok(mut w) = writer.lock() else {
            return false;
        };
        events.iter().all(|e| write_event(&mut *w, e).is_ok())
    }
}
