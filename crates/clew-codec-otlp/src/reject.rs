//! Spans refused for bad identity, counted per reason for partial success.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;

/// Why one span was refused. Each reason is its own counter on `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// `trace_id` is not 16 bytes.
    TraceIdLength,
    /// `span_id` is not 8 bytes.
    SpanIdLength,
    /// `parent_span_id` is neither empty nor 8 bytes.
    ParentSpanIdLength,
    /// A link's trace ID is not 16 bytes or its span ID not 8.
    LinkIdLength,
    /// `trace_id` is all zeros (invalid per the OTLP spec).
    ZeroTraceId,
    /// `span_id` is all zeros.
    ZeroSpanId,
}

impl RejectReason {
    /// Every reason, in counter order.
    pub const ALL: [RejectReason; 6] = [
        RejectReason::TraceIdLength,
        RejectReason::SpanIdLength,
        RejectReason::ParentSpanIdLength,
        RejectReason::LinkIdLength,
        RejectReason::ZeroTraceId,
        RejectReason::ZeroSpanId,
    ];

    /// Short label for metrics (`reason="…"`).
    pub fn label(self) -> &'static str {
        match self {
            RejectReason::TraceIdLength => "invalid_trace_id_length",
            RejectReason::SpanIdLength => "invalid_span_id_length",
            RejectReason::ParentSpanIdLength => "invalid_parent_span_id_length",
            RejectReason::LinkIdLength => "invalid_link_id_length",
            RejectReason::ZeroTraceId => "zero_trace_id",
            RejectReason::ZeroSpanId => "zero_span_id",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Counts of refused spans per reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rejections {
    counts: [u64; RejectReason::ALL.len()],
}

impl Rejections {
    /// Counts one refused span.
    pub fn add(&mut self, reason: RejectReason) {
        self.counts[reason.index()] += 1;
    }

    /// Refused spans for one reason.
    pub fn count(&self, reason: RejectReason) -> u64 {
        self.counts[reason.index()]
    }

    /// All refused spans.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Non-zero counts, for metrics.
    pub fn iter(&self) -> impl Iterator<Item = (RejectReason, u64)> + '_ {
        RejectReason::ALL
            .into_iter()
            .map(|r| (r, self.count(r)))
            .filter(|(_, n)| *n > 0)
    }

    /// A human-readable summary, e.g. `rejected 2 spans: invalid_span_id_length=2`.
    pub fn message(&self) -> String {
        let parts: Vec<String> = self
            .iter()
            .map(|(r, n)| format!("{}={n}", r.label()))
            .collect();
        format!("rejected {} spans: {}", self.total(), parts.join(", "))
    }

    /// The `partial_success` of an export response: `None` when nothing was refused.
    pub fn partial_success(&self) -> Option<ExportTracePartialSuccess> {
        (self.total() > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(self.total()).unwrap_or(i64::MAX),
            error_message: self.message(),
        })
    }
}

/// The result of decoding an export request: the accepted spans and what was refused.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decoded {
    /// Spans that passed the checks, in request order.
    pub spans: Vec<clew_model::Span>,
    /// Refused spans per reason.
    pub rejected: Rejections,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_success_summarises_counts() {
        let mut r = Rejections::default();
        assert!(r.partial_success().is_none());
        r.add(RejectReason::SpanIdLength);
        r.add(RejectReason::SpanIdLength);
        r.add(RejectReason::ZeroTraceId);
        let p = r.partial_success().expect("some rejected");
        assert_eq!(p.rejected_spans, 3);
        assert_eq!(
            p.error_message,
            "rejected 3 spans: invalid_span_id_length=2, zero_trace_id=1"
        );
    }
}
