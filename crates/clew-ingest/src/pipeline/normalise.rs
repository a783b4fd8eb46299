//! Checks and fix-ups applied to every span before it is queued, whatever
//! protocol it came in by.

use std::sync::Arc;

use clew_model::{Process, Span, validate_span};

use crate::metrics::IngestMetrics;
use crate::source::Source;

/// Service name given to spans whose process has none, as OTel SDKs name it.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// Warning attached to spans whose service name was replaced.
pub const EMPTY_SERVICE_WARNING: &str = "service name was empty; replaced with unknown_service";

/// Drops spans that fail [`validate_span`] (counting each by reason) and
/// gives spans without a service name [`UNKNOWN_SERVICE`]. Returns how many
/// spans were rejected.
pub(crate) fn validate_and_normalise(
    spans: &mut Vec<Span>,
    source: Source,
    metrics: &IngestMetrics,
) -> usize {
    let before = spans.len();
    spans.retain(|span| match validate_span(span) {
        Ok(()) => true,
        Err(e) => {
            metrics.record_rejected(source, e.reason());
            false
        }
    });
    // Spans of one batch share one process, so remember the last replacement
    // instead of allocating a new process per span.
    let mut last: Option<(Arc<Process>, Arc<Process>)> = None;
    for span in spans.iter_mut() {
        if !span.process.service_name.is_empty() {
            continue;
        }
        let fixed = match &last {
            Some((orig, fixed)) if Arc::ptr_eq(orig, &span.process) => fixed.clone(),
            _ => {
                let mut p = (*span.process).clone();
                p.service_name = UNKNOWN_SERVICE.into();
                let fixed = Arc::new(p);
                last = Some((span.process.clone(), fixed.clone()));
                fixed
            }
        };
        span.process = fixed;
        span.warnings.push(EMPTY_SERVICE_WARNING.to_string());
    }
    before - spans.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Format, Transport};
    use clew_model::{SpanId, TraceId};

    const SRC: Source = Source::new(Transport::Http, Format::JaegerThriftBinary);

    #[test]
    fn rejects_invalid_and_renames_empty_service() {
        let metrics = IngestMetrics::unregistered();
        let empty = Arc::new(Process::new(""));
        let named = Arc::new(Process::new("svc"));
        let mut spans = vec![
            Span::new(TraceId::new(0, 1), SpanId(1), "a", empty.clone()),
            Span::new(TraceId::new(0, 0), SpanId(2), "zero trace", named.clone()),
            Span::new(TraceId::new(0, 1), SpanId(0), "zero span", named.clone()),
            Span::new(TraceId::new(0, 1), SpanId(3), "b", empty),
            Span::new(TraceId::new(0, 1), SpanId(4), "c", named),
        ];
        assert_eq!(validate_and_normalise(&mut spans, SRC, &metrics), 2);
        let ops: Vec<&str> = spans.iter().map(|s| &*s.operation_name).collect();
        assert_eq!(ops, ["a", "b", "c"]);
        assert_eq!(&*spans[0].process.service_name, UNKNOWN_SERVICE);
        assert!(Arc::ptr_eq(&spans[0].process, &spans[1].process));
        assert_eq!(spans[0].warnings, [EMPTY_SERVICE_WARNING]);
        assert_eq!(&*spans[2].process.service_name, "svc");
        assert!(spans[2].warnings.is_empty());
        assert_eq!(metrics.spans_rejected(SRC, "zero_trace_id"), 1);
        assert_eq!(metrics.spans_rejected(SRC, "zero_span_id"), 1);
    }
}
