//! `clew-tracegen`: the load generator behind Clew's ingest benchmarks.
//!
//! It produces the load shape of Jaeger's `tracegen` (see [`shape`]), encodes
//! a pool of payloads (Jaeger thrift, OTLP protobuf or Zipkin JSON/proto3,
//! with Clew's own codecs) before the clock starts
//! ([`payload`]), and has worker threads send them through a [`transport`],
//! re-stamping trace IDs each round ([`patch`]) and timestamps with the
//! current time ([`timepatch`]), and pacing to `--rate`
//! ([`rate`]). The binary prints progress to stderr and a JSON [`Summary`]
//! on stdout.
//!
//! ```no_run
//! use clew_tracegen::{RunConfig, Stop, TraceShape, TransportKind, run};
//! let summary = run(&RunConfig {
//!     transport: TransportKind::HttpThrift,
//!     target: "127.0.0.1:14268".into(),
//!     workers: 2,
//!     stop: Stop::Traces(1000),
//!     shape: TraceShape::default(),
//!     batch_spans: 500,
//!     rate: 0,
//!     pool_spans: 10_000,
//!     progress: false,
//!     seed: 1,
//! })?;
//! assert_eq!(summary.spans_sent, 10_000);
//! # Ok::<(), clew_tracegen::RunError>(())
//! ```

pub mod cli;
pub mod patch;
pub mod payload;
pub mod rate;
pub mod run;
pub mod shape;
pub mod stats;
pub mod timepatch;
pub mod transport;

pub use run::{RunConfig, RunError, Stop, run};
pub use shape::TraceShape;
pub use stats::Summary;
pub use transport::TransportKind;
