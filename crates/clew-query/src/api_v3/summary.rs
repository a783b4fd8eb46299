//! `TraceSummary`: the one-line view of a trace the UI's search list needs
//! (root, time span, counts per service) without shipping every span.

use std::collections::{BTreeMap, HashSet};

use clew_model::{Span, Trace};
use serde_json::{Value, json};

/// A trace's summary as API v3 JSON: camelCase keys, the 128-bit trace ID
/// as 32 hex digits, fixed64 times as decimal strings, services by name.
pub fn summarize(trace: &Trace) -> Value {
    let ids: HashSet<_> = trace.spans.iter().map(|s| s.span_id).collect();
    let parent = |s: &Span| s.parent_span_id();
    // The root: the earliest span with no parent in this trace.
    let root = trace
        .spans
        .iter()
        .filter(|s| parent(s).is_none())
        .min_by_key(|s| s.start_time);
    let orphans = trace
        .spans
        .iter()
        .filter(|s| parent(s).is_some_and(|p| !ids.contains(&p)))
        .count();
    let mut services: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for s in &trace.spans {
        let entry = services.entry(&s.process.service_name).or_default();
        entry.0 += 1;
        entry.1 += usize::from(s.is_error());
    }
    let errors: usize = services.values().map(|(_, e)| e).sum();
    let max_end = trace.spans.iter().map(Span::end_time).max().unwrap_or(0);
    json!({
        "traceId": trace.trace_id().map(|t| t.to_hex32()).unwrap_or_default(),
        "rootServiceName": root.map(|s| s.process.service_name.to_string()).unwrap_or_default(),
        "rootOperationName": root.map(|s| s.operation_name.to_string()).unwrap_or_default(),
        "minStartTimeUnixNano": trace.start_time().to_string(),
        "maxEndTimeUnixNano": max_end.to_string(),
        "spanCount": trace.spans.len(),
        "errorSpanCount": errors,
        "orphanSpanCount": orphans,
        "services": services
            .into_iter()
            .map(|(name, (spans, errors))| {
                json!({"name": name, "spanCount": spans, "errorSpanCount": errors})
            })
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clew_model::{KeyValue, Process, Reference, SpanId, TraceId};

    use super::*;

    #[test]
    fn counts_roots_errors_orphans_and_services() {
        let t = TraceId::new(0, 0xab);
        let a = Arc::new(Process::new("a"));
        let b = Arc::new(Process::new("b"));
        let mut root = Span::new(t, SpanId(1), "root-op", a.clone());
        root.start_time = 100;
        root.duration = 50;
        let mut child = Span::new(t, SpanId(2), "child", b.clone());
        child.references.push(Reference::child_of(t, SpanId(1)));
        child.start_time = 110;
        child.duration = 100;
        child.tags.push(KeyValue::bool("error", true));
        let mut orphan = Span::new(t, SpanId(3), "lost", b);
        orphan.references.push(Reference::child_of(t, SpanId(99)));
        orphan.start_time = 120;
        let trace = Trace {
            spans: vec![child, orphan, root],
            warnings: vec![],
        };
        assert_eq!(
            summarize(&trace),
            json!({
                "traceId": "000000000000000000000000000000ab",
                "rootServiceName": "a",
                "rootOperationName": "root-op",
                "minStartTimeUnixNano": "100",
                "maxEndTimeUnixNano": "210",
                "spanCount": 3,
                "errorSpanCount": 1,
                "orphanSpanCount": 1,
                "services": [
                    {"name": "a", "spanCount": 1, "errorSpanCount": 0},
                    {"name": "b", "spanCount": 2, "errorSpanCount": 1},
                ],
            })
        );
    }
}
