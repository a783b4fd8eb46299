//! Query parameters and answers shared by every backend.

/// One `key=value` condition. It matches a span when the span's tags, its
/// process's tags, or any of its log fields hold `key` with a value whose
/// text form ([`clew_model::Value::to_text`]) equals `value` (Jaeger's rule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagFilter {
    /// Tag key.
    pub key: String,
    /// Expected value, compared by text form.
    pub value: String,
}

/// A trace search. A trace matches when at least one of its spans satisfies
/// service, operation, every tag filter and both duration bounds, and starts
/// within `[start_min, start_max]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TraceQuery {
    /// Service name of the matching span (`None` = any).
    pub service: Option<String>,
    /// Operation name of the matching span (`None` = any).
    pub operation: Option<String>,
    /// All must match on the same span.
    pub tags: Vec<TagFilter>,
    /// Earliest span start, Unix nanoseconds, inclusive.
    pub start_min: u64,
    /// Latest span start, Unix nanoseconds, inclusive.
    pub start_max: u64,
    /// Minimum span duration, nanoseconds.
    pub duration_min: Option<u64>,
    /// Maximum span duration, nanoseconds.
    pub duration_max: Option<u64>,
    /// Maximum number of traces returned.
    pub limit: usize,
}

/// An operation name with the span kind it was seen with.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Operation {
    /// Operation name.
    pub name: String,
    /// `span.kind` tag value, or empty when the spans had none.
    pub span_kind: String,
}

/// Calls from one service to another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DependencyLink {
    /// Calling service.
    pub parent: String,
    /// Called service.
    pub child: String,
    /// Number of parent→child span edges.
    pub call_count: u64,
}

/// Store-wide counts for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Spans currently stored.
    pub spans: u64,
    /// Traces currently stored.
    pub traces: u64,
    /// Estimated bytes held.
    pub bytes: u64,
    /// Spans evicted since start to respect limits or retention.
    pub evicted_spans: u64,
}
