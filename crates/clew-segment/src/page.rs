//! Pages: the columns of a run of whole traces.
//!
//! A page holds complete traces (never half of one), one after another,
//! each span's fields split into streams ("columns") so similar values sit
//! together and compress well:
//!
//! * trace ID stored once per trace, not per span;
//! * the parent as an index *within the trace* when the span has exactly one
//!   plain CHILD_OF reference to a span of the same trace (the common case),
//!   other references spelled out in their own stream;
//! * start times as deltas from the trace start, and both starts and
//!   durations in microseconds when every value of the page allows it;
//! * strings and processes as indexes into the block's [`Tables`].
//!
//! The stream order is part of the format (docs/storage-format.md, "Page").

use clew_model::{RefType, Reference, Span, SpanId, Str, TraceId, Value};

use crate::SegmentError;
use crate::codec::{Cursor, Sink};
use crate::streams::{
    FLAG_V2, FLAG_V3, S_INLINE_TAGS, S_TAG_STRINGS, S_TRACE_PAIRS, S_TRACE_SPANS, S_TRACE_STARTS,
    STREAMS_V2, STREAMS_V3, Streams, store,
};
use crate::tables::{TableBuilder, Tables};
use crate::values::ValueReader;

/// All stored spans of one trace within a page, in arrival order.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSpans {
    /// The trace.
    pub id: TraceId,
    /// Its spans, in the order they were written.
    pub spans: Vec<Span>,
}

pub(crate) const S_TRACES: usize = 0;
pub(crate) const S_SPAN_IDS: usize = 1;
pub(crate) const S_PARENTS: usize = 2;
pub(crate) const S_STARTS: usize = 3;
pub(crate) const S_DURATIONS: usize = 4;
pub(crate) const S_PROCESSES: usize = 5;
pub(crate) const S_OPERATIONS: usize = 6;
pub(crate) const S_FLAGS: usize = 7;
pub(crate) const S_TAGS: usize = 8;
pub(crate) const S_LOGS: usize = 9;
pub(crate) const S_REFS: usize = 10;
pub(crate) const S_WARNINGS: usize = 11;
pub(crate) const S_SCOPES: usize = 12;
pub(crate) const S_TAG_VALUES: usize = 13;
/// Streams in a v1 page. Readers ignore streams past the ones they know, so
/// a later revision can append one without breaking them.
pub(crate) const STREAMS: usize = 14;

/// Page header flag: starts and durations are in microseconds.
pub(crate) const FLAG_MICROS: u64 = 1;

// Parent stream values: 0 = no references, 1 = references in the refs
// stream, n >= 2 = one CHILD_OF to span n - 2 of the same trace.
pub(crate) const PARENT_NONE: u64 = 0;
pub(crate) const PARENT_EXPLICIT: u64 = 1;
pub(crate) const PARENT_INDEX_BASE: u64 = 2;

fn trace_start(spans: &[Span]) -> u64 {
    spans.iter().map(|s| s.start_time).min().unwrap_or(0)
}

