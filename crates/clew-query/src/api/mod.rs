//! Handlers of the Jaeger `/api/*` routes, one module per endpoint family.

pub mod dependencies;
pub mod metrics_stub;
pub mod services;
pub mod traces;
pub mod ui_trace;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::response::Response;
use clew_store::StoreError;

use crate::envelope::error_response;

/// The current time, Unix nanoseconds (the default end of time windows).
pub(crate) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A storage failure as Jaeger reports it: 500 with the error text.
pub(crate) fn store_error(e: &StoreError) -> Response {
    tracing::error!(error = %e, "query failed in storage");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}
