//! Query parameters and answers shared by every backend.

/// One `key=value` condition. It matches a span when the span's tags, its
/// instrumentation scope's attributes, its process's tags, any of its log
/// fields or any of its references' (OTLP links') attributes hold `key` with a
/// value whose text form ([`clew_model::Value::to_text`]) equals `value`
/// (Jaeger v2's rule: a float `42.0` is found by `42`).
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
    /// Stop reading whole traces once their estimated size
    /// ([`clew_model::Span::estimated_size`]) reaches this many bytes: the
    /// trace that reaches it is the last returned, the first is always
    /// returned. `None` = no byte bound. The query APIs set it from their
    /// response cap, so a search over huge traces never builds more than
    /// it may send. Part of the conformance suite: every backend honours it.
    pub max_bytes: Option<usize>,
    /// When to stop looking: a backend that searches incrementally returns
    /// the best matches found by then from
    /// [`crate::TraceReader::search_traces`], marked incomplete, instead of
    /// running into the caller's time budget with nothing to show. `None` =
    /// search everything.
    pub deadline: Option<std::time::Instant>,
}

/// What [`crate::TraceReader::search_traces`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Searched {
    /// As [`crate::TraceReader::find_traces`] returns them.
    pub traces: Vec<clew_model::Trace>,
    /// `false` when the search stopped at [`TraceQuery::deadline`] before
    /// looking everywhere: better or more matches may exist.
    pub complete: bool,
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

impl DependencyLink {
    /// The links of a `(parent, child) → calls` count, sorted.
    pub fn sorted_from(counts: std::collections::HashMap<(String, String), u64>) -> Vec<Self> {
        let mut out: Vec<DependencyLink> = counts
            .into_iter()
            .map(|((parent, child), call_count)| DependencyLink {
                parent,
                child,
                call_count,
            })
            .collect();
        out.sort();
        out
    }
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

/// What a search result list shows for one trace, computed without the
/// caller needing the spans (API v3 `trace-summaries`, the web UI).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceSummary {
    /// The trace.
    pub trace_id: clew_model::TraceId,
    /// Service of the root span (the earliest span without a parent in the
    /// trace; the earliest span when every span has one).
    pub root_service: String,
    /// Operation of the root span.
    pub root_operation: String,
    /// Earliest span start, Unix nanoseconds.
    pub start: u64,
    /// From the earliest start to the latest end, nanoseconds.
    pub duration: u64,
    /// Spans stored for the trace.
    pub span_count: u64,
    /// Spans with `error=true`.
    pub error_count: u64,
    /// Distinct services, sorted.
    pub services: Vec<String>,
}

impl TraceSummary {
    /// The summary of a trace's spans (`None` for no spans).
    pub fn of(spans: &[clew_model::Span]) -> Option<Self> {
        let first = spans.first()?;
        let ids: std::collections::HashSet<clew_model::SpanId> =
            spans.iter().map(|s| s.span_id).collect();
        let root = spans
            .iter()
            .filter(|s| s.parent_span_id().is_none_or(|p| !ids.contains(&p)))
            .min_by_key(|s| s.start_time)
            .or_else(|| spans.iter().min_by_key(|s| s.start_time))
            .unwrap_or(first);
        let start = spans.iter().map(|s| s.start_time).min().unwrap_or(0);
        let end = spans.iter().map(|s| s.end_time()).max().unwrap_or(0);
        let mut services: Vec<String> = spans
            .iter()
            .map(|s| s.process.service_name.to_string())
            .collect();
        services.sort();
        services.dedup();
        Some(TraceSummary {
            trace_id: first.trace_id,
            root_service: root.process.service_name.to_string(),
            root_operation: root.operation_name.to_string(),
            start,
            duration: end.saturating_sub(start),
            span_count: spans.len() as u64,
            error_count: spans.iter().filter(|s| s.is_error()).count() as u64,
            services,
        })
    }
}

/// Counts a persistent backend reports on `/metrics` beside [`StoreStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersistenceStats {
    /// Immutable blocks currently listed.
    pub blocks: u64,
    /// Bytes of those blocks.
    pub block_bytes: u64,
    /// Bytes in write-ahead-log segments.
    pub wal_bytes: u64,
    /// Spans in the in-memory head (not yet in a block).
    pub head_spans: u64,
    /// Blocks written by cutting the head, since start.
    pub blocks_cut: u64,
    /// Compactions finished since start.
    pub compactions: u64,
    /// Blocks deleted by retention since start.
    pub retention_deleted_blocks: u64,
    /// Block reads that failed a checksum or could not be decoded (the
    /// block was skipped and the rest served), since start.
    pub corrupt_block_reads: u64,
    /// Torn or corrupt WAL tails truncated during replay, since start.
    pub wal_truncations: u64,
    /// Writes refused because the WAL could not be written (disk full…).
    pub wal_write_errors: u64,
}