/// Encodes traces into a page (format v2 layout, see [`crate::streams`]),
/// adding their strings and processes to `tables`; each stream is
/// compressed at `level` (`None`: stored raw, as WAL records are).
pub(crate) fn encode(
    traces: &[&TraceSpans],
    tables: &mut TableBuilder,
    level: Option<i32>,
) -> Vec<u8> {
    let micros = traces
        .iter()
        .flat_map(|t| t.spans.iter())
        .all(|s| s.start_time % 1000 == 0 && s.duration % 1000 == 0);
    let unit = if micros { 1000 } else { 1 };
    let span_count: usize = traces.iter().map(|t| t.spans.len()).sum();
    // Block pages are v3; WAL records keep the v2 layout.
    let v3 = tables.is_block();
    let streams = if v3 { STREAMS_V3 } else { STREAMS_V2 };
    let mut st: Vec<Vec<u8>> = (0..streams).map(|_| Vec::new()).collect();
    if v3 {
        tables.inline = once_seen(traces, tables);
    }
    st[S_SPAN_IDS].reserve(span_count * 8);
    let mut prev_start = 0u64;
    for &t in traces {
        let start = trace_start(&t.spans);
        let traces_s = &mut st[S_TRACES];
        traces_s.put_u64(t.id.high);
        traces_s.put_u64(t.id.low);
        st[S_TRACE_SPANS].put_var(t.spans.len() as u64);
        st[S_TRACE_STARTS].put_zigzag((start / unit).wrapping_sub(prev_start) as i64);
        prev_start = start / unit;
        let mut first_index: crate::tables::FastMap<u64, usize> =
            crate::tables::FastMap::with_capacity_and_hasher(t.spans.len(), Default::default());
        for (i, s) in t.spans.iter().enumerate() {
            first_index.entry(s.span_id.0).or_insert(i);
        }
        tables.take_noted();
        for s in &t.spans {
            st[S_SPAN_IDS].put_u64(s.span_id.0);
            let parent = parent_code(&s.references, t.id, &first_index);
            st[S_PARENTS].put_var(parent);
            if parent == PARENT_EXPLICIT {
                put_refs(&mut st[S_REFS], tables, &s.references);
            }
            st[S_STARTS].put_var((s.start_time - start) / unit);
            st[S_DURATIONS].put_var(s.duration / unit);
            let p = tables.process(&s.process);
            st[S_PROCESSES].put_var(u64::from(p));
            let op = tables.string(&s.operation_name);
            st[S_OPERATIONS].put_var(u64::from(op));
            st[S_FLAGS].put_var(u64::from(s.flags));
            let mut keys = std::mem::take(&mut st[S_TAGS]);
            let mut values = std::mem::take(&mut st[S_TAG_VALUES]);
            let mut strings = std::mem::take(&mut st[S_TAG_STRINGS]);
            let mut inline = if v3 {
                std::mem::take(&mut st[S_INLINE_TAGS])
            } else {
                Vec::new()
            };
            tables.put_tags_v2(&mut keys, &mut strings, &mut values, &mut inline, &s.tags);
            if v3 {
                st[S_INLINE_TAGS] = inline;
            }
            st[S_TAG_STRINGS] = strings;
            st[S_TAGS] = keys;
            st[S_TAG_VALUES] = values;
            let logs = &mut st[S_LOGS];
            logs.put_var(s.logs.len() as u64);
            for l in &s.logs {
                logs.put_zigzag(l.timestamp.wrapping_sub(s.start_time) as i64);
                tables.put_kvs(logs, &l.fields);
            }
            let scope = s
                .scope
                .as_ref()
                .map_or(0, |sc| u64::from(tables.scope(sc)) + 1);
            st[S_SCOPES].put_var(scope);
            tables.note_process(p, scope.checked_sub(1).map(|s| s as u32));
            let w = &mut st[S_WARNINGS];
            w.put_var(s.warnings.len() as u64);
            for text in &s.warnings {
                w.put_var(u64::from(tables.string(text)));
            }
        }
        if v3 {
            put_runs(&mut st[S_TRACE_PAIRS], &tables.take_noted());
        }
    }
    tables.inline.clear();
    assemble(&st, traces.len(), micros, v3, level)
}

/// Writes a page from its streams: header, then each stream (compressed
/// at `level` unless it holds random IDs).
pub(crate) fn assemble(
    st: &[Vec<u8>],
    trace_count: usize,
    micros: bool,
    v3: bool,
    level: Option<i32>,
) -> Vec<u8> {
    let total: usize = st.iter().map(|s| s.len() + 12).sum();
    let mut out = Vec::with_capacity(total + 16);
    let v3_flag = if v3 { FLAG_V3 } else { 0 };
    out.put_var(FLAG_V2 | v3_flag | if micros { FLAG_MICROS } else { 0 });
    out.put_var(trace_count as u64);
    out.put_var(st.len() as u64);
    for (i, s) in st.iter().enumerate() {
        // Random IDs do not compress: spare zstd the attempt.
        let level = if i == S_SPAN_IDS || i == S_TRACES {
            None
        } else {
            level
        };
        store(&mut out, s, level);
    }
    out
}

