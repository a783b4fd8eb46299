//! OTLP traces ↔ Clew's span model. Pure functions, no I/O.
//!
//! * [`decode`]: protobuf `ExportTraceServiceRequest` bytes → model spans,
//!   walking the bytes directly (strings are slices of the body, no prost
//!   allocation). [`decode_prost`] / [`request_to_model`] do the same through
//!   prost's messages (the gRPC path, where tonic already decoded the
//!   request) and give identical results.
//! * [`json::decode`]: OTLP/JSON (`POST /v1/traces`, `application/json`).
//! * [`spans_to_request`], [`spans_to_resource_spans`], [`json::encode`]:
//!   model → OTLP, for API v3 and the client.
//!
//! The mapping is Jaeger's (resource `service.name` → process service, other
//! resource attributes → process tags, kind → `span.kind`, status →
//! `otel.status_code`/`otel.status_description`/`error=true`, scope →
//! `otel.scope.*`, events → logs with an `event` field, parent → first
//! CHILD_OF reference, links → references typed by `opentracing.ref_type`),
//! extended so nothing is lost: see [`keys`] for every tag it writes. Span
//! flags are kept as the model's `flags` unchanged.
//!
//! The zero-copy decoder shares attribute keys and scope names through a
//! bounded per-thread table of `&'static str` (see `intern.rs`): keys repeat,
//! and a shared static key costs no reference counting.
//!
//! Spans with malformed IDs are refused one by one and counted per reason in
//! [`Rejections`], which also builds the OTLP `partial_success` reply.
//!
//! ```
//! use clew_codec_otlp::{decode, spans_to_request};
//! use prost::Message;
//! # let span = clew_model::Span::new(clew_model::TraceId::new(1, 2), clew_model::SpanId(3), "op",
//! #     std::sync::Arc::new(clew_model::Process::new("svc")));
//! let body = spans_to_request(std::slice::from_ref(&span)).encode_to_vec();
//! let decoded = decode(&body.into())?;
//! assert_eq!(decoded.spans, vec![span]);
//! assert_eq!(decoded.rejected.total(), 0);
//! # Ok::<(), clew_codec_otlp::OtlpError>(())
//! ```

mod assemble;
mod borrowed;
mod error;
mod from_model;
mod intern;
pub mod json;
pub mod keys;
mod limits;
mod reject;
mod to_model;
mod value;
mod wire;

pub use borrowed::decode;
pub use error::OtlpError;
pub use from_model::{spans_to_request, spans_to_resource_spans};
pub use limits::{decode_json_with_budget, decode_with_budget};
pub use reject::{Decoded, RejectReason, Rejections};
pub use to_model::{decode_prost, request_to_model, resource_spans_to_model};

/// The OTLP message types (prost), re-exported so users need not pin the
/// same `opentelemetry-proto` version.
pub use opentelemetry_proto::tonic as proto;
