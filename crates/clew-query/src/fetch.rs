//! The reads every API shares: fetch from the store, then adjust unless the
//! caller asked for raw traces. One place, so the Jaeger HTTP API, both gRPC
//! services and API v3 HTTP return the same spans for the same request.

use clew_model::{Trace, TraceId};
use clew_store::{StoreError, TraceQuery, TraceReader};

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

/// A search, every trace adjusted unless `raw`.
pub async fn search(
    reader: &dyn TraceReader,
    query: &TraceQuery,
    raw: bool,
) -> Result<Vec<Trace>, StoreError> {
    let mut traces = reader.find_traces(query).await?;
    if !raw {
        traces.iter_mut().for_each(adjust);
    }
    Ok(traces)
}
