//! Clew's tracing client: OpenTracing-style spans with Jaeger's samplers,
//! reporters and wire formats, built for a fast hot path.
//!
//! ```no_run
//! use clew_client::{Config, config::SamplerType, global};
//! use std::time::Duration;
//!
//! let (tracer, closer) = Config::new("hello-world")
//!     .sampler(SamplerType::Const, 1.0)
//!     .log_spans(true)
//!     .flush_interval(Duration::from_secs(1))
//!     .agent("127.0.0.1:5775")
//!     .build()?;
//! global::set_tracer(tracer.clone());
//! let hello = tracer.span("hello").start();
//! tracer.span("world").child_of(&hello).start().finish();
//! hello.finish();
//! closer.close(); // flushes
//! # Ok::<(), clew_client::config::ConfigError>(())
//! ```
//!
//! # Design
//! * A [`Span`] is two words: a pointer to its recycled record, or for an
//!   unsampled span to its (recycled) [`SpanContext`], which records
//!   nothing. Tags are `Cow<'static, str>`, so
//!   literal keys and values cost no allocation.
//! * Timestamps come from the CPU's time-stamp counter (`fastant`), not a
//!   system call.
//! * Finishing a span copies it into a batch owned by the calling thread
//!   and gives its record back to that thread; the batch moves to the
//!   reporter's bounded queue in one hand-off when the thread's local root
//!   span finishes (or the batch is full). A background thread encodes the
//!   batches straight to the wire format (no [`clew_model::Span`] on the
//!   way for the UDP sender) and sends them. Nothing on the caller's side
//!   blocks; overflow is dropped and counted.
//! * Propagation covers Jaeger, W3C Trace Context and Baggage, B3 (single
//!   and multi), AWS X-Ray, Google Cloud Trace and Jaeger's binary carrier.

#![deny(missing_docs)]

mod clock;
pub mod config;
mod context;
mod convert;
pub mod global;
mod http_client;
mod id;
pub mod process;
pub mod propagation;
mod registry;
pub mod reporter;
pub mod sampler;
pub mod sender;
mod span;
mod tag;
mod tracer;

pub use config::{Closer, Config};
pub use context::{Baggage, FLAG_DEBUG, FLAG_FIREHOSE, FLAG_SAMPLED, SpanContext};
pub use convert::to_model;
pub use id::TraceIdKind;
pub use registry::orphaned_spans;
pub use span::{
    ActiveScope, AsSpanContext, FinishedSpan, Span, SpanBuilder, SpanRef, Tags, active_context,
};
pub use tag::{LogRecord, Tag, TagValue};
pub use tracer::{Tracer, TracerBuilder};

pub use clew_model::{RefType, SpanId, TraceId};

/// The tag a `jaeger-debug-id` root span carries.
pub use span::DEBUG_ID_TAG;
