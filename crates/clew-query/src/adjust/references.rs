//! Reference clean-ups: references with a zero trace ID point nowhere, and
//! the UI takes the first reference as the parent, so the real parent (the
//! first same-trace CHILD_OF, else the first same-trace reference) goes first.

use clew_model::{RefType, Trace};

/// Removes references whose trace ID is zero.
pub fn drop_zero_trace_ids(trace: &mut Trace) {
    for span in &mut trace.spans {
        span.references.retain(|r| !r.trace_id.is_zero());
    }
}

/// Moves the parent reference to position 0.
pub fn parent_first(trace: &mut Trace) {
    for span in &mut trace.spans {
        let tid = span.trace_id;
        let idx = span
            .references
            .iter()
            .position(|r| r.trace_id == tid && r.ref_type == RefType::ChildOf)
            .or_else(|| span.references.iter().position(|r| r.trace_id == tid));
        if let Some(i) = idx.filter(|&i| i > 0) {
            let parent = span.references.remove(i);
            span.references.insert(0, parent);
        }
    }
}

#[cfg(test)]
mod tests {
    use clew_model::{Reference, SpanId, Trace, TraceId};

    use super::*;
    use crate::adjust::fixtures::{TID, span};

    #[test]
    fn zero_trace_refs_dropped_and_parent_moved_first() {
        let other = TraceId::new(0, 9);
        let mut s = span(1, "svc", None);
        s.references = vec![
            Reference::child_of(TraceId::new(0, 0), SpanId(3)),
            Reference::child_of(other, SpanId(4)),
            Reference::follows_from(TID, SpanId(5)),
            Reference::child_of(TID, SpanId(6)),
        ];
        let mut f = span(2, "svc", None);
        f.references = vec![
            Reference::child_of(other, SpanId(4)),
            Reference::follows_from(TID, SpanId(5)),
        ];
        let mut trace = Trace {
            spans: vec![s, f],
            warnings: vec![],
        };
        drop_zero_trace_ids(&mut trace);
        parent_first(&mut trace);
        let ids = |i: usize| -> Vec<u64> {
            trace.spans[i]
                .references
                .iter()
                .map(|r| r.span_id.0)
                .collect()
        };
        assert_eq!(ids(0), vec![6, 4, 5]);
        assert_eq!(ids(1), vec![5, 4]);
    }
}
