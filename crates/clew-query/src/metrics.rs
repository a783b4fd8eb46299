//! RED metrics of the query API: a request counter by route and status and
//! a latency histogram by route. `route` is the matched path template
//! (`/api/traces/{id}`), never the raw path, so trace IDs cannot blow up
//! label cardinality.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Route label used for requests no route matched (UI pages, unknown paths).
pub const FALLBACK_ROUTE: &str = "fallback";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteOnly {
    route: String,
}

type HistogramFamily = Family<RouteOnly, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~8 s: trace-by-ID is sub-millisecond in memory, big searches take seconds.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

/// The query API's metrics, registered on the process registry.
pub struct QueryMetrics {
    requests: Family<RouteStatus, Counter>,
    durations: HistogramFamily,
}

impl QueryMetrics {
    /// Registers `query_requests_total{route,status}` and
    /// `query_request_duration_seconds{route}`; the binary's registry adds
    /// the `clew_` prefix (`clew_query_requests_total`), so the names here
    /// must not carry it too.
    pub fn new(registry: &mut Registry) -> Self {
        let requests = Family::<RouteStatus, Counter>::default();
        let durations: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "query_requests",
            "Query API requests by route template and HTTP status",
            requests.clone(),
        );
        registry.register(
            "query_request_duration_seconds",
            "Query API request latency by route template",
            durations.clone(),
        );
        QueryMetrics {
            requests,
            durations,
        }
    }

    /// Records one finished request.
    pub fn record(&self, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RouteStatus {
                route: route.to_string(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteOnly {
                route: route.to_string(),
            })
            .observe(seconds);
    }
}

/// Middleware recording every request.
pub async fn track(State(metrics): State<Arc<QueryMetrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| FALLBACK_ROUTE.to_string(), |m| m.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    metrics.record(
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
