//! Jaeger's thrift formats ↔ Clew's span model.
//!
//! Jaeger clients send `jaeger.thrift` `Batch` structs two ways: as the body
//! of HTTP `POST /api/traces` (binary protocol, no envelope) and inside UDP
//! datagrams as `Agent.emitBatch` messages (compact on 6831, binary on 6832).
//! This crate turns those bytes into [`clew_model::Span`]s and back. It does
//! no I/O: the ingest listeners own sockets and map [`DecodeError`] to a
//! 400 response or a rejected-packet counter.
//!
//! The gRPC side of Jaeger (`jaeger.api_v2` protobuf, ports 14250 and 16685)
//! is in [`api_v2`]: the generated messages and their model conversions.
//!
//! ```
//! use clew_codec_jaeger::{decode_batch, encode_batch, Protocol};
//! use clew_model::{Bytes, Process, Span, SpanId, TraceId};
//! use std::sync::Arc;
//!
//! let process = Arc::new(Process::new("frontend"));
//! let span = Span::new(TraceId::new(0, 1), SpanId(2), "GET /", process.clone());
//! let mut body = Vec::new();
//! encode_batch(&process, &[span.clone()], Protocol::Binary, &mut body);
//! let batch = decode_batch(&Bytes::from(body), Protocol::Binary)?;
//! assert_eq!(batch.spans, vec![span]);
//! # Ok::<(), clew_codec_jaeger::DecodeError>(())
//! ```
//!
//! # Mapping
//!
//! | thrift | model |
//! |---|---|
//! | `traceIdHigh`/`traceIdLow`, `spanId` (i64) | [`clew_model::TraceId`] / [`clew_model::SpanId`], bits reinterpreted as u64 |
//! | `startTime`, `duration`, `Log.timestamp` (µs) | nanoseconds (× 1000). Negative or overflowing values become 0 and leave a span warning |
//! | `parentSpanId` ≠ 0 | a CHILD_OF reference prepended to `references`, unless a reference of either type to that span in the same trace is already there (Jaeger's rule; clients set `parentSpanId` for FOLLOWS_FROM spans too) |
//! | `references` | [`clew_model::Reference`]s (unknown `refType` → CHILD_OF + warning) |
//! | `flags` (i32) | `flags` (u32, same bits) |
//! | `Tag` with vType STRING/DOUBLE/BOOL/LONG/BINARY | [`clew_model::Value`] `Str`/`F64`/`Bool`/`I64`/`Binary`; a missing value field reads as that type's zero |
//! | `Tag` with missing or unknown vType | the first value field present, with its own type, + warning; no value at all → tag dropped + warning |
//! | `Process` | one `Arc<Process>` shared by every span of the batch; an empty service name is kept (ingest decides the default) |
//! | `seqNo`, `stats` | [`JaegerBatch::seq_no`], [`JaegerBatch::stats`] |
//!
//! Strings are zero-copy slices of the input. A string that is not UTF-8 is
//! repaired with U+FFFD (one copy) and the span gets a warning, rather than
//! the batch being rejected; warnings from process strings go on every span.
//! Unknown fields, and known fields with an unexpected wire type, are skipped.
//! `Batch.process` and `Batch.spans` are required; other required fields
//! default to zero when absent (the ingest validator rejects zero IDs).
//!
//! Encoding writes `parentSpanId` = the first CHILD_OF reference in the
//! span's own trace (else 0) and writes every reference, so
//! `decode(encode(x)) == x` for spans whose times are whole microseconds and
//! whose values are not arrays or maps (those become STRING tags holding
//! [`clew_model::Value::to_text`]). Reference tags (OTLP link attributes) have
//! no thrift form and are dropped.

pub mod api_v2;
mod decode;
mod encode;
mod envelope;
mod error;

use bytes::Bytes;
use clew_model::{DecodeBudget, Process, Span};
use clew_thrift::{BinaryReader, BinaryWriter, CompactReader, CompactWriter};

pub use envelope::{
    AgentEnvelope, EMIT_BATCH, EMIT_ZIPKIN_BATCH, decode_emit_batch_args,
    decode_emit_batch_args_with, parse_agent_envelope,
};
pub use error::DecodeError;

use decode::Decoder;

/// Largest UDP datagram Jaeger clients send and the agent accepts.
pub const MAX_DATAGRAM_BYTES: usize = 65_000;

/// Which thrift protocol a payload uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCompactProtocol (UDP 6831 and 5775).
    Compact,
    /// TBinaryProtocol (UDP 6832, HTTP 14268).
    Binary,
}

/// `jaeger.thrift` `ClientStats`: the client's own drop counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Spans dropped because the client's queue was full.
    pub full_queue_dropped_spans: i64,
    /// Spans dropped because they alone exceeded the datagram size.
    pub too_large_dropped_spans: i64,
    /// Spans the client failed to send.
    pub failed_to_emit_spans: i64,
}

