//! Trace summaries read straight from a page's columns.
//!
//! A search result list shows, per trace, its root service and operation,
//! start, duration, span and error counts per service and how many spans
//! lost their parent. All of it is in a few small columns — span IDs
//! (raw), parents, starts, durations, processes, operations and the tag
//! codes and non-string values — so a summary needs neither the spans
//! built nor the page's big columns decompressed: on high-entropy data the
//! in-place tag strings and the logs are three quarters of a page, and
//! building spans was most of a search's time.
//!
//! The rules are `clew_store::TraceSummary::of`'s, on the same spans: the
//! root is the earliest span without a parent (no reference to a span of
//! its own trace; the first such in page order among equals), and a trace
//! without one has none (empty names); an orphan is a span whose parent is
//! not among the trace's spans; a span is an error when its first `error`
//! tag is `true` (bool) or `"true"`.

use clew_model::{Str, TraceId};

use crate::SegmentError;
use crate::codec::Cursor;
use crate::page::{
    PARENT_EXPLICIT, S_DURATIONS, S_OPERATIONS, S_PARENTS, S_PROCESSES, S_REFS, S_SPAN_IDS,
    S_STARTS, S_TAG_VALUES, S_TAGS, skip_kvs, skip_parents, skip_value,
};
use crate::streams::{S_INLINE_TAGS, S_TAG_STRINGS, Streams};
use crate::tables::{Tables, V_INLINE, V_INLINE_TAG, V_TRUE};

/// What a result list shows for one trace of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageTraceSummary {
    /// The trace.
    pub id: TraceId,
    /// Earliest span start, Unix ns.
    pub start: u64,
    /// Latest span end, Unix ns.
    pub end: u64,
    /// Spans of the trace in the page.
    pub spans: u64,
    /// Spans whose first `error` tag is true.
    pub errors: u64,
    /// Spans whose parent is not among the trace's spans in the page.
    pub orphans: u64,
    /// Service of the root span; empty when no span is without a parent.
    pub root_service: Str,
    /// Operation of the root span; empty when there is no root.
    pub root_operation: Str,
    /// Span and error counts per service, sorted by service name.
    pub services: Vec<ServiceCounts>,
}

/// One service's spans in a [`PageTraceSummary`]. Processes that differ
/// only in their tags (two hosts of one service) count as one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceCounts {
    /// Service name.
    pub service: Str,
    /// Spans of the service.
    pub spans: u64,
    /// Those of them whose first `error` tag is true.
    pub errors: u64,
}

/// How the first `error` tag of a span reads as a boolean, resolved
/// against the block's strings.
struct ErrorTag {
    key: u64,
    /// String index of `"true"`, when the block holds that string.
    true_string: Option<u64>,
}

