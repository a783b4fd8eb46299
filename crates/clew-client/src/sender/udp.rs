//! UDP sender: thrift compact `emitBatch` datagrams to a Jaeger agent.
//!
//! Like Jaeger's clients, every datagram's `Batch` carries `seqNo` (1, 2,
//! ... per datagram, so the agent can spot lost packets) and `stats`: the
//! cumulative counts of spans dropped because the reporter queue was full,
//! because a span alone was too large for a datagram, and because a send
//! failed.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clew_codec_jaeger::{
    BATCH_META_MAX_BYTES, BatchMeta, ClientStats, Protocol, emit_batch_overhead,
    encode_emit_batch_message_with, encoded_span_size,
};
use clew_model::{Process, Span};

use super::compact_rows::{self, STRUCT_ELEM};
use super::{Appended, SendError, SendErrorKind, Sender};
use crate::reporter::SpanBatch;

/// Largest datagram Jaeger clients send (the agent's default max packet).
pub const MAX_UDP_PACKET: usize = clew_codec_jaeger::MAX_DATAGRAM_BYTES;

/// Sends spans to an agent (`host:6831`, or `5775` for the legacy port) as
/// compact `emitBatch` datagrams, each at most [`MAX_UDP_PACKET`] bytes.
#[derive(Debug)]
pub struct UdpSender {
    socket: UdpSocket,
    max_packet: usize,
    spans: Vec<Span>,
    /// Spans of reporter batches, already encoded (compact `Span` structs
    /// back to back); never pending together with `spans`.
    encoded: Vec<u8>,
    encoded_spans: usize,
    process: Option<Arc<Process>>,
    /// Envelope, process and [`BATCH_META_MAX_BYTES`]: everything but spans.
    overhead: usize,
    bytes: usize,
    seq: i32,
    /// `Batch.seqNo` of the last datagram sent.
    batch_seq_no: i64,
    /// The reporter's full-queue drop count, once it has handed it over.
    queue_dropped: Option<Arc<AtomicU64>>,
    too_large: u64,
    failed: u64,
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
            encoded: Vec::with_capacity(max_packet),
            encoded_spans: 0,
            process: None,
            overhead: 0,
            bytes: 0,
            seq: 0,
            batch_seq_no: 0,
            queue_dropped: None,
            too_large: 0,
            failed: 0,
            buf: Vec::with_capacity(max_packet),
        })
    }

    /// The agent address.
    pub fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.peer_addr()
    }

    /// The counters the next datagram reports (saturating at `i64::MAX`).
    fn client_stats(&self) -> ClientStats {
        let wire = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        ClientStats {
            full_queue_dropped_spans: wire(
                self.queue_dropped
                    .as_ref()
                    .map_or(0, |c| c.load(Ordering::Relaxed)),
            ),
            too_large_dropped_spans: wire(self.too_large),
            failed_to_emit_spans: wire(self.failed),
        }
    }
}

impl UdpSender {
    /// Sends the datagram in `buf`, which carries `n` spans; a failed send
    /// counts them as lost.
    fn send_datagram(&mut self, n: usize) -> Result<usize, SendError> {
        match self.socket.send(&self.buf) {
            Ok(_) => Ok(n),
            Err(e) => {
                self.failed += n as u64;
                Err(SendError {
                    spans_lost: n,
                    kind: SendErrorKind::Io(e),
                })
            }
        }
    }

    /// Sends the first `len` bytes of `encoded` (all encoded spans but one
    /// just appended, or all) as one datagram, keeping the rest.
    fn flush_encoded(&mut self, len: usize) -> Result<usize, SendError> {
        // A span appended but not yet counted may follow `len`.
        let n = self.encoded_spans;
        let Some(process) = &self.process else {
            return Ok(0);
        };
        if n == 0 {
            return Ok(0);
        }
        self.seq = self.seq.wrapping_add(1);
        self.batch_seq_no = self.batch_seq_no.wrapping_add(1);
        let stats = self.client_stats();
        self.buf.clear();
        // The codec writes the envelope, the process and an empty span
        // list; its last three bytes are that list's header and the two
        // closing stops. Spans, the meta fields and the stops follow.
        encode_emit_batch_message_with(
            process,
            &[],
            self.seq,
            &BatchMeta::default(),
            Protocol::Compact,
            &mut self.buf,
        );
        let prefix = self.buf.len() - EMPTY_LIST_AND_STOPS.len();
        debug_assert_eq!(&self.buf[prefix..], &EMPTY_LIST_AND_STOPS);
        self.buf.truncate(prefix);
        compact_rows::list_header(&mut self.buf, STRUCT_ELEM, n);
        self.buf.extend_from_slice(&self.encoded[..len]);
        write_meta(&mut self.buf, self.batch_seq_no, &stats);
        self.encoded.drain(..len);
        self.encoded_spans = 0;
        self.send_datagram(n)
    }
}

