//! A trace's summary as API v3 JSON: the one-line view of a trace the UI's
//! search list needs (root, time span, counts per service) without
//! shipping every span. The store computes the summary
//! ([`clew_store::TraceSummary`], whose doc defines root and orphans);
//! this only writes it.

use clew_store::TraceSummary;
use serde_json::{Value, json};

/// `summary` as API v3 JSON: camelCase keys, the 128-bit trace ID as 32
/// hex digits, fixed64 times as decimal strings, services by name.
pub fn to_json(summary: &TraceSummary) -> Value {
    json!({
        "traceId": summary.trace_id.to_hex32(),
        "rootServiceName": summary.root_service,
        "rootOperationName": summary.root_operation,
        "minStartTimeUnixNano": summary.start.to_string(),
        "maxEndTimeUnixNano": summary.end().to_string(),
        "spanCount": summary.span_count,
        "errorSpanCount": summary.error_count,
        "orphanSpanCount": summary.orphan_count,
        "services": summary
            .services
            .iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "spanCount": s.span_count,
                    "errorSpanCount": s.error_count,
                })
            })
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clew_model::{KeyValue, Process, Reference, Span, SpanId, TraceId};

    use super::*;

    /// The counting rules are `TraceSummary::of`'s (tested in clew-store);
    /// this is the JSON a trace with a root, an error and an orphan gets.
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
        let summary = TraceSummary::of(&[child, orphan, root]).expect("spans");
        assert_eq!(
            to_json(&summary),
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

    #[test]
    fn a_trace_without_a_root_has_empty_root_names() {
        let t = TraceId::new(0, 1);
        let mut lost = Span::new(t, SpanId(2), "lost", Arc::new(Process::new("a")));
        lost.references.push(Reference::child_of(t, SpanId(1)));
        let v = to_json(&TraceSummary::of(&[lost]).expect("spans"));
        assert_eq!(
            (&v["rootServiceName"], &v["rootOperationName"]),
            (&json!(""), &json!(""))
        );
        assert_eq!(v["orphanSpanCount"], 1);
    }
}
