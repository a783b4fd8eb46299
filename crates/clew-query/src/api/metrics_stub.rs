//! `/api/metrics/*` (the UI's Monitor tab). Clew has no metrics store yet;
//! Jaeger answers 501 in that case and the UI then shows its
//! "not configured" state instead of an error.

use axum::http::StatusCode;
use axum::response::Response;

use crate::envelope::error_response;

/// Jaeger's message when no metrics backend is configured.
pub const METRICS_DISABLED: &str = "metrics querying is currently disabled";

/// Every `/api/metrics/{kind}` request: 501.
pub async fn disabled() -> Response {
    error_response(StatusCode::NOT_IMPLEMENTED, METRICS_DISABLED)
}