/// An empty compact struct list's header, the `Batch`'s stop and the
/// `emitBatch` arguments' stop: how a datagram without spans or meta ends.
const EMPTY_LIST_AND_STOPS: [u8; 3] = [STRUCT_ELEM, 0, 0];

/// Appends `Batch.seqNo` and `Batch.stats` (fields 3 and 4, after the span
/// list, field 2) and the two closing stops.
fn write_meta(buf: &mut Vec<u8>, seq_no: i64, stats: &ClientStats) {
    fn i64_value(buf: &mut Vec<u8>, v: i64) {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        while z >= 0x80 {
            buf.push((z as u8) | 0x80);
            z >>= 7;
        }
        buf.push(z as u8);
    }
    const I64_NEXT: u8 = 0x16; // field delta 1, compact i64
    const STRUCT_NEXT: u8 = 0x1c; // field delta 1, compact struct
    buf.push(I64_NEXT);
    i64_value(buf, seq_no);
    buf.push(STRUCT_NEXT);
    for v in [
        stats.full_queue_dropped_spans,
        stats.too_large_dropped_spans,
        stats.failed_to_emit_spans,
    ] {
        buf.push(I64_NEXT);
        i64_value(buf, v);
    }
    buf.extend_from_slice(&[0, 0, 0]);
}

