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
    if query.duration_min.is_some_and(|min| span.duration < min)
        || query.duration_max.is_some_and(|max| span.duration > max)
    {
        return false;
    }
    if query
        .service
        .as_deref()
        .is_some_and(|s| &*span.process.service_name != s)
    {
        return false;
    }
    if query
        .operation
        .as_deref()
        .is_some_and(|op| &*span.operation_name != op)
    {
        return false;
    }
    query.tags.iter().all(|f| tag_matches(span, f))
}

fn kv_matches(kvs: &[KeyValue], filter: &TagFilter) -> bool {
    kvs.iter()
        .any(|kv| &*kv.key == filter.key.as_str() && kv.value.to_text() == filter.value)
}

/// Jaeger v2's rule: a filter matches span tags, the scope's attributes,
/// process (resource) tags, any log (event) field, or any reference's (link's)
/// attributes, compared by text form ([`clew_model::Value::to_text`]).
fn tag_matches(span: &Span, filter: &TagFilter) -> bool {
    kv_matches(&span.tags, filter)
        || span
            .scope
            .as_deref()
            .is_some_and(|s| kv_matches(&s.attributes, filter))
        || kv_matches(&span.process.tags, filter)
        || span.logs.iter().any(|l| kv_matches(&l.fields, filter))
        || span.references.iter().any(|r| kv_matches(&r.tags, filter))
}
