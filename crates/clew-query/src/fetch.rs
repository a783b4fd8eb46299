//! The reads every API shares: fetch from the store, then adjust unless the
//! caller asked for raw traces. One place, so the Jaeger HTTP API, both gRPC
//! services and API v3 HTTP return the same spans for the same request.
//! Searches go through [`crate::limits::search`], which adds the query
//! limits (trace cap, time budget) to the same fetch-then-adjust.

use clew_model::{Trace, TraceId};
use clew_store::{StoreError, TraceReader};

use crate::adjust::adjust;

/// One trace by ID, adjusted unless `raw`.
pub async fn trace(
    reader: &dyn TraceReader,
    id: TraceId,
    raw: bool,
) -> Result<Option<Trace>, StoreError> {
    let mut trace = reader.get_trace(id).await?;
    if let Some(t) = trace.as_mut().filter(|_| !raw) {
        adjust(t);
    }
    Ok(trace)
}