/// The parent stream's value for a span with `refs` in trace `trace`:
/// none, the index of its one plain CHILD_OF parent when that is among the
/// trace's spans (`first_index`: span ID → its first index), else
/// explicit (the references go to the refs stream).
pub(crate) fn parent_code(
    refs: &[Reference],
    trace: TraceId,
    first_index: &crate::tables::FastMap<u64, usize>,
) -> u64 {
    match refs {
        [] => PARENT_NONE,
        [r] if r.ref_type == RefType::ChildOf && r.trace_id == trace && r.tags.is_empty() => {
            first_index
                .get(&r.span_id.0)
                .map_or(PARENT_EXPLICIT, |&i| PARENT_INDEX_BASE + i as u64)
        }
        _ => PARENT_EXPLICIT,
    }
}

/// Writes a span's references spelled out (refs stream).
pub(crate) fn put_refs(out: &mut Vec<u8>, tables: &mut TableBuilder, refs: &[Reference]) {
    out.put_var(refs.len() as u64);
    for r in refs {
        out.put_u8(match r.ref_type {
            RefType::ChildOf => 0,
            RefType::FollowsFrom => 1,
        });
        out.put_u64(r.trace_id.high);
        out.put_u64(r.trace_id.low);
        out.put_u64(r.span_id.0);
        tables.put_kvs(out, &r.tags);
    }
}

/// Reads what [`put_refs`] wrote.
pub(crate) fn read_refs(
    r: &mut Cursor<'_>,
    tables: &Tables,
) -> Result<Vec<Reference>, SegmentError> {
    let n = r.count(25)?;
    let mut refs = Vec::with_capacity(n);
    for _ in 0..n {
        let ref_type = match r.u8()? {
            0 => RefType::ChildOf,
            1 => RefType::FollowsFrom,
            _ => return Err(SegmentError::Corrupt("reference type")),
        };
        let trace_id = TraceId::new(r.u64()?, r.u64()?);
        let span_id = SpanId(r.u64()?);
        let tags = tables.kvs(r, 0)?;
        refs.push(Reference {
            ref_type,
            trace_id,
            span_id,
            tags,
        });
    }
    Ok(refs)
}

/// String values of span tags and log fields that occur once in the page
/// and are not in the block's tables yet: the page writes them in place.
fn once_seen(traces: &[&TraceSpans], tables: &TableBuilder) -> crate::tables::FastSet<Str> {
    let mut counts: crate::tables::FastMap<&str, u32> = crate::tables::FastMap::default();
    for t in traces {
        for s in &t.spans {
            let logs = s.logs.iter().flat_map(|l| l.fields.iter());
            for kv in s.tags.iter().chain(logs) {
                if let Value::Str(v) = &kv.value {
                    *counts.entry(&**v).or_default() += 1;
                }
            }
        }
    }
    counts
        .into_iter()
        .filter(|&(v, n)| n == 1 && !tables.has_string(v))
        .map(|(v, _)| Str::from(v))
        .collect()
}

/// Writes sorted, distinct IDs as runs: `var n`, then per run `var gap`
/// (start minus the previous run's end, the first from 0) and
/// `var length - 1`.
pub(crate) fn put_runs(out: &mut Vec<u8>, ids: &[u32]) {
    let runs = runs_of(ids.iter().copied());
    out.put_var(runs.len() as u64);
    let mut end = 0u32;
    for (start, len) in runs {
        out.put_var(u64::from(start - end));
        out.put_var(u64::from(len - 1));
        end = start + len;
    }
}

/// Ascending, distinct IDs as runs `(first, count)`.
pub(crate) fn runs_of(ids: impl IntoIterator<Item = u32>) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for id in ids {
        match runs.last_mut() {
            Some((first, count)) if *first + *count == id => *count += 1,
            _ => runs.push((id, 1)),
        }
    }
    runs
}

