//! Pieces every ingest HTTP router shares: counting responses by status and
//! the JSON error body of the Jaeger and Zipkin push APIs.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::metrics::IngestMetrics;

/// Counts every response of `router` by status in
/// `clew_ingest_http_requests_total{api}`.
pub(crate) fn count_responses(
    router: Router,
    metrics: Arc<IngestMetrics>,
    api: &'static str,
) -> Router {
    router.layer(middleware::from_fn(move |req: Request, next: Next| {
        let metrics = metrics.clone();
        async move {
            let resp = next.run(req).await;
            metrics.record_http(api, resp.status().as_u16());
            resp
        }
    }))
}

/// `{"error": message}` with `status` (and `Retry-After` when it is 503).
pub(crate) fn json_error(status: StatusCode, message: String) -> Response {
    crate::http_body::retry_after(
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response(),
    )
}

/// The status for a batch the pipeline dropped: 413 when it can never fit,
/// 503 (retry later) otherwise.
pub(crate) fn drop_status(reason: crate::pipeline::DropReason) -> StatusCode {
    if reason.is_retryable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::PAYLOAD_TOO_LARGE
    }
}