/// Summaries of the traces `want` accepts, from the page's columns; `None`
/// for a page of the v1 layout (the caller decodes those traces instead).
pub(crate) fn summaries(
    streams: &Streams<'_>,
    tables: &Tables,
    want: &dyn Fn(TraceId) -> bool,
) -> Result<Option<Vec<PageTraceSummary>>, SegmentError> {
    if !streams.v2 {
        return Ok(None);
    }
    let error = tables.find(clew_model::keys::ERROR).map(|k| ErrorTag {
        key: u64::from(k),
        true_string: tables.find("true").map(u64::from),
    });
    let mut st = streams.cursors(&|i| {
        crate::deps::TREE_STREAMS.contains(&i)
            || matches!(
                i,
                S_DURATIONS | S_OPERATIONS | S_TAGS | S_TAG_STRINGS | S_TAG_VALUES
            )
    })?;
    let refs = st[S_REFS].remaining() > 0;
    let tag_values = st[S_TAG_VALUES].remaining() > 0;
    let mut heads = streams.heads();
    let unit = streams.unit;
    // Where the next in-place span tag string starts in its stream (its
    // bytes are read only to tell whether an in-place `error` is "true").
    let mut inline_at = 0usize;
    let mut out = Vec::new();
    for _ in 0..streams.trace_count {
        let (id, n, trace_start) = heads.next(&mut st)?;
        let ids_bytes = usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(8))
            .ok_or(SegmentError::Corrupt("span count"))?;
        if ids_bytes > st[S_SPAN_IDS].remaining() {
            return Err(SegmentError::Corrupt("span count"));
        }
        if !want(id) {
            skip_trace(&mut st, n, ids_bytes, refs, tag_values, &mut inline_at)?;
            continue;
        }
        let ids_at = st[S_SPAN_IDS];
        let mut ids: Vec<u64> = (0..n)
            .map(|_| st[S_SPAN_IDS].u64())
            .collect::<Result<_, _>>()?;
        // Sorted for the parent lookups: a 10 k-span trace would otherwise
        // cost 10 k scans of 10 k IDs.
        ids.sort_unstable();
        // (start, process, operation) of the root so far.
        let mut root: Option<(u64, u64, u64)> = None;
        let (mut min_start, mut max_end, mut errors, mut orphans) = (u64::MAX, 0u64, 0u64, 0u64);
        // (process, spans, errors), in order of first appearance.
        let mut processes: Vec<(u64, u64, u64)> = Vec::new();
        for _ in 0..n {
            let parent = parent_of(&mut st, id, &ids_at)?;
            let start = trace_start.saturating_add(st[S_STARTS].var()?.saturating_mul(unit));
            let end = start.saturating_add(st[S_DURATIONS].var()?.saturating_mul(unit));
            let process = st[S_PROCESSES].var()?;
            let op = st[S_OPERATIONS].var()?;
            let is_error = span_is_error(&mut st, streams, error.as_ref(), &mut inline_at)?;
            errors += u64::from(is_error);
            min_start = min_start.min(start);
            max_end = max_end.max(end);
            match processes.iter_mut().find(|p| p.0 == process) {
                Some(p) => {
                    p.1 += 1;
                    p.2 += u64::from(is_error);
                }
                None => processes.push((process, 1, u64::from(is_error))),
            }
            match parent {
                None if root.is_none_or(|r| start < r.0) => root = Some((start, process, op)),
                Some(p) if ids.binary_search(&p).is_err() => orphans += 1,
                _ => {}
            }
        }
        if n == 0 {
            continue;
        }
        let service = |p: u64| {
            tables
                .processes
                .get(p as usize)
                .map(|p| p.service_name.clone())
                .ok_or(SegmentError::Corrupt("process index"))
        };
        let mut by_process = processes
            .iter()
            .map(|&(p, spans, errors)| {
                Ok(ServiceCounts {
                    service: service(p)?,
                    spans,
                    errors,
                })
            })
            .collect::<Result<Vec<_>, SegmentError>>()?;
        by_process.sort_by(|a, b| a.service.cmp(&b.service));
        let mut services: Vec<ServiceCounts> = Vec::with_capacity(by_process.len());
        for c in by_process {
            match services.last_mut() {
                Some(last) if last.service == c.service => {
                    last.spans += c.spans;
                    last.errors += c.errors;
                }
                _ => services.push(c),
            }
        }
        let (root_service, root_operation) = match root {
            Some((_, process, op)) => (
                service(process)?,
                tables
                    .strings
                    .get(op as usize)
                    .ok_or(SegmentError::Corrupt("string index"))?,
            ),
            None => (Str::new(), Str::new()),
        };
        out.push(PageTraceSummary {
            id,
            start: min_start,
            end: max_end,
            spans: n,
            errors,
            orphans,
            root_service,
            root_operation,
            services,
        });
    }
    Ok(Some(out))
}

