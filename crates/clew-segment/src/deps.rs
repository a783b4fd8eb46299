//! What a service graph needs of each span, read from a page's columns.
//!
//! A dependency graph over a time window counts parent → child service
//! pairs over every span starting in it, so it reads every stored span of
//! the window. Building whole spans for that (tags, logs, references,
//! scopes) made a graph over a few million spans take seconds; four small
//! columns — span IDs, parents, starts, processes — hold all of it, and
//! the others are never decompressed.

use clew_model::{Span, SpanId, Str, TraceId};

use crate::SegmentError;
use crate::TraceSpans;
use crate::page::{S_PARENTS, S_PROCESSES, S_REFS, S_SPAN_IDS, S_STARTS, S_TRACES};
use crate::streams::{S_TRACE_SPANS, S_TRACE_STARTS, Streams};

/// The trace heads and the columns that place each span in its trace and
/// service: IDs, parents, references, starts, processes (what a service
/// graph reads; a summary reads these and a few more).
pub(crate) const TREE_STREAMS: [usize; 8] = [
    S_TRACES,
    S_TRACE_SPANS,
    S_TRACE_STARTS,
    S_SPAN_IDS,
    S_PARENTS,
    S_REFS,
    S_STARTS,
    S_PROCESSES,
];
use crate::summary::parent_of;
use crate::tables::Tables;

/// One span, as a service graph sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepSpan {
    /// The span.
    pub span_id: SpanId,
    /// Its parent as [`Span::parent_span_id`] reads it.
    pub parent: Option<SpanId>,
    /// Its process's service.
    pub service: Str,
    /// Start, Unix ns.
    pub start: u64,
}

impl DepSpan {
    /// The same, from a built span (pages of the v1 layout, tests).
    pub fn of(s: &Span) -> DepSpan {
        DepSpan {
            span_id: s.span_id,
            parent: s.parent_span_id(),
            service: s.process.service_name.clone(),
            start: s.start_time,
        }
    }
}

/// The spans of one trace of a page, in page order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceDeps {
    /// The trace.
    pub id: TraceId,
    /// Its spans in the page.
    pub spans: Vec<DepSpan>,
}

impl TraceDeps {
    /// The same, from a built trace.
    pub fn of(t: &TraceSpans) -> TraceDeps {
        TraceDeps {
            id: t.id,
            spans: t.spans.iter().map(DepSpan::of).collect(),
        }
    }
}

/// Every trace of the page with its spans' graph fields; `None` for a page
/// of the v1 layout (the caller decodes those instead).
pub(crate) fn dependency_spans(
    streams: &Streams<'_>,
    tables: &Tables,
) -> Result<Option<Vec<TraceDeps>>, SegmentError> {
    if !streams.v2 {
        return Ok(None);
    }
    let mut st = streams.cursors(&|i| TREE_STREAMS.contains(&i))?;
    let mut heads = streams.heads();
    let unit = streams.unit;
    let mut out = Vec::with_capacity(streams.trace_count.min(1 << 16));
    for _ in 0..streams.trace_count {
        let (id, n, trace_start) = heads.next(&mut st)?;
        // Every span takes 8 bytes of span IDs: a count the column cannot
        // hold is corrupt, and nothing is reserved for it.
        let ids_bytes = usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(8))
            .filter(|&b| b <= st[S_SPAN_IDS].remaining())
            .ok_or(SegmentError::Corrupt("span count"))?;
        let ids_at = st[S_SPAN_IDS];
        let mut spans = Vec::with_capacity(ids_bytes / 8);
        for _ in 0..n {
            let span_id = SpanId(st[S_SPAN_IDS].u64()?);
            let parent = parent_of(&mut st, id, &ids_at)?.map(SpanId);
            let start = trace_start.saturating_add(st[S_STARTS].var()?.saturating_mul(unit));
            let process = st[S_PROCESSES].var()?;
            let service = tables
                .processes
                .get(usize::try_from(process).unwrap_or(usize::MAX))
                .map(|p| p.service_name.clone())
                .ok_or(SegmentError::Corrupt("process index"))?;
            spans.push(DepSpan {
                span_id,
                parent,
                service,
                start,
            });
        }
        if !spans.is_empty() {
            out.push(TraceDeps { id, spans });
        }
    }
    Ok(Some(out))
}
