//! Agent UDP: one payload is one datagram, as Jaeger clients send them.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};

use super::{Transport, TransportError};

/// A connected UDP socket to an agent port (6831 compact, 6832 binary).
///
/// Connecting lets the kernel report `ECONNREFUSED` when nothing listens,
/// which the generator counts as an error instead of blasting into the void.
#[derive(Debug)]
pub struct UdpAgent {
    socket: UdpSocket,
}

impl UdpAgent {
    /// Binds an ephemeral port and connects it to `target` (`host:port`).
    pub fn connect(target: &str) -> Result<Self, TransportError> {
        let addr = resolve(target)?;
        let local: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(local)?;
        socket.connect(addr)?;
        Ok(UdpAgent { socket })
    }
}

impl Transport for UdpAgent {
    fn send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        let sent = self.socket.send(payload)?;
        if sent != payload.len() {
            return Err(TransportError::Io(std::io::Error::other(format!(
                "datagram truncated: {sent} of {} bytes sent",
                payload.len()
            ))));
        }
        Ok(())
    }
}

fn resolve(target: &str) -> Result<SocketAddr, TransportError> {
    let bad = |reason: String| TransportError::BadTarget {
        target: target.to_string(),
        reason,
    };
    let hostport = target.strip_prefix("udp://").unwrap_or(target);
    hostport
        .to_socket_addrs()
        .map_err(|e| bad(format!("expected host:port ({e})")))?
        .next()
        .ok_or_else(|| bad("resolves to no address".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_each_payload_as_one_datagram() {
        let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let target = server.local_addr().expect("addr").to_string();
        let mut agent = UdpAgent::connect(&target).expect("connect");
        agent.send(b"first").expect("send");
        agent.send(&[7u8; 60_000]).expect("send big");
        let mut buf = vec![0u8; 65_536];
        assert_eq!(server.recv(&mut buf).expect("recv"), 5);
        assert_eq!(&buf[..5], b"first");
        assert_eq!(server.recv(&mut buf).expect("recv"), 60_000);
    }

    #[test]
    fn a_target_without_port_is_rejected_by_name() {
        let err = UdpAgent::connect("localhost").expect_err("no port");
        assert!(err.to_string().contains("localhost"), "{err}");
    }
}