/// The span's parent as `Span::parent_span_id` reads it (`None`: no
/// reference to a span of its own trace). `ids_at` is the span-ID cursor
/// at the trace's first span.
pub(crate) fn parent_of(
    st: &mut [Cursor<'_>],
    trace: TraceId,
    ids_at: &Cursor<'_>,
) -> Result<Option<u64>, SegmentError> {
    match st[S_PARENTS].var()? {
        0 => Ok(None),
        PARENT_EXPLICIT => {
            let r = &mut st[S_REFS];
            let n = r.count(25)?;
            let (mut child_of, mut any) = (None, None);
            for _ in 0..n {
                let kind = r.u8()?; // 0 = CHILD_OF
                let same = TraceId::new(r.u64()?, r.u64()?) == trace;
                let span = r.u64()?;
                skip_kvs(r, 0)?;
                if same {
                    any = any.or(Some(span));
                    if kind == 0 && child_of.is_none() {
                        child_of = Some(span);
                    }
                }
            }
            Ok(child_of.or(any))
        }
        // One CHILD_OF to span `i` of the trace: the ID at that position
        // (a writer only points inside the trace; read it as decode does).
        i => {
            let at = usize::try_from(i - 2)
                .ok()
                .and_then(|i| i.checked_mul(8))
                .ok_or(SegmentError::Corrupt("parent index"))?;
            let mut c = *ids_at;
            c.take(at)?;
            Ok(Some(c.u64()?))
        }
    }
}

/// Reads one span's tags (codes, string indexes, other values); true when
/// its first `error` tag is true.
fn span_is_error(
    st: &mut [Cursor<'_>],
    streams: &Streams<'_>,
    error: Option<&ErrorTag>,
    inline_at: &mut usize,
) -> Result<bool, SegmentError> {
    let mut verdict: Option<bool> = None;
    let nt = st[S_TAGS].count(1)?;
    for _ in 0..nt {
        let code = st[S_TAGS].var()?;
        let first_error = verdict.is_none() && error.is_some_and(|e| e.key == code >> 1);
        if code & 1 == 0 {
            let v = st[S_TAG_STRINGS].var()?;
            if first_error {
                verdict = Some(error.and_then(|e| e.true_string) == Some(v));
            }
            continue;
        }
        let values = &mut st[S_TAG_VALUES];
        match values.clone_peek_u8()? {
            V_INLINE_TAG => {
                values.u8()?;
                let len =
                    usize::try_from(values.var()?).map_err(|_| SegmentError::Corrupt("length"))?;
                let at = *inline_at;
                *inline_at = at.checked_add(len).ok_or(SegmentError::Corrupt("length"))?;
                if first_error {
                    let text = streams
                        .stream(S_INLINE_TAGS)?
                        .get(at..at + len)
                        .ok_or(SegmentError::Truncated("in-place tag strings"))?;
                    verdict = Some(text == b"true");
                }
            }
            V_INLINE if first_error => {
                values.u8()?;
                verdict = Some(values.blob()? == b"true");
            }
            t => {
                skip_value(values, 0)?;
                if first_error {
                    verdict = Some(t == V_TRUE);
                }
            }
        }
    }
    Ok(verdict == Some(true))
}

/// Passes over a trace's spans in the columns a summary reads.
fn skip_trace(
    st: &mut [Cursor<'_>],
    n: u64,
    ids_bytes: usize,
    refs: bool,
    tag_values: bool,
    inline_at: &mut usize,
) -> Result<(), SegmentError> {
    st[S_SPAN_IDS].take(ids_bytes)?;
    skip_parents(st, n, refs)?;
    for i in [S_STARTS, S_DURATIONS, S_PROCESSES, S_OPERATIONS] {
        st[i].skip_vars(n)?;
    }
    if !tag_values {
        let tags = st[S_TAGS].skip_counted(n)?;
        return st[S_TAG_STRINGS].skip_vars(tags);
    }
    for _ in 0..n {
        let nt = st[S_TAGS].count(1)?;
        for _ in 0..nt {
            if st[S_TAGS].var()? & 1 == 0 {
                st[S_TAG_STRINGS].var()?;
                continue;
            }
            let values = &mut st[S_TAG_VALUES];
            if values.clone_peek_u8()? == V_INLINE_TAG {
                values.u8()?;
                let len =
                    usize::try_from(values.var()?).map_err(|_| SegmentError::Corrupt("length"))?;
                *inline_at = inline_at
                    .checked_add(len)
                    .ok_or(SegmentError::Corrupt("length"))?;
            } else {
                skip_value(values, 0)?;
            }
        }
    }
    Ok(())
}