/// A decoded `Batch`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JaegerBatch {
    /// The spans, all sharing one `Arc<Process>`.
    pub spans: Vec<Span>,
    /// The client's batch sequence number, if sent.
    pub seq_no: Option<i64>,
    /// The client's drop counters, if sent.
    pub stats: Option<ClientStats>,
    /// Strings that were not UTF-8 and were repaired with U+FFFD (each also
    /// leaves a span warning), for the listeners to count.
    pub repaired_strings: usize,
}

/// Decodes the body of HTTP `POST /api/traces`: a bare `Batch` struct, no envelope.
/// Bytes after the struct are ignored.
pub fn decode_batch(body: &Bytes, protocol: Protocol) -> Result<JaegerBatch, DecodeError> {
    decode_batch_with(body, protocol, &mut DecodeBudget::default())
}

/// [`decode_batch`] charging every decoded value to `budget` first, so a
/// small body that declares millions of elements fails fast instead of
/// allocating (see [`clew_model::DecodeBudget`]).
pub fn decode_batch_with(
    body: &Bytes,
    protocol: Protocol,
    budget: &mut DecodeBudget<'_>,
) -> Result<JaegerBatch, DecodeError> {
    match protocol {
        Protocol::Compact => Decoder::new(CompactReader::new(body), body, budget).batch(),
        Protocol::Binary => Decoder::new(BinaryReader::new(body), body, budget).batch(),
    }
}

/// The optional `Batch` fields a client adds about itself: `seqNo` (field 3)
/// and `stats` (field 4). `None` fields are not written.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BatchMeta {
    /// The client's batch sequence number (Jaeger clients count up from 1).
    pub seq_no: Option<i64>,
    /// The client's cumulative drop counters.
    pub stats: Option<ClientStats>,
}

/// The most bytes a [`BatchMeta`] adds to a `Batch` in either protocol, for
/// any values: senders add it to their size budget so a datagram stays under
/// [`MAX_DATAGRAM_BYTES`] whatever the counters grow to.
///
/// Binary is the larger: `seqNo` = 3-byte field header + 8; `stats` = 3 +
/// three × (3 + 8) + 1 stop byte; 11 + 37 = 48. Compact needs at most 46
/// (1-byte field headers, varints of up to 10 bytes).
pub const BATCH_META_MAX_BYTES: usize = 48;

/// Appends a `Batch` struct (the HTTP body form) to `out`.
pub fn encode_batch(process: &Process, spans: &[Span], protocol: Protocol, out: &mut Vec<u8>) {
    encode_batch_with(process, spans, &BatchMeta::default(), protocol, out)
}

/// Appends a `Batch` struct carrying `meta` (the HTTP body form) to `out`.
pub fn encode_batch_with(
    process: &Process,
    spans: &[Span],
    meta: &BatchMeta,
    protocol: Protocol,
    out: &mut Vec<u8>,
) {
    match protocol {
        Protocol::Compact => {
            encode::write_batch(&mut CompactWriter::new(out), process, spans, meta)
        }
        Protocol::Binary => encode::write_batch(&mut BinaryWriter::new(out), process, spans, meta),
    }
}

/// Appends a whole agent datagram (`emitBatch` ONEWAY message) to `out`.
pub fn encode_emit_batch_message(
    process: &Process,
    spans: &[Span],
    seq_id: i32,
    protocol: Protocol,
    out: &mut Vec<u8>,
) {
    encode_emit_batch_message_with(process, spans, seq_id, &BatchMeta::default(), protocol, out)
}

/// Appends a whole agent datagram whose `Batch` carries `meta` to `out`.
pub fn encode_emit_batch_message_with(
    process: &Process,
    spans: &[Span],
    seq_id: i32,
    meta: &BatchMeta,
    protocol: Protocol,
    out: &mut Vec<u8>,
) {
    match protocol {
        Protocol::Compact => {
            encode::write_emit_batch(&mut CompactWriter::new(out), process, spans, seq_id, meta)
        }
        Protocol::Binary => {
            encode::write_emit_batch(&mut BinaryWriter::new(out), process, spans, seq_id, meta)
        }
    }
}

/// The exact number of bytes `span` takes in a compact `emitBatch`
/// datagram, so senders can split batches to stay under
/// [`MAX_DATAGRAM_BYTES`] together with [`emit_batch_overhead`].
pub fn encoded_span_size(span: &Span) -> usize {
    encode::compact_span_size(span)
}

/// Bytes a compact `emitBatch` datagram for `process` needs besides its
/// spans (an upper bound, exact to within a few bytes): a batch fits in one
/// datagram when `emit_batch_overhead(p) + Σ encoded_span_size(s) <= MAX_DATAGRAM_BYTES`.
/// It excludes [`BatchMeta`]; add [`BATCH_META_MAX_BYTES`] when sending one.
pub fn emit_batch_overhead(process: &Process) -> usize {
    encode::compact_emit_batch_overhead(process)
}