/// Reads one trace's runs (see [`put_runs`]): are all `want` (sorted) in
/// them? Consumes the runs either way.
pub(crate) fn runs_hold_all(c: &mut Cursor<'_>, want: &[u32]) -> Result<bool, SegmentError> {
    let n = c.count(2)?;
    let mut end = 0u64;
    let mut next = 0;
    for _ in 0..n {
        let start = end
            .checked_add(c.var()?)
            .ok_or(SegmentError::Corrupt("pair runs"))?;
        end = start
            .checked_add(c.var()?)
            .and_then(|e| e.checked_add(1))
            .ok_or(SegmentError::Corrupt("pair runs"))?;
        while let Some(&w) = want.get(next) {
            let w = u64::from(w);
            if w < start {
                // Skipped past it: not held (the rest is still consumed).
                next = usize::MAX;
                break;
            }
            if w >= end {
                break;
            }
            next += 1;
        }
    }
    Ok(next == want.len())
}

/// Decodes a raw page; only traces for which `want` is true are built into
/// spans (the others are skipped over, which costs far less).
pub(crate) fn decode(
    raw: &[u8],
    tables: &Tables,
    want: &dyn Fn(TraceId) -> bool,
) -> Result<Vec<TraceSpans>, SegmentError> {
    decode_streams(&Streams::open(raw)?, tables, want)
}

