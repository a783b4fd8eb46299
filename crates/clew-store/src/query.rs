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
///
/// Every span of a trace is one of three kinds, by its parent (what
/// [`clew_model::Span::parent_span_id`] reads: a reference to a span of its
/// own trace):
///
/// * a *root candidate* has no parent;
/// * a *child*'s parent is among the trace's stored spans;
/// * an *orphan*'s parent is not (lost, still in flight, or dropped by
///   sampling upstream).
///
/// The **root** is the earliest root candidate (the first stored among equal
/// starts). A trace with none has no root: the root names are empty, and
/// the UI shows `<missing root>` beside its orphan count. An orphan is not
/// promoted to root: that would name the trace after whichever fragment
/// arrived first and hide that its root is missing. This is the rule API v3
/// summaries and the UI's own summaries have always used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceSummary {
    /// The trace.
    pub trace_id: clew_model::TraceId,
    /// Service of the root span; empty when the trace has no root.
    pub root_service: String,
    /// Operation of the root span; empty when the trace has no root.
    pub root_operation: String,
    /// Earliest span start, Unix nanoseconds.
    pub start: u64,
    /// From the earliest start to the latest end, nanoseconds.
    pub duration: u64,
    /// Spans stored for the trace (identical copies of a span, as a
    /// retried batch leaves, each count).
    pub span_count: u64,
    /// Spans whose first `error` tag is `true` or `"true"`
    /// ([`clew_model::Span::is_error`]).
    pub error_count: u64,
    /// Spans whose parent is not among the trace's stored spans.
    pub orphan_count: u64,
    /// Span and error counts per service, sorted by name.
    pub services: Vec<ServiceSummary>,
}

/// One service's share of a [`TraceSummary`]. Processes that differ only
/// in their tags (two hosts of one service) are one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSummary {
    /// Service name.
    pub name: String,
    /// Spans of the service.
    pub span_count: u64,
    /// Those of them that are errors.
    pub error_count: u64,
}

impl TraceSummary {
    /// The summary of a trace's spans (`None` for no spans).
    pub fn of(spans: &[clew_model::Span]) -> Option<Self> {
        Self::from_spans(spans)
    }

    /// [`TraceSummary::of`] over borrowed spans (a store's `Arc`s), so a
    /// summary needs no copy of the trace.
    pub fn from_spans<'a, I>(spans: I) -> Option<Self>
    where
        I: IntoIterator<Item = &'a clew_model::Span>,
        I::IntoIter: Clone,
    {
        let spans = spans.into_iter();
        let first = spans.clone().next()?;
        let ids: std::collections::HashSet<clew_model::SpanId> =
            spans.clone().map(|s| s.span_id).collect();
        let mut root: Option<&clew_model::Span> = None;
        let (mut start, mut end) = (u64::MAX, 0u64);
        let (mut span_count, mut error_count, mut orphan_count) = (0u64, 0u64, 0u64);
        let mut services: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
        for s in spans {
            let error = u64::from(s.is_error());
            span_count += 1;
            error_count += error;
            start = start.min(s.start_time);
            end = end.max(s.end_time());
            let service = services.entry(&*s.process.service_name).or_default();
            service.0 += 1;
            service.1 += error;
            match s.parent_span_id() {
                None if root.is_none_or(|r| s.start_time < r.start_time) => root = Some(s),
                Some(p) if !ids.contains(&p) => orphan_count += 1,
                _ => {}
            }
        }
        Some(TraceSummary {
            trace_id: first.trace_id,
            root_service: root
                .map(|r| r.process.service_name.to_string())
                .unwrap_or_default(),
            root_operation: root
                .map(|r| r.operation_name.to_string())
                .unwrap_or_default(),
            start,
            duration: end.saturating_sub(start),
            span_count,
            error_count,
            orphan_count,
            services: services
                .into_iter()
                .map(|(name, (span_count, error_count))| ServiceSummary {
                    name: name.to_string(),
                    span_count,
                    error_count,
                })
                .collect(),
        })
    }

    /// Latest span end, Unix nanoseconds.
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.duration)
    }
}

