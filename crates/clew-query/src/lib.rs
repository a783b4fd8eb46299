//! Clew's read side: every API that returns stored traces, and the trace
//! adjusters they share.
//!
//! | entry point | port | serves |
//! |---|---|---|
//! | [`router`] | 16686 | Jaeger's HTTP query API (`/api/*`), API v3 HTTP (`/api/v3/*`, OTLP/JSON), the UI page |
//! | [`grpc_query_services`] | 16685 | gRPC `jaeger.api_v2.QueryService` and `jaeger.api_v3.QueryService` |
//! | [`zipkin_read_router`] | 9411 | Zipkin's read API (`GET /api/v2/...`), to merge with the Zipkin POST routes |
//!
//! The Jaeger APIs are faithful copies of Jaeger's (routes, parameters,
//! defaults, envelopes, error wording, the UI trace JSON), because the
//! Jaeger UI, Grafana and jaeger-query clients are their users. All of them
//! read through one helper that applies the adjusters unless the request
//! asks for raw traces; the Zipkin API returns spans as stored.
//!
//! ```no_run
//! # async fn run(reader: std::sync::Arc<dyn clew_store::TraceReader>) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use clew_query::{QueryMetrics, QueryState, grpc_query_services, router};
//! let mut registry = prometheus_client::registry::Registry::default();
//! let metrics = Arc::new(QueryMetrics::new(&mut registry));
//! let state = QueryState { reader, metrics, limits: clew_query::QueryLimits::default() };
//! let grpc = tonic::transport::Server::builder()
//!     .add_routes(grpc_query_services(state.clone()))
//!     .serve(([0, 0, 0, 0], clew_query::QUERY_GRPC_PORT).into());
//! tokio::spawn(grpc);
//! let listener = tokio::net::TcpListener::bind(("0.0.0.0", clew_query::QUERY_HTTP_PORT)).await?;
//! axum::serve(listener, router(state)).await?;
//! # Ok(())
//! # }
//! ```

mod adjust;
mod api;
mod api_v3;
mod blocking;
mod envelope;
mod fetch;
mod go_syntax;
pub mod grpc;
mod jaeger_json;
pub mod limits;
mod metrics;
mod params;
mod rfc3339;
mod ui;
mod zipkin;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use clew_store::TraceReader;

pub use adjust::{adjust, adjust_with_clock_skew};
pub use grpc::{QUERY_GRPC_PORT, grpc_query_services};
pub use limits::QueryLimits;
pub use metrics::{FALLBACK_ROUTE, QueryMetrics};
pub use ui::{PLACEHOLDER_PAGE, UI_EMBEDDED, with_base_path};
pub use zipkin::{ZIPKIN_PORT, zipkin_read_router};

/// Jaeger's query HTTP port (UI and `/api/*`).
pub const QUERY_HTTP_PORT: u16 = 16686;

/// What the handlers share.
#[derive(Clone)]
pub struct QueryState {
    /// The store answering queries.
    pub reader: Arc<dyn TraceReader>,
    /// Request metrics.
    pub metrics: Arc<QueryMetrics>,
    /// Bounds on one query (traces, time, bytes); see [`limits`].
    pub limits: QueryLimits,
}

/// The query HTTP service: every Jaeger `/api/*` route, the API v3
/// `/api/v3/*` routes, a 404 envelope for unknown API paths, and the
/// placeholder page for every other path.
pub fn router(state: QueryState) -> Router {
    let metrics = state.metrics.clone();
    Router::new()
        .route("/api/services", get(api::services::services))
        .route(
            "/api/services/{service}/operations",
            get(api::services::service_operations),
        )
        .route("/api/operations", get(api::services::operations))
        .route("/api/traces", get(api::traces::search))
        .route("/api/traces/{id}", get(api::traces::get_trace))
        .route("/api/ui/traces/{id}", get(api::ui_trace::get_ui_trace))
        .route("/api/dependencies", get(api::dependencies::dependencies))
        .route("/api/metrics/{kind}", get(api::metrics_stub::disabled))
        .route("/api/v3/traces", get(api_v3::find_traces))
        .route("/api/v3/traces/{trace_id}", get(api_v3::get_trace))
        .route("/api/v3/trace-summaries", get(api_v3::trace_summaries))
        .route("/api/v3/services", get(api_v3::services))
        .route("/api/v3/operations", get(api_v3::operations))
        .fallback(ui::fallback)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
}
