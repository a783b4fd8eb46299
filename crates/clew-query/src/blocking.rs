//! Building big answers off the async reactor.
//!
//! Adjusting and rendering a search answer is CPU work proportional to its
//! size (up to `query.max_response_bytes`). Done on the runtime's worker
//! threads, four such answers at once kept both workers of a 2-core machine
//! busy for seconds and health checks and `/api/services` waited behind them
//! (the abuse suite's `hostile-queries`: up to 3.6 s). [`respond`] moves
//! that work to the blocking pool, at most one answer per core at a time,
//! so the workers stay free for cheap requests and the OS shares the cores
//! between them.

use std::sync::LazyLock;

use axum::http::StatusCode;
use axum::response::Response;
use tokio::sync::Semaphore;

use crate::envelope::error_response;

/// Answers being built at once: one per core.
static BUILDERS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// Runs `build` on the blocking pool once a builder slot is free; a panic in
/// it (a bug) becomes a 500 for this request, not a dead worker.
pub(crate) async fn respond(build: impl FnOnce() -> Response + Send + 'static) -> Response {
    let Ok(_slot) = BUILDERS.acquire().await else {
        return error_response(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down");
    };
    match tokio::task::spawn_blocking(build).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "building a query answer failed");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "building the answer failed",
            )
        }
    }
}
