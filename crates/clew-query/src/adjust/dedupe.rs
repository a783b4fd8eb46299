//! Drops exact duplicate spans (clients that retry a batch, or a span that
//! reached two collectors). Spans are compared field by field, but only
//! against earlier spans with the same ID, so this stays linear in practice.

use std::collections::HashMap;

use clew_model::{Span, SpanId, Trace};

/// Keeps the first of each group of identical spans.
pub fn adjust(trace: &mut Trace) {
    // Duplicates share their span ID: with every ID distinct (nearly every
    // trace) nothing is compared or moved.
    let mut ids: Vec<u64> = trace.spans.iter().map(|s| s.span_id.0).collect();
    ids.sort_unstable();
    if ids.windows(2).all(|w| w[0] != w[1]) {
        return;
    }
    let mut kept_by_id: HashMap<SpanId, Vec<usize>> = HashMap::new();
    let mut kept: Vec<Span> = Vec::with_capacity(trace.spans.len());
    for span in trace.spans.drain(..) {
        let same_id = kept_by_id.entry(span.span_id).or_default();
        if same_id.iter().any(|&i| kept[i] == span) {
            continue;
        }
        same_id.push(kept.len());
        kept.push(span);
    }
    trace.spans = kept;
}

#[cfg(test)]
mod tests {
    use clew_model::{SpanId, Trace};

    use super::*;
    use crate::adjust::fixtures::span;

    #[test]
    fn identical_spans_collapse_and_different_ones_stay() {
        let a = span(1, "svc", None);
        let b = span(1, "svc", Some("server")); // same ID, different content
        let mut trace = Trace {
            spans: vec![a.clone(), b.clone(), a.clone(), span(2, "svc", None), b],
            warnings: vec![],
        };
        adjust(&mut trace);
        let ids: Vec<SpanId> = trace.spans.iter().map(|s| s.span_id).collect();
        assert_eq!(ids, vec![SpanId(1), SpanId(1), SpanId(2)]);
        assert_eq!(trace.spans[0], a);
    }
}