/// What [`crate::TraceReader::search_trace_summaries`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchedSummaries {
    /// As [`crate::TraceReader::find_trace_summaries`] returns them.
    pub summaries: Vec<TraceSummary>,
    /// `false` when the search stopped at [`TraceQuery::deadline`] before
    /// looking everywhere (or before summarising every match): better or
    /// more matches may exist.
    pub complete: bool,
    /// `true` when the backend built whole traces to summarise them and
    /// stopped at [`TraceQuery::max_bytes`] with fewer than
    /// [`TraceQuery::limit`] summaries: more traces may match. Backends
    /// that summarise without building traces never stop there.
    pub cut_at_max_bytes: bool,
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clew_model::{KeyValue, Process, Reference, Span, SpanId, TraceId};

    use super::*;

    fn span(id: u64, parent: Option<u64>, service: &Arc<Process>, start: u64, dur: u64) -> Span {
        let t = TraceId::new(0, 0xab);
        let mut s = Span::new(t, SpanId(id), format!("op{id}"), service.clone());
        s.start_time = start;
        s.duration = dur;
        if let Some(p) = parent {
            s.references.push(Reference::child_of(t, SpanId(p)));
        }
        s
    }

    fn services(list: &[(&str, u64, u64)]) -> Vec<ServiceSummary> {
        list.iter()
            .map(|&(name, span_count, error_count)| ServiceSummary {
                name: name.into(),
                span_count,
                error_count,
            })
            .collect()
    }

    #[test]
    fn counts_roots_errors_orphans_and_services() {
        let a = Arc::new(Process::new("a"));
        let b = Arc::new(Process::new("b"));
        // Another host of service b: still one service.
        let b2 = Arc::new(Process {
            service_name: "b".into(),
            tags: vec![KeyValue::string("host", "h2")],
        });
        let root = span(1, None, &a, 100, 50);
        let mut child = span(2, Some(1), &b, 110, 100);
        child.tags.push(KeyValue::bool("error", true));
        let mut orphan = span(3, Some(99), &b2, 120, 0);
        orphan.tags.push(KeyValue::string("error", "true"));
        // A link to another trace is no parent: a later root candidate.
        let mut linked = span(4, None, &a, 130, 1);
        linked
            .references
            .push(Reference::child_of(TraceId::new(7, 7), SpanId(1)));
        let sum = TraceSummary::of(&[child, orphan, root, linked]).expect("spans");
        assert_eq!(
            sum,
            TraceSummary {
                trace_id: TraceId::new(0, 0xab),
                root_service: "a".into(),
                root_operation: "op1".into(),
                start: 100,
                duration: 110,
                span_count: 4,
                error_count: 2,
                orphan_count: 1,
                services: services(&[("a", 2, 0), ("b", 2, 2)]),
            }
        );
        assert_eq!(sum.end(), 210);
    }

    #[test]
    fn a_trace_whose_root_is_missing_has_none() {
        let a = Arc::new(Process::new("a"));
        // The earliest span is an orphan; it is not promoted to root.
        let sum = TraceSummary::of(&[span(2, Some(1), &a, 5, 1), span(3, Some(2), &a, 9, 1)])
            .expect("spans");
        assert_eq!(
            (sum.root_service.as_str(), sum.root_operation.as_str()),
            ("", "")
        );
        assert_eq!(sum.orphan_count, 1);
        assert_eq!(TraceSummary::of(&[]), None);
    }

    #[test]
    fn equal_starts_keep_the_first_stored_root() {
        let a = Arc::new(Process::new("a"));
        let b = Arc::new(Process::new("b"));
        let sum =
            TraceSummary::of(&[span(1, None, &b, 5, 1), span(2, None, &a, 5, 1)]).expect("spans");
        assert_eq!(sum.root_service, "b");
    }
}

/// The rule of [`TraceQuery::max_bytes`], in one place for every store and
/// for the query layer that explains a cut to the user: whole traces are
/// taken while the estimated size ([`clew_model::Span::estimated_size`]) of
/// those already taken is below the bound — so the trace that reaches it
/// is the last one, and the first is always taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteBound {
    max: usize,
    taken: usize,
}

impl ByteBound {
    /// A bound of `max` bytes (`None`: none).
    pub fn new(max: Option<usize>) -> ByteBound {
        ByteBound {
            max: max.unwrap_or(usize::MAX),
            taken: 0,
        }
    }

    /// May another trace be taken?
    pub fn open(&self) -> bool {
        self.taken < self.max
    }

    /// Counts a taken trace's spans.
    pub fn take<'a>(&mut self, spans: impl IntoIterator<Item = &'a clew_model::Span>) {
        let bytes: usize = spans
            .into_iter()
            .map(clew_model::Span::estimated_size)
            .sum();
        self.taken = self.taken.saturating_add(bytes);
    }

    /// Bytes taken so far.
    pub fn taken(&self) -> usize {
        self.taken
    }

    /// Bytes that may still be taken.
    pub fn left(&self) -> usize {
        self.max.saturating_sub(self.taken)
    }

    /// Did the traces taken reach the bound (so a search may have left
    /// matches unread)?
    pub fn reached(&self) -> bool {
        !self.open()
    }
}

#[cfg(test)]
mod byte_bound_tests {
    use std::sync::Arc;

    use clew_model::{Process, Span, SpanId, TraceId};

    use super::ByteBound;

    #[test]
    fn the_trace_reaching_the_bound_is_the_last_and_the_first_always_comes() {
        let span = Span::new(
            TraceId::new(0, 1),
            SpanId(1),
            "op",
            Arc::new(Process::new("s")),
        );
        let size = span.estimated_size();
        let mut b = ByteBound::new(Some(size * 2));
        let mut taken = 0;
        while b.open() {
            b.take([&span]);
            taken += 1;
        }
        assert_eq!(taken, 2);
        assert!(b.reached());
        let mut tiny = ByteBound::new(Some(1));
        assert!(tiny.open(), "the first trace always comes");
        tiny.take([&span]);
        assert!(tiny.reached());
        let none = ByteBound::new(None);
        assert!(none.open() && !none.reached());
    }
}
