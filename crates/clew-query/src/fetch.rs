//! The reads every API shares: fetch from the store, then adjust unless the
//! caller asked for raw traces. One place, so the Jaeger HTTP API, both gRPC
//! services and API v3 HTTP return the same spans for the same request.
//! Searches go through [`crate::limits::search`], which adds the query
//! limits (trace cap, time budget) to the same fetch-then-adjust.

use clew_model::{Trace, TraceId};
use clew_store::{StoreError, TraceReader};

use crate::adjust::adjust;

/// One trace by ID, adjusted unless `raw`. Adjusting is CPU work
/// proportional to the trace (a million spans is seconds), so it runs on
/// the blocking pool, as a search's adjusting does.
pub async fn trace(
    reader: &dyn TraceReader,
    id: TraceId,
    raw: bool,
) -> Result<Option<Trace>, StoreError> {
    match reader.get_trace(id).await? {
        Some(mut t) if !raw => tokio::task::spawn_blocking(move || {
            adjust(&mut t);
            Some(t)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("adjusting failed: {e}"))),
        trace => Ok(trace),
    }
}
