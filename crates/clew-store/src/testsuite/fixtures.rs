//! Fixture builders shared by the conformance checks and backend tests.

use std::sync::Arc;

use clew_model::{KeyValue, Process, Span, SpanId, TraceId};

use crate::query::{TagFilter, TraceQuery};
use crate::{TraceReader, TraceWriter};

/// A fixed "now" for fixtures: 2023-11-14T22:13:20Z in Unix nanoseconds.
pub const T0: u64 = 1_700_000_000_000_000_000;
/// One millisecond in nanoseconds.
pub const MS: u64 = 1_000_000;

/// A shared process for fixtures.
pub fn process(service: &str, tags: Vec<KeyValue>) -> Arc<Process> {
    Arc::new(Process {
        service_name: service.to_string().into(),
        tags,
    })
}

/// A fixture span of 64-bit trace `trace`, starting `start_ms` after [`T0`].
pub fn span(
    trace: u64,
    id: u64,
    op: &str,
    proc_: &Arc<Process>,
    start_ms: u64,
    dur_ms: u64,
) -> Span {
    let mut s = Span::new(
        TraceId::new(0, trace),
        SpanId(id),
        op.to_string(),
        proc_.clone(),
    );
    s.start_time = T0 + start_ms * MS;
    s.duration = dur_ms * MS;
    s
}

/// A query over the whole fixture time range.
pub fn query_all() -> TraceQuery {
    TraceQuery {
        start_min: T0 - 3_600_000 * MS,
        start_max: T0 + 3_600_000 * MS,
        limit: 100,
        ..TraceQuery::default()
    }
}

pub(super) fn tag(key: &str, value: &str) -> TagFilter {
    TagFilter {
        key: key.into(),
        value: value.into(),
    }
}

pub(super) async fn write<S: TraceWriter>(store: &S, spans: Vec<Span>) {
    if let Err(e) = store.write_spans(spans).await {
        panic!("write_spans failed: {e}");
    }
}

/// Low halves of the trace IDs a query finds, in returned order.
pub(super) async fn found<S: TraceReader>(store: &S, q: &TraceQuery) -> Vec<u64> {
    match store.find_traces(q).await {
        Ok(traces) => traces
            .iter()
            .map(|t| t.trace_id().map_or(0, |id| id.low))
            .collect(),
        Err(e) => panic!("find_traces failed: {e}"),
    }
}

pub(super) async fn span_ids<S: TraceReader>(store: &S, id: TraceId) -> Option<Vec<u64>> {
    match store.get_trace(id).await {
        Ok(t) => t.map(|t| t.spans.iter().map(|s| s.span_id.0).collect()),
        Err(e) => panic!("get_trace failed: {e}"),
    }
}
