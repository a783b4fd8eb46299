//! UDP sender: thrift compact `emitBatch` datagrams to a Jaeger agent.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;

use clew_codec_jaeger::{
    Protocol, emit_batch_overhead, encode_emit_batch_message, encoded_span_size,
};
use clew_model::{Process, Span};

use super::{SendError, SendErrorKind, Sender};

/// Largest datagram Jaeger clients send (the agent's default max packet).
pub const MAX_UDP_PACKET: usize = clew_codec_jaeger::MAX_DATAGRAM_BYTES;

/// Sends spans to an agent (`host:6831`, or `5775` for the legacy port) as
/// compact `emitBatch` datagrams, each at most [`MAX_UDP_PACKET`] bytes.
#[derive(Debug)]
pub struct UdpSender {
    socket: UdpSocket,
    max_packet: usize,
    spans: Vec<Span>,
    process: Option<Arc<Process>>,
    overhead: usize,
    bytes: usize,
    seq: i32,
    buf: Vec<u8>,
}

impl UdpSender {
    /// A sender to `agent` (resolved once, now).
    pub fn new(agent: impl ToSocketAddrs) -> std::io::Result<Self> {
        Self::with_max_packet(agent, MAX_UDP_PACKET)
    }

    /// A sender with a smaller datagram limit (tests, constrained networks).
    pub fn with_max_packet(agent: impl ToSocketAddrs, max_packet: usize) -> std::io::Result<Self> {
        let addr: SocketAddr = agent.to_socket_addrs()?.next().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "agent address resolves to nothing",
            )
        })?;
        let local: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local)?;
        socket.connect(addr)?;
        Ok(UdpSender {
            socket,
            max_packet,
            spans: Vec::new(),
            process: None,
            overhead: 0,
            bytes: 0,
            seq: 0,
            buf: Vec::with_capacity(max_packet),
        })
    }

    /// The agent address.
    pub fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.peer_addr()
    }
}

impl Sender for UdpSender {
    fn append(&mut self, span: Span) -> Result<usize, SendError> {
        let mut sent = 0;
        let same_process = self
            .process
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, &span.process) || **p == *span.process);
        if !same_process {
            sent += self.flush()?;
            self.overhead = emit_batch_overhead(&span.process);
            self.process = Some(span.process.clone());
        }
        let size = encoded_span_size(&span);
        if self.overhead + size > self.max_packet {
            return Err(SendError {
                spans_lost: 1,
                kind: SendErrorKind::TooLarge {
                    size: self.overhead + size,
                    limit: self.max_packet,
                },
            });
        }
        if self.overhead + self.bytes + size > self.max_packet {
            sent += self.flush()?;
        }
        self.bytes += size;
        self.spans.push(span);
        Ok(sent)
    }

    fn flush(&mut self) -> Result<usize, SendError> {
        let n = self.spans.len();
        let Some(process) = &self.process else {
            return Ok(0);
        };
        if n == 0 {
            return Ok(0);
        }
        self.buf.clear();
        self.seq = self.seq.wrapping_add(1);
        encode_emit_batch_message(
            process,
            &self.spans,
            self.seq,
            Protocol::Compact,
            &mut self.buf,
        );
        self.spans.clear();
        self.bytes = 0;
        match self.socket.send(&self.buf) {
            Ok(_) => Ok(n),
            Err(e) => Err(SendError {
                spans_lost: n,
                kind: SendErrorKind::Io(e),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{Bytes, KeyValue, SpanId, TraceId};
    use std::time::Duration;

    fn span(i: u64, process: &Arc<Process>, pad: usize) -> Span {
        let mut s = Span::new(TraceId::new(0, i + 1), SpanId(i + 1), "op", process.clone());
        s.tags.push(KeyValue::string("pad", "x".repeat(pad)));
        s
    }

    fn receive_all(sock: &UdpSocket) -> Vec<Vec<Span>> {
        sock.set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        let mut out = Vec::new();
        let mut buf = vec![0u8; 70_000];
        while let Ok(n) = sock.recv(&mut buf) {
            assert!(n <= MAX_UDP_PACKET, "datagram of {n} bytes");
            let body = Bytes::copy_from_slice(&buf[..n]);
            let env = clew_codec_jaeger::parse_agent_envelope(
                &body,
                clew_codec_jaeger::Protocol::Compact,
            )
            .expect("envelope");
            let batch = clew_codec_jaeger::decode_emit_batch_args(
                &body,
                env.args,
                clew_codec_jaeger::Protocol::Compact,
            )
            .expect("batch");
            out.push(batch.spans);
        }
        out
    }

    #[test]
    fn batches_split_below_the_packet_limit() {
        let agent = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut s = UdpSender::new(agent.local_addr().expect("addr")).expect("sender");
        let p = Arc::new(Process::new("svc"));
        let mut sent = 0;
        for i in 0..40 {
            sent += s.append(span(i, &p, 5_000)).expect("append");
        }
        sent += s.flush().expect("flush");
        assert_eq!(sent, 40);
        let batches = receive_all(&agent);
        assert!(
            batches.len() >= 4,
            "expected a split, got {}",
            batches.len()
        );
        let ids: Vec<u64> = batches.iter().flatten().map(|s| s.span_id.0).collect();
        assert_eq!(ids, (1..=40).collect::<Vec<_>>());
        assert_eq!(&*batches[0][0].process.service_name, "svc");
    }

    #[test]
    fn a_span_too_large_for_a_datagram_is_dropped_and_reported() {
        let agent = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut s =
            UdpSender::with_max_packet(agent.local_addr().expect("addr"), 2_000).expect("sender");
        let p = Arc::new(Process::new("svc"));
        let err = s.append(span(1, &p, 5_000)).expect_err("too large");
        assert_eq!(err.spans_lost, 1);
        assert!(matches!(err.kind, SendErrorKind::TooLarge { .. }));
        s.append(span(2, &p, 10)).expect("small span");
        assert_eq!(s.flush().expect("flush"), 1);
        assert_eq!(receive_all(&agent).concat().len(), 1);
    }
}
