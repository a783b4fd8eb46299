//! Clew's write path: the listeners clients send spans to, the bounded queue
//! behind them, and the sampling endpoints clients poll.
//!
//! # The path of a span
//!
//! ```text
//!  UDP 6831/6832/5775 ─ reader thread ─ bounded channel ─ decoder thread ─┐
//!  (agent::spawn_agent_udp)   recv → Bytes::copy      (datagrams)   decode│
//!  HTTP 14268 POST /api/traces (collector_http_router) ─ thrift ──────────┤
//!  gRPC 14250 PostSpans (jaeger_grpc_services) ─ api_v2 protobuf ─────────┤
//!  gRPC 4317 Export (otlp_grpc_service) ─ raw bytes → zero-copy decode ───┼─ Pipeline::submit
//!  HTTP 4318 POST /v1/traces (otlp_http_router) ─ protobuf / JSON ────────┤    validate, normalise,
//!  HTTP 9411 POST /api/v{1,2}/spans (zipkin_ingest_router) ───────────────┘    reserve queue room
//!                                                                                   │ (drop + count if full)
//!                                                         writer task ◀── queue ────┘
//!                                                         batches of writer_batch_spans
//!                                                         → TraceWriter::write_spans → store
//! ```
//!
//! 1. A datagram (or request body) is copied once into a [`bytes::Bytes`];
//!    the codec (`clew-codec-jaeger`) decodes it into [`clew_model::Span`]s
//!    whose strings are slices of that buffer, so decoding allocates little.
//! 2. [`Pipeline::submit`] drops spans that fail [`clew_model::validate_span`]
//!    (counted per reason), names empty services `unknown_service` (with a
//!    span warning), and reserves room in a queue whose capacity is counted in
//!    spans. It never blocks: a batch that does not fit is dropped whole and
//!    counted in `clew_spans_dropped_total{transport,format}`.
//! 3. One writer task gathers what is queued into writes of at most
//!    `writer_batch_spans` and calls [`clew_store::TraceWriter::write_spans`].
//!    Failed writes are counted and logged (rate-limited), never fatal.
//! 4. At shutdown the binary stops the listeners, then calls
//!    [`PipelineTask::drain_and_stop`], which writes everything still queued.
//!
//! Sampling ([`sampling`]) is separate: a table computed from Jaeger's
//! strategies file, served on 5778, on the collector's `/api/sampling` and
//! over gRPC by `SamplingManager` on 14250.
//!
//! Push protocols that carry many spans per request (OTLP, Jaeger gRPC,
//! Zipkin) refuse a span with a malformed ID alone, count it in
//! `clew_spans_rejected_total{transport,format,reason}` and keep the rest;
//! OTLP reports refusals as `partial_success`. Bodies that do not decode
//! get 400 / `INVALID_ARGUMENT`, oversized ones 413 / `RESOURCE_EXHAUSTED`
//! (after decompression too), a full queue 503 / `UNAVAILABLE`. Serve the
//! gRPC ports with [`grpc_server_builder`] and [`grpc_incoming`].
//!
//! ```no_run
//! # async fn wire(store: std::sync::Arc<dyn clew_store::TraceWriter>) -> Result<(), clew_ingest::IngestError> {
//! use std::sync::Arc;
//! use clew_ingest::*;
//! let mut registry = prometheus_client::registry::Registry::with_prefix("clew");
//! let metrics = Arc::new(IngestMetrics::new(&mut registry));
//! let (pipeline, task) = Pipeline::start(&IngestConfig::default(), store, metrics.clone());
//! let sampling = Arc::new(SamplingStrategies::default_all_in_one());
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let socket = std::net::UdpSocket::bind("127.0.0.1:6831").expect("bind");
//! let agent = spawn_agent_udp(socket, AgentPort::Compact6831, pipeline.clone(), metrics.clone(), shutdown.clone())?;
//! let collector = collector_http_router(pipeline.clone(), metrics.clone(), sampling.clone());
//! let sampling_http = sampling_router(sampling.clone());
//! let otlp_http = otlp_http_router(pipeline.clone(), metrics.clone());
//! let zipkin = zipkin_ingest_router(pipeline.clone(), metrics.clone());
//! let (jaeger_collector, jaeger_sampling) =
//!     jaeger_grpc_services(pipeline.clone(), metrics.clone(), sampling);
//! let grpc_4317 = tonic::service::Routes::new(otlp_grpc_service(pipeline.clone(), metrics));
//! let grpc_14250 = tonic::service::Routes::new(jaeger_collector).add_service(jaeger_sampling);
//! // … serve the routers (gRPC ones with grpc_server_builder()); on shutdown:
//! shutdown.cancel();
//! let _ = agent.join();
//! task.drain_and_stop().await;
//! # let _ = (collector, sampling_http, otlp_http, zipkin, grpc_4317, grpc_14250); Ok(()) }
//! ```

pub mod agent;
pub mod budget;
mod collector_http;
mod config;
mod error;
mod grpc_edge;
mod grpc_raw;
mod grpc_reserve;
mod grpc_server;
mod http_body;
mod http_common;
pub mod jaeger_grpc;
mod log_limit;
mod metrics;
mod otlp;
mod pipeline;
pub mod sampling;
mod source;
mod verdict;
mod zipkin_http;

pub use agent::{AgentPort, spawn_agent_udp};
pub use collector_http::{COLLECTOR_HTTP_PORT, TRACES_PATH, collector_http_router};
pub use config::{FieldLimits, IngestConfig};
pub use error::IngestError;
pub use grpc_edge::GrpcEdge;
pub use grpc_server::{
    GRPC_CONNECTION_WINDOW_BYTES, GRPC_STREAM_WINDOW_BYTES, grpc_incoming, grpc_server_builder,
};
pub use jaeger_grpc::{
    JAEGER_GRPC_PORT, JaegerCollectorServer, JaegerSamplingServer, jaeger_grpc_services,
};
pub use metrics::IngestMetrics;
pub use otlp::{
    OTLP_GRPC_PORT, OTLP_HTTP_PORT, OTLP_TRACES_PATH, OtlpGrpcService, OtlpTraceService,
    TRACE_SERVICE_NAME, otlp_grpc_service, otlp_http_router,
};
pub use pipeline::{
    DropReason, EMPTY_SERVICE_WARNING, Pipeline, PipelineTask, Submit, TRUNCATED_WARNING,
    UNKNOWN_SERVICE, WriteAck,
};
pub use sampling::{SamplingStrategies, sampling_router};
pub use source::{Format, Source, Transport};
pub use zipkin_http::{
    ZIPKIN_PORT, ZIPKIN_V1_SPANS_PATH, ZIPKIN_V2_SPANS_PATH, zipkin_ingest_router,
};
