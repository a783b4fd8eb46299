//! Jaeger's `jaeger.api_v2` protobuf messages ↔ Clew's span model.
//!
//! api_v2 is what Jaeger speaks over gRPC: `CollectorService/PostSpans` on
//! 14250 (ingest) and `QueryService` on 16685 (query). This module holds the
//! prost messages ([`pb`], generated from `proto/` at build time without
//! `protoc`) and the conversions; the service stubs live with the servers.
//!
//! ```
//! use clew_codec_jaeger::api_v2::{batch_to_model, batch_to_pb};
//! use clew_model::{Process, Span, SpanId, TraceId};
//! use std::sync::Arc;
//!
//! let process = Arc::new(Process::new("frontend"));
//! let span = Span::new(TraceId::new(0, 1), SpanId(2), "GET /", process.clone());
//! let batch = batch_to_pb(&process, std::slice::from_ref(&span));
//! let back = batch_to_model(batch);
//! assert_eq!(back.spans, vec![span]);
//! assert!(back.rejected.is_empty());
//! ```
//!
//! # Mapping
//!
//! | api_v2 | model |
//! |---|---|
//! | `trace_id` bytes (16 big-endian: high, low; 8 = low only) | [`clew_model::TraceId`]; written as 16 bytes |
//! | `span_id` bytes (8 big-endian) | [`clew_model::SpanId`] |
//! | `start_time` Timestamp, `duration` Duration, `Log.timestamp` | Unix ns / ns; negative or overflowing → 0 + span warning, absent → 0 |
//! | `KeyValue` (`ValueType` STRING=0, BOOL=1, INT64=2, FLOAT64=3, BINARY=4 — not thrift's order) | [`clew_model::Value`]; unknown type → its `v_str` as a string + warning |
//! | arrays and maps (no api_v2 form) | STRING holding [`clew_model::Value::to_text`] |
//! | `SpanRef` | [`clew_model::Reference`] (unknown type → CHILD_OF + warning; malformed IDs → dropped + warning); reference tags have no api_v2 form |
//! | `Span.process`, else `Batch.process`, else `Trace.process_map[process_id]` | the span's `Arc<Process>`, shared by equal processes |
//! | `flags`, `warnings` | same |
//!
//! A span whose own trace or span ID is malformed is rejected (listed in
//! [`Converted::rejected`]) rather than failing the whole batch, so the
//! ingest edge can count rejections per reason.

mod decode;
mod encode;
mod limits;
mod time;

/// The generated `jaeger.api_v2` messages (prost). Field numbers follow
/// jaeger-idl; the collector, sampling and query request/response types are
/// here too so gRPC servers can point `extern_path` at this module.
#[allow(missing_docs, clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/jaeger.api_v2.rs"));
}

pub use decode::{
    Converted, batch_to_model, key_value_to_model, process_to_model, span_to_model, spans_to_model,
    trace_to_model,
};
pub use encode::{
    batch_to_pb, dependency_link, key_value_to_pb, process_to_pb, span_id_bytes, span_to_pb,
    trace_id_bytes, trace_to_pb,
};
pub use limits::charge_post_spans;
pub use time::{duration_from_ns, duration_to_ns, timestamp_from_ns, timestamp_to_ns};

use clew_model::{IdParseError, SpanId, TraceId};

/// Why an api_v2 span could not become a model span.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// `trace_id` is not 8 or 16 bytes long.
    #[error("invalid trace ID: {0}")]
    TraceId(IdParseError),
    /// `span_id` is not 8 bytes long.
    #[error("invalid span ID: {0}")]
    SpanId(IdParseError),
}

impl ConvertError {
    /// A short, stable label for per-reason rejection counters.
    pub fn reason(&self) -> &'static str {
        match self {
            ConvertError::TraceId(_) => "invalid_trace_id",
            ConvertError::SpanId(_) => "invalid_span_id",
        }
    }
}

/// Reads a trace ID: 16 big-endian bytes, or 8 as a 64-bit ID. Zero is
/// let through, as in the thrift decoder: the ingest validator decides.
pub fn trace_id_from_bytes(b: &[u8]) -> Result<TraceId, ConvertError> {
    TraceId::from_bytes(b).map_err(ConvertError::TraceId)
}

/// Reads an 8-byte big-endian span ID.
pub fn span_id_from_bytes(b: &[u8]) -> Result<SpanId, ConvertError> {
    SpanId::from_bytes(b).map_err(ConvertError::SpanId)
}
