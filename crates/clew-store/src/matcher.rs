//! The per-span search predicate of [`TraceQuery`], shared by backends so
//! every store answers searches by the same rule.

use clew_model::{KeyValue, Span};

use crate::query::{TagFilter, TraceQuery};

/// True when `span` satisfies every condition of `query` (service,
/// operation, all tag filters, duration bounds and the start window).
pub fn span_matches(span: &Span, query: &TraceQuery) -> bool {
    if span.start_time < query.start_min || span.start_time > query.start_max {
        return false;
    }
    if let Some(min) = query.duration_min {
        if span.duration < min {
            return false;
        }
    }
    if let Some(max) = query.duration_max {
        if span.duration > max {
            return false;
        }
    }
    if let Some(service) = &query.service {
        if &*span.process.service_name != service.as_str() {
            return false;
        }
    }
    if let Some(op) = &query.operation {
        if &*span.operation_name != op.as_str() {
            return false;
        }
    }
    query.tags.iter().all(|f| tag_matches(span, f))
}

fn kv_matches(kvs: &[KeyValue], filter: &TagFilter) -> bool {
    kvs.iter()
        .any(|kv| &*kv.key == filter.key.as_str() && kv.value.to_text() == filter.value)
}

/// Jaeger's rule: span tags, then process tags, then any log's fields.
fn tag_matches(span: &Span, filter: &TagFilter) -> bool {
    kv_matches(&span.tags, filter)
        || kv_matches(&span.process.tags, filter)
        || span.logs.iter().any(|l| kv_matches(&l.fields, filter))
}