impl Sender for UdpSender {
    fn append(&mut self, span: Span) -> Result<usize, SendError> {
        let mut sent = self.flush_encoded(self.encoded.len())?;
        let same_process = self
            .process
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, &span.process) || **p == *span.process);
        if !same_process {
            sent += self.flush()?;
            self.overhead = emit_batch_overhead(&span.process) + BATCH_META_MAX_BYTES;
            self.process = Some(span.process.clone());
        }
        let size = encoded_span_size(&span);
        if self.overhead + size > self.max_packet {
            self.too_large += 1;
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

    fn append_batch(&mut self, batch: &SpanBatch, process: &Arc<Process>) -> Appended {
        let mut out = Appended::default();
        let note = |out: &mut Appended, r: Result<usize, SendError>| match r {
            Ok(n) => out.sent += n,
            Err(e) => {
                out.lost += e.spans_lost;
                log::debug!("clew: sending spans failed: {e}");
            }
        };
        let same_process = self
            .process
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, process) || **p == **process);
        if !same_process || !self.spans.is_empty() {
            let r = self.flush();
            note(&mut out, r);
        }
        if !same_process {
            self.overhead = emit_batch_overhead(process) + BATCH_META_MAX_BYTES;
            self.process = Some(process.clone());
        }
        for row in &batch.rows {
            let start = self.encoded.len();
            compact_rows::write_span(&mut self.encoded, batch, row);
            let size = self.encoded.len() - start;
            if self.overhead + size > self.max_packet {
                self.encoded.truncate(start);
                self.too_large += 1;
                note(
                    &mut out,
                    Err(SendError {
                        spans_lost: 1,
                        kind: SendErrorKind::TooLarge {
                            size: self.overhead + size,
                            limit: self.max_packet,
                        },
                    }),
                );
                continue;
            }
            if self.overhead + start + size > self.max_packet {
                let r = self.flush_encoded(start);
                note(&mut out, r);
            }
            self.encoded_spans += 1;
        }
        out
    }

    fn flush(&mut self) -> Result<usize, SendError> {
        if self.encoded_spans > 0 {
            return self.flush_encoded(self.encoded.len());
        }
        let n = self.spans.len();
        let Some(process) = &self.process else {
            return Ok(0);
        };
        if n == 0 {
            return Ok(0);
        }
        self.buf.clear();
        self.seq = self.seq.wrapping_add(1);
        self.batch_seq_no = self.batch_seq_no.wrapping_add(1);
        let meta = BatchMeta {
            seq_no: Some(self.batch_seq_no),
            stats: Some(self.client_stats()),
        };
        encode_emit_batch_message_with(
            process,
            &self.spans,
            self.seq,
            &meta,
            Protocol::Compact,
            &mut self.buf,
        );
        self.spans.clear();
        self.bytes = 0;
        self.send_datagram(n)
    }

    fn set_queue_drop_counter(&mut self, counter: Arc<AtomicU64>) {
        self.queue_dropped = Some(counter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_codec_jaeger::JaegerBatch;
    use clew_model::{Bytes, KeyValue, SpanId, TraceId};
    use std::time::Duration;

    fn span(i: u64, process: &Arc<Process>, pad: usize) -> Span {
        let mut s = Span::new(TraceId::new(0, i + 1), SpanId(i + 1), "op", process.clone());
        s.tags.push(KeyValue::string("pad", "x".repeat(pad)));
        s
    }

    fn stats(full_queue: i64, too_large: i64, failed: i64) -> Option<ClientStats> {
        Some(ClientStats {
            full_queue_dropped_spans: full_queue,
            too_large_dropped_spans: too_large,
            failed_to_emit_spans: failed,
        })
    }

    fn receive_all(sock: &UdpSocket) -> Vec<JaegerBatch> {
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
            out.push(batch);
        }
        out
    }

    /// The datagrams of a reporter batch, encoded from its rows, are the
    /// bytes the model path sends for the same spans, split the same way.
    #[test]
    fn batches_from_rows_send_the_same_datagrams_as_model_spans() {
        use crate::Tracer;
        use crate::reporter::InMemoryReporter;
        use crate::sampler::ConstSampler;
        let rep = InMemoryReporter::new();
        let t = Tracer::builder("svc")
            .sampler(ConstSampler(true))
            .reporter(rep.clone())
            .build();
        let root = t.span("root").with_tag("k", "v").start();
        for i in 0..300 {
            let mut c = t.span("child").child_of(&root).start();
            c.set_tag("i", i).set_tag("pad", "x".repeat(i % 7 * 50));
            if i % 10 == 0 {
                c.log_event("ev");
            }
            c.finish();
        }
        root.finish();
        let mut batch = SpanBatch::new();
        for mut r in rep.take() {
            batch.push_finished(&mut r);
        }
        let p = Arc::new(Process::new("svc"));
        let datagrams = |rows: bool| {
            let agent = UdpSocket::bind("127.0.0.1:0").expect("bind");
            let mut s = UdpSender::with_max_packet(agent.local_addr().expect("addr"), 8_000)
                .expect("sender");
            if rows {
                let out = s.append_batch(&batch, &p);
                assert_eq!(out.lost, 0);
            } else {
                for span in batch.to_model(&p) {
                    s.append(span).expect("append");
                }
            }
            s.flush().expect("flush");
            agent
                .set_read_timeout(Some(Duration::from_millis(300)))
                .expect("timeout");
            let mut buf = vec![0u8; 70_000];
            let mut got = Vec::new();
            while let Ok(n) = agent.recv(&mut buf) {
                got.push(buf[..n].to_vec());
            }
            got
        };
        let from_rows = datagrams(true);
        assert!(from_rows.len() > 3, "{} datagrams", from_rows.len());
        assert_eq!(from_rows, datagrams(false));
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
        let ids: Vec<u64> = batches
            .iter()
            .flat_map(|b| &b.spans)
            .map(|s| s.span_id.0)
            .collect();
        assert_eq!(ids, (1..=40).collect::<Vec<_>>());
        assert_eq!(&*batches[0].spans[0].process.service_name, "svc");
        let seq_nos: Vec<Option<i64>> = batches.iter().map(|b| b.seq_no).collect();
        let expected: Vec<Option<i64>> = (1..=batches.len() as i64).map(Some).collect();
        assert_eq!(seq_nos, expected);
        assert!(batches.iter().all(|b| b.stats == stats(0, 0, 0)));
    }

    #[test]
    fn full_datagrams_leave_room_for_the_largest_meta() {
        let p = Arc::new(Process::new("svc"));
        let bare = |i: u64| Span::new(TraceId::new(0, i + 1), SpanId(i + 1), "op", p.clone());
        let size = encoded_span_size(&bare(0));
        assert!(size < BATCH_META_MAX_BYTES, "span of {size} bytes");
        // Room for exactly `per` spans plus the widest meta.
        let per = 20;
        let limit = emit_batch_overhead(&p) + BATCH_META_MAX_BYTES + per * size;
        let agent = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut s =
            UdpSender::with_max_packet(agent.local_addr().expect("addr"), limit).expect("sender");
        // Counters as wide as they can encode.
        s.set_queue_drop_counter(Arc::new(AtomicU64::new(u64::MAX)));
        s.too_large = u64::MAX;
        s.failed = u64::MAX;
        s.batch_seq_no = i64::MIN;
        for i in 0..(3 * per as u64) {
            // Same-size IDs (one varint byte each) keep every span `size` bytes.
            s.append(bare(i % 50)).expect("append");
        }
        s.flush().expect("flush");
        agent
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        let mut buf = vec![0u8; 70_000];
        let mut sizes = Vec::new();
        while let Ok(n) = agent.recv(&mut buf) {
            let batch = clew_codec_jaeger::decode_emit_batch_args(
                &Bytes::copy_from_slice(&buf[..n]),
                clew_codec_jaeger::parse_agent_envelope(&buf[..n], Protocol::Compact)
                    .expect("envelope")
                    .args,
                Protocol::Compact,
            )
            .expect("batch");
            assert_eq!(batch.spans.len(), per);
            assert_eq!(batch.stats, stats(i64::MAX, i64::MAX, i64::MAX));
            sizes.push(n);
        }
        assert_eq!(sizes.len(), 3);
        assert!(sizes.iter().all(|&n| n <= limit), "{sizes:?} > {limit}");
    }

    #[test]
    fn a_span_too_large_for_a_datagram_is_dropped_and_reported() {
        let agent = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut s =
            UdpSender::with_max_packet(agent.local_addr().expect("addr"), 2_000).expect("sender");
        s.set_queue_drop_counter(Arc::new(AtomicU64::new(7)));
        let p = Arc::new(Process::new("svc"));
        let err = s.append(span(1, &p, 5_000)).expect_err("too large");
        assert_eq!(err.spans_lost, 1);
        assert!(matches!(err.kind, SendErrorKind::TooLarge { .. }));
        s.append(span(2, &p, 10)).expect("small span");
        assert_eq!(s.flush().expect("flush"), 1);
        let batches = receive_all(&agent);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].spans.len(), 1);
        assert_eq!(batches[0].seq_no, Some(1));
        assert_eq!(batches[0].stats, stats(7, 1, 0));
    }

    #[test]
    fn failed_sends_are_counted_in_later_datagrams() {
        // A port nobody listens on: the kernel's ICMP "port unreachable"
        // makes a later send on the connected socket fail.
        let addr = UdpSocket::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr");
        let mut s = UdpSender::new(addr).expect("sender");
        let p = Arc::new(Process::new("svc"));
        let mut lost = 0;
        for i in 0..50 {
            s.append(span(i, &p, 10)).expect("append");
            s.append(span(i + 100, &p, 10)).expect("append");
            match s.flush() {
                Ok(_) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => {
                    assert!(matches!(e.kind, SendErrorKind::Io(_)));
                    lost += e.spans_lost;
                    break;
                }
            }
        }
        assert_eq!(lost, 2, "no send failed");
        let attempts = s.batch_seq_no;
        let agent = UdpSocket::bind(addr).expect("rebind the agent port");
        s.append(span(999, &p, 10)).expect("append");
        s.flush().expect("flush");
        let batches = receive_all(&agent);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].seq_no, Some(attempts + 1));
        assert_eq!(batches[0].stats, stats(0, 0, 2));
    }
}
