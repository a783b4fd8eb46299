//! The span model every other Clew crate speaks.
//!
//! Wire codecs decode into these types and encode from them; the store keeps
//! them; the query APIs render them. The model is shaped like Jaeger's (a span
//! has tags, logs, references and a process) because that is the richest of
//! the formats Clew accepts; OpenTelemetry and Zipkin concepts map onto it by
//! the conventions documented in the codec crates (for example OTLP span kind
//! becomes the `span.kind` tag).
//!
//! Two choices matter for speed and fidelity:
//! * Strings are [`Str`]: up to 23 bytes inline, longer ones a UTF-8 view
//!   into shared [`bytes::Bytes`], so a decoder never allocates one `String`
//!   per field and short fields cost no reference count.
//! * Times are Unix **nanoseconds**: Jaeger's microseconds convert losslessly
//!   and OTLP's nanoseconds survive a round trip.
//!
//! ```
//! use clew_model::{Process, Span, SpanId, TraceId, KeyValue};
//! use std::sync::Arc;
//! let process = Arc::new(Process::new("frontend"));
//! let mut span = Span::new(TraceId::new(0, 1), SpanId(2), "GET /", process);
//! span.tags.push(KeyValue::bool("error", true));
//! assert_eq!(span.trace_id.to_string(), "0000000000000001");
//! ```

pub mod budget;
mod gofmt;
mod ids;
mod span;
mod text;
mod validate;
mod value;

pub use budget::{BudgetError, DecodeBudget, DecodeLimits, MemoryGrant};
pub use bytes::Bytes;
pub use gofmt::{GoFloat, write_base64, write_go_json_string};
pub use ids::{IdParseError, SpanId, TraceId};
pub use span::{Flags, Log, Process, RefType, Reference, Scope, Span, SpanBatch, SpanKind, Trace};
pub use text::{INLINE_MAX as INLINE_STR_MAX, share_or_copy};
pub use validate::{ValidationError, validate_span};
pub use value::{KeyValue, Str, Value, ValueType};

/// Well-known tag keys shared by codecs and query code (Jaeger/OpenTracing conventions).
pub mod keys {
    /// OpenTracing span kind tag (`client`, `server`, `producer`, `consumer`, `internal`).
    pub const SPAN_KIND: &str = "span.kind";
    /// Error flag tag (`error=true`).
    pub const ERROR: &str = "error";
    /// Client-side sampler type tag on root spans.
    pub const SAMPLER_TYPE: &str = "sampler.type";
    /// Client-side sampler parameter tag on root spans.
    pub const SAMPLER_PARAM: &str = "sampler.param";
    /// Log field naming the event of a log record.
    pub const EVENT: &str = "event";
    /// Peer service tag used when a client span calls an uninstrumented service.
    pub const PEER_SERVICE: &str = "peer.service";
}
