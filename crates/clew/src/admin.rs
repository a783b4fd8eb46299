//! Admin HTTP (14269): Jaeger-style health at `/` and Prometheus `/metrics`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::SystemTime;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clew_store::TraceReader;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Store counts, refreshed from [`TraceReader::stats`] at each scrape so the
/// store itself needs no metrics dependency.
#[derive(Default)]
pub struct StoreGauges {
    spans: Gauge,
    traces: Gauge,
    bytes: Gauge,
    evicted: Counter,
    evicted_seen: AtomicU64,
}

impl StoreGauges {
    /// Registers the gauges as `store_*` (the registry adds the `clew_` prefix).
    pub fn register(registry: &mut Registry) -> Arc<Self> {
        let g = Arc::new(StoreGauges::default());
        registry.register("store_spans", "Spans currently stored", g.spans.clone());
        registry.register("store_traces", "Traces currently stored", g.traces.clone());
        registry.register(
            "store_bytes",
            "Estimated bytes held by the store",
            g.bytes.clone(),
        );
        registry.register(
            "store_evicted_spans",
            "Spans evicted to respect store limits",
            g.evicted.clone(),
        );
        g
    }

    fn refresh(&self, store: &dyn TraceReader) {
        let s = store.stats();
        self.spans.set(clamp(s.spans));
        self.traces.set(clamp(s.traces));
        self.bytes.set(clamp(s.bytes));
        let before = self.evicted_seen.swap(s.evicted_spans, Ordering::Relaxed);
        self.evicted.inc_by(s.evicted_spans.saturating_sub(before));
    }
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// What the admin handlers read.
#[derive(Clone)]
pub struct AdminState {
    /// All registered metrics.
    pub registry: Arc<Registry>,
    /// Store gauges to refresh before encoding.
    pub store_gauges: Arc<StoreGauges>,
    /// The store, for its stats.
    pub store: Arc<dyn TraceReader>,
    /// When the process started serving.
    pub up_since: SystemTime,
    /// False once shutdown begins (health turns 503).
    pub serving: Arc<AtomicBool>,
}

/// Routes for the admin port.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/", get(health))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn health(State(st): State<AdminState>) -> Response {
    let up = st.up_since.elapsed().unwrap_or_default();
    let serving = st.serving.load(Ordering::Relaxed);
    let body = serde_json::json!({
        "status": if serving { "Server available" } else { "Server not available" },
        "upSince": humantime::format_rfc3339_seconds(st.up_since).to_string(),
        "uptime": go_duration(up),
    });
    let status = if serving {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(st): State<AdminState>) -> Response {
    st.store_gauges.refresh(st.store.as_ref());
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &st.registry) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics: {e}"),
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// Go's `time.Duration.String()` shape (`1h2m3.5s`), as Jaeger reports uptime.
fn go_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let frac = d.subsec_millis();
    let sec = if frac > 0 {
        format!("{s}.{frac:03}").trim_end_matches('0').to_string() + "s"
    } else {
        format!("{s}s")
    };
    match (h, m) {
        (0, 0) => sec,
        (0, m) => format!("{m}m{sec}"),
        (h, m) => format!("{h}h{m}m{sec}"),
    }
}

#[cfg(test)]
mod tests {
    use super::go_duration;
    use std::time::Duration;

    #[test]
    fn uptime_reads_like_go() {
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(3723)), "1h2m3s");
        assert_eq!(go_duration(Duration::from_secs(61)), "1m1s");
    }
}
