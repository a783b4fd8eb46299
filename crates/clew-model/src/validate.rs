//! Checks every ingest path applies before a span is accepted.

use crate::span::Span;

/// Why a span was rejected. Each variant is a separate counter on `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationError {
    /// Trace ID is all zeros.
    ZeroTraceId,
    /// Span ID is zero.
    ZeroSpanId,
}

impl ValidationError {
    /// Short label for metrics (`reason="…"`).
    pub fn reason(self) -> &'static str {
        match self {
            ValidationError::ZeroTraceId => "zero_trace_id",
            ValidationError::ZeroSpanId => "zero_span_id",
        }
    }
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValidationError::ZeroTraceId => f.write_str("trace ID is zero"),
            ValidationError::ZeroSpanId => f.write_str("span ID is zero"),
        }
    }
}

impl std::error::Error for ValidationError {}

/// Checks a span's identity. Only IDs are checked here, because a span
/// without them can never be found again; normalising service names and
/// times is the codecs' job, as they know each format's defaults.
pub fn validate_span(span: &Span) -> Result<(), ValidationError> {
    if span.trace_id.is_zero() {
        return Err(ValidationError::ZeroTraceId);
    }
    if span.span_id.is_zero() {
        return Err(ValidationError::ZeroSpanId);
    }
    Ok(())
}
