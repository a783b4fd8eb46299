//! Server-side trace adjusters (reference §10), applied to every trace the
//! API returns unless the request says `raw=true`.
//!
//! Each adjuster is a module with one `pub fn adjust(&mut Trace)`, and the
//! order below is Jaeger's: the span-ID uniquifier must run before anything
//! that relies on unique IDs, and sorting must precede deduplication so two
//! copies of a span with differently ordered tags compare equal.
//!
//! Clock-skew correction runs only through [`adjust_with_clock_skew`] with a
//! non-zero maximum; Jaeger's default maximum is 0 (disabled).

mod clock_skew;
mod dedupe;
mod ip_tags;
mod references;
mod sort;
mod zipkin_ids;

use clew_model::Trace;

/// Applies every adjuster in Jaeger's order, clock skew disabled.
pub fn adjust(trace: &mut Trace) {
    adjust_with_clock_skew(trace, 0);
}

/// Applies every adjuster, correcting clock skew by at most
/// `max_clock_skew` nanoseconds (0 = no correction).
pub fn adjust_with_clock_skew(trace: &mut Trace, max_clock_skew: u64) {
    zipkin_ids::adjust(trace);
    sort::adjust(trace);
    dedupe::adjust(trace);
    clock_skew::adjust(trace, max_clock_skew);
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
