//! Server-side trace adjusters (reference §10), applied to every trace the
//! API returns unless the request says `raw=true`.
//!
//! Each adjuster is a module with one `pub fn adjust(&mut Trace)`, and the
//! order below is Jaeger's: the span-ID uniquifier must run before anything
//! that relies on unique IDs, and sorting must precede deduplication so two
//! copies of a span with differently ordered tags compare equal.
//!
//! Clock-skew correction is not implemented: Jaeger's default maximum
//! adjustment is 0 (disabled), which would only add a warning per span.

mod dedupe;
mod ip_tags;
mod references;
mod sort;
mod zipkin_ids;

use clew_model::Trace;

/// Applies every adjuster in Jaeger's order.
pub fn adjust(trace: &mut Trace) {
    zipkin_ids::adjust(trace);
    sort::adjust(trace);
    dedupe::adjust(trace);
    ip_tags::adjust(trace);
    references::drop_zero_trace_ids(trace);
    references::parent_first(trace);
}

#[cfg(test)]
pub(crate) mod fixtures {
    use std::sync::Arc;

    use clew_model::{KeyValue, Process, Span, SpanId, TraceId};

    /// Trace ID used by adjuster fixtures.
    pub const TID: TraceId = TraceId::new(0, 0x77);

    /// A span of [`TID`] in `service` with an optional `span.kind`.
    pub fn span(id: u64, service: &str, kind: Option<&str>) -> Span {
        let mut s = Span::new(TID, SpanId(id), "op", Arc::new(Process::new(service)));
        if let Some(k) = kind {
            s.tags.push(KeyValue::string("span.kind", k));
        }
        s
    }
}