/// [`decode`] over streams already opened (and maybe partly read).
pub(crate) fn decode_streams(
    streams: &Streams<'_>,
    tables: &Tables,
    want: &dyn Fn(TraceId) -> bool,
) -> Result<Vec<TraceSpans>, SegmentError> {
    let (unit, v2) = (streams.unit, streams.v2);
    let mut st = streams.cursors(&|_| true)?;
    // The trace headers first (a few bytes per trace), so the spans of
    // traces nobody wants are passed over in one go per stream, and
    // nothing after the last wanted trace is read at all: a trace-by-ID
    // lookup reads, on average, half a page's columns.
    let mut heads = streams.heads();
    let mut traces = Vec::with_capacity(streams.trace_count.min(1 << 16));
    for _ in 0..streams.trace_count {
        let (id, n, start) = heads.next(&mut st)?;
        traces.push((id, n, start, want(id)));
    }
    let Some(last) = traces.iter().rposition(|t| t.3) else {
        return Ok(Vec::new());
    };
    let skip = TraceSkip::of(&st, v2);
    let mut strings = ValueReader::for_page(tables);
    let mut out = Vec::new();
    let mut pending = 0u64;
    for &(id, n, start, wanted) in &traces[..=last] {
        // Every span takes at least 8 bytes of span IDs.
        let spans_left = (st[S_SPAN_IDS].remaining() / 8) as u64;
        pending = pending
            .checked_add(n)
            .filter(|&p| p <= spans_left)
            .ok_or(SegmentError::Corrupt("span count"))?;
        if !wanted {
            continue;
        }
        skip.trace(&mut st, pending - n)?;
        pending = 0;
        let n = n as usize;
        let mut spans: Vec<Span> = Vec::with_capacity(n);
        for _ in 0..n {
            let s = decode_span(&mut st, tables, &mut strings, id, start, unit, v2, &spans)?;
            spans.push(s);
        }
        out.push(TraceSpans { id, spans });
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn decode_span(
    st: &mut [Cursor<'_>],
    tables: &Tables,
    strings: &mut ValueReader<'_>,
    trace: TraceId,
    trace_start: u64,
    unit: u64,
    v2: bool,
    earlier: &[Span],
) -> Result<Span, SegmentError> {
    let span_id = SpanId(st[S_SPAN_IDS].u64()?);
    let parent = st[S_PARENTS].var()?;
    let references = match parent {
        PARENT_NONE => Vec::new(),
        PARENT_EXPLICIT => read_refs(&mut st[S_REFS], tables)?,
        i => {
            // The index may point forward (a child written before its
            // parent); the span ID then comes from the span-ID stream.
            let i = (i - PARENT_INDEX_BASE) as usize;
            let pid = match earlier.get(i) {
                Some(p) => p.span_id,
                None if i == earlier.len() => span_id,
                None => span_id_ahead(&st[S_SPAN_IDS], i - earlier.len() - 1)?,
            };
            vec![Reference::child_of(trace, pid)]
        }
    };
    let start_time = trace_start.saturating_add(st[S_STARTS].var()?.saturating_mul(unit));
    let duration = st[S_DURATIONS].var()?.saturating_mul(unit);
    let process = tables.process(&mut st[S_PROCESSES])?;
    let op = strings.string(&mut st[S_OPERATIONS])?;
    let flags = st[S_FLAGS].var()? as u32;
    let tags = if v2 {
        let (mut k, mut sv, mut v) = (st[S_TAGS], st[S_TAG_STRINGS], st[S_TAG_VALUES]);
        let mut inline = st
            .get(S_INLINE_TAGS)
            .copied()
            .unwrap_or(Cursor::new(&[], "page stream"));
        let tags = strings.tags_v2(&mut k, &mut sv, &mut v, &mut inline)?;
        (st[S_TAGS], st[S_TAG_STRINGS], st[S_TAG_VALUES]) = (k, sv, v);
        if let Some(c) = st.get_mut(S_INLINE_TAGS) {
            *c = inline;
        }
        tags
    } else {
        let (keys, rest) = st.split_at_mut(S_TAG_VALUES);
        strings.kvs_split(&mut keys[S_TAGS], &mut rest[0])?
    };
    let l = &mut st[S_LOGS];
    let n = l.count(2)?;
    let mut logs = Vec::with_capacity(n);
    for _ in 0..n {
        let timestamp = start_time.wrapping_add(l.zigzag()? as u64);
        let fields = strings.kvs(l, 0)?;
        logs.push(clew_model::Log { timestamp, fields });
    }
    let w = &mut st[S_WARNINGS];
    let n = w.count(1)?;
    let mut warnings = Vec::with_capacity(n);
    for _ in 0..n {
        warnings.push(strings.string(w)?.to_string());
    }
    let scope = tables.scope(&mut st[S_SCOPES])?;
    let mut span = Span::new(trace, span_id, op, process);
    span.scope = scope;
    span.references = references;
    span.flags = flags;
    span.start_time = start_time;
    span.duration = duration;
    span.tags = tags;
    span.logs = logs;
    span.warnings = warnings;
    Ok(span)
}

/// The span ID `ahead` entries past the cursor's position (the cursor has
/// already consumed the current span's ID).
fn span_id_ahead(ids: &Cursor<'_>, ahead: usize) -> Result<SpanId, SegmentError> {
    let mut c = *ids;
    c.take(
        ahead
            .checked_mul(8)
            .ok_or(SegmentError::Corrupt("parent index"))?,
    )?;
    Ok(SpanId(c.u64()?))
}

/// The trace IDs of a raw page, in page order, without decoding spans.
pub(crate) fn trace_ids(raw: &[u8]) -> Result<Vec<TraceId>, SegmentError> {
    Ok(trace_heads(raw)?.into_iter().map(|(id, _, _)| id).collect())
}

/// The traces of a raw page with their earliest span start, in page
/// order, leaving out traces without spans (as a block writer's source
/// lists them), without decoding spans.
pub(crate) fn trace_starts(raw: &[u8]) -> Result<Vec<(TraceId, u64)>, SegmentError> {
    Ok(trace_heads(raw)?
        .into_iter()
        .filter(|&(_, n, _)| n > 0)
        .map(|(id, _, start)| (id, start))
        .collect())
}

/// `(trace ID, span count, start)` of every trace of a raw page, in order.
fn trace_heads(raw: &[u8]) -> Result<Vec<(TraceId, u64, u64)>, SegmentError> {
    let streams = Streams::open(raw)?;
    let mut st =
        streams.cursors(&|i| i == S_TRACES || i == S_TRACE_SPANS || i == S_TRACE_STARTS)?;
    let mut heads = streams.heads();
    let mut out = Vec::with_capacity(streams.trace_count.min(1 << 16));
    for _ in 0..streams.trace_count {
        out.push(heads.next(&mut st)?);
    }
    Ok(out)
}

/// Passing over whole traces a reader does not build: where the page's
/// streams allow it (no non-string tags, links, logs or warnings — the
/// common case), each stream skips a trace's spans by counting varint
/// ends instead of reading span by span.
pub(crate) struct TraceSkip {
    fast: bool,
    tag_values: bool,
    refs: bool,
    logs: bool,
    warnings: bool,
}

impl TraceSkip {
    pub(crate) fn of(st: &[Cursor<'_>], v2: bool) -> TraceSkip {
        let any = |i: usize| st.get(i).is_some_and(|c| c.rest().iter().any(|&b| b != 0));
        TraceSkip {
            fast: v2,
            tag_values: st.get(S_TAG_VALUES).is_some_and(|c| c.remaining() > 0),
            refs: st.get(S_REFS).is_some_and(|c| c.remaining() > 0),
            logs: any(S_LOGS),
            warnings: any(S_WARNINGS),
        }
    }

    /// Advances every stream past the `n` spans of one trace.
    pub(crate) fn trace(&self, st: &mut [Cursor<'_>], n: u64) -> Result<(), SegmentError> {
        if !self.fast {
            for _ in 0..n {
                skip_span(st, false)?;
            }
            return Ok(());
        }
        st[S_SPAN_IDS].take(
            usize::try_from(n)
                .ok()
                .and_then(|n| n.checked_mul(8))
                .ok_or(SegmentError::Corrupt("span count"))?,
        )?;
        skip_parents(st, n, self.refs)?;
        for i in [
            S_STARTS,
            S_DURATIONS,
            S_PROCESSES,
            S_OPERATIONS,
            S_FLAGS,
            S_SCOPES,
        ] {
            st[i].skip_vars(n)?;
        }
        if self.tag_values {
            for _ in 0..n {
                let nt = st[S_TAGS].count(1)?;
                for _ in 0..nt {
                    if st[S_TAGS].var()? & 1 == 0 {
                        st[S_TAG_STRINGS].var()?;
                    } else {
                        skip_tag_value(st)?;
                    }
                }
            }
        } else {
            // Every tag is a string: one code and one string index each.
            let tags = st[S_TAGS].skip_counted(n)?;
            st[S_TAG_STRINGS].skip_vars(tags)?;
        }
        if self.logs {
            for _ in 0..n {
                let l = &mut st[S_LOGS];
                let nl = l.count(2)?;
                for _ in 0..nl {
                    l.var()?;
                    skip_kvs(l, 0)?;
                }
            }
        } else {
            st[S_LOGS].skip_vars(n)?;
        }
        if self.warnings {
            for _ in 0..n {
                let w = &mut st[S_WARNINGS];
                let nw = w.count(1)?;
                w.skip_vars(nw as u64)?;
            }
        } else {
            st[S_WARNINGS].skip_vars(n)?;
        }
        Ok(())
    }
}

/// Advances every stream past one span without building it.
pub(crate) fn skip_span(st: &mut [Cursor<'_>], v2: bool) -> Result<(), SegmentError> {
    st[S_SPAN_IDS].take(8)?;
    if st[S_PARENTS].var()? == PARENT_EXPLICIT {
        let r = &mut st[S_REFS];
        let n = r.count(25)?;
        for _ in 0..n {
            r.take(25)?;
            skip_kvs(r, 0)?;
        }
    }
    st[S_STARTS].var()?;
    st[S_DURATIONS].var()?;
    st[S_PROCESSES].var()?;
    st[S_OPERATIONS].var()?;
    st[S_FLAGS].var()?;
    let n = st[S_TAGS].count(1)?;
    for _ in 0..n {
        let code = st[S_TAGS].var()?;
        if v2 && code & 1 == 0 {
            st[S_TAG_STRINGS].var()?;
        } else {
            skip_tag_value(st)?;
        }
    }
    let l = &mut st[S_LOGS];
    let n = l.count(2)?;
    for _ in 0..n {
        l.var()?;
        skip_kvs(l, 0)?;
    }
    let w = &mut st[S_WARNINGS];
    let n = w.count(1)?;
    for _ in 0..n {
        w.var()?;
    }
    st[S_SCOPES].var()?;
    Ok(())
}

/// Passes over one span tag's value in stream 13, and over its bytes in
/// the in-place tag strings stream when it is a type 9 string.
pub(crate) fn skip_tag_value(st: &mut [Cursor<'_>]) -> Result<(), SegmentError> {
    if st[S_TAG_VALUES].clone_peek_u8()? != crate::tables::V_INLINE_TAG {
        return skip_value(&mut st[S_TAG_VALUES], 0);
    }
    st[S_TAG_VALUES].u8()?;
    let len = usize::try_from(st[S_TAG_VALUES].var()?)
        .map_err(|_| SegmentError::Corrupt("string length"))?;
    match st.get_mut(S_INLINE_TAGS) {
        Some(c) => c.take(len).map(|_| ()),
        None => Err(SegmentError::Corrupt("in-place tag string")),
    }
}

/// Advances the parent and reference streams past `n` spans; `refs` says
/// whether the page has explicit references at all (when not, parents are
/// plain varints and skipped in one go).
pub(crate) fn skip_parents(st: &mut [Cursor<'_>], n: u64, refs: bool) -> Result<(), SegmentError> {
    if !refs {
        return st[S_PARENTS].skip_vars(n);
    }
    for _ in 0..n {
        if st[S_PARENTS].var()? == PARENT_EXPLICIT {
            let r = &mut st[S_REFS];
            let nr = r.count(25)?;
            for _ in 0..nr {
                r.take(25)?;
                skip_kvs(r, 0)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn skip_kvs(c: &mut Cursor<'_>, depth: u32) -> Result<(), SegmentError> {
    let n = c.count(2)?;
    for _ in 0..n {
        c.var()?;
        skip_value(c, depth)?;
    }
    Ok(())
}

pub(crate) fn skip_value(c: &mut Cursor<'_>, depth: u32) -> Result<(), SegmentError> {
    if depth > 32 {
        return Err(SegmentError::Corrupt("value nesting"));
    }
    match c.u8()? {
        0 | 3 => {
            c.var()?;
        }
        1 | 2 => {}
        4 => {
            c.take(8)?;
        }
        5 | 8 => {
            c.blob()?;
        }
        // A type 9 string's bytes are in another stream: callers that
        // read that stream in step use `skip_tag_value`.
        9 if depth == 0 => {
            c.var()?;
        }
        6 => {
            let n = c.count(1)?;
            for _ in 0..n {
                skip_value(c, depth + 1)?;
            }
        }
        7 => skip_kvs(c, depth + 1)?,
        _ => return Err(SegmentError::Corrupt("value type")),
    }
    Ok(())
}

/// Groups spans by trace in first-appearance order, keeping arrival order
/// within each trace.
pub fn group_by_trace(spans: Vec<Span>) -> Vec<TraceSpans> {
    let mut out: Vec<TraceSpans> = Vec::new();
    // foldhash, not SipHash: this runs for every span written to the
    // disk store, on the path that answers the client.
    // Sized for a trace per span up front: growing it rehashed every
    // trace ID several times per batch (a few KB per batch).
    let mut index: crate::tables::FastMap<TraceId, usize> =
        crate::tables::FastMap::with_capacity_and_hasher(spans.len(), Default::default());
    for s in spans {
        let slot = *index.entry(s.trace_id).or_insert_with(|| {
            out.push(TraceSpans {
                id: s.trace_id,
                spans: Vec::new(),
            });
            out.len() - 1
        });
        out[slot].spans.push(s);
    }
    out
}

/// A span-level search condition, checked on the encoded columns before
/// any span is built. It is a *prefilter*: it never rejects a span the
/// exact rule (`clew_store::span_matches`) would accept, and may accept
/// some it rejects (non-string tag values, attributes outside span tags
/// are checked by key only), so the caller re-checks the traces it gets.
#[derive(Clone, Debug, Default)]
pub struct SpanFilter<'a> {
    /// Service name.
    pub service: Option<&'a str>,
    /// Operation name.
    pub operation: Option<&'a str>,
    /// `key = value` pairs (text form), all on one span.
    pub tags: Vec<(&'a str, &'a str)>,
    /// Span start window, inclusive.
    pub start_min: u64,
    /// Span start window, inclusive.
    pub start_max: u64,
    /// Duration bounds, inclusive.
    pub duration_min: Option<u64>,
    /// Duration bounds, inclusive.
    pub duration_max: Option<u64>,
}
