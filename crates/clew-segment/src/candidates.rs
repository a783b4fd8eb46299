//! Search on encoded columns: which traces of a page have a span that may
//! match, found with integer compares against the block's dictionary and
//! without building spans.
//!
//! On v2 pages a `key=value` tag is one integer (its pair code) in one
//! column, so a page whose tag column does not contain that integer is
//! rejected by a byte search before anything else is read.

use clew_model::TraceId;

use crate::SegmentError;
use crate::codec::{Cursor, Sink};
use crate::page::{
    PARENT_EXPLICIT, S_DURATIONS, S_LOGS, S_OPERATIONS, S_PARENTS, S_PROCESSES, S_REFS, S_SCOPES,
    S_STARTS, S_TAG_VALUES, S_TAGS, S_TRACES, SpanFilter, skip_value,
};
use crate::streams::{
    S_INLINE_TAGS, S_TAG_STRINGS, S_TRACE_PAIRS, S_TRACE_SPANS, S_TRACE_STARTS, Streams,
};
use crate::tables::{Tables, V_INLINE_TAG};

/// A tag filter resolved against one block's tables.
struct ResolvedTag<'a> {
    key: u32,
    /// The value's text (compared with values written in place).
    text: &'a str,
    /// The value's string index, when the block holds that string.
    value: Option<u32>,
    /// Per process / scope: holds the key at all.
    process_has: Vec<bool>,
    scope_has: Vec<bool>,
}

fn kvs_have_key(kvs: &[clew_model::KeyValue], key: &str) -> bool {
    kvs.iter().any(|kv| &*kv.key == key)
}

/// Does the column of varints hold `v` as a whole varint?
fn has_var(col: &[u8], v: u64) -> bool {
    let mut pattern = Vec::with_capacity(10);
    pattern.put_var(v);
    memchr::memmem::find_iter(col, &pattern).any(|at| at == 0 || col[at - 1] < 0x80)
}

/// Trace IDs of a raw page with at least one span passing `f`.
pub(crate) fn candidates(
    raw: &[u8],
    tables: &Tables,
    f: &SpanFilter<'_>,
) -> Result<Vec<TraceId>, SegmentError> {
    candidates_streams(&Streams::open(raw)?, tables, f)
}

/// [`candidates`] over opened streams (the caller may decode from them next).
pub(crate) fn candidates_streams(
    streams: &Streams<'_>,
    tables: &Tables,
    f: &SpanFilter<'_>,
) -> Result<Vec<TraceId>, SegmentError> {
    // Resolve names to this block's string indexes; a name the block does
    // not hold cannot match.
    let service_ok: Option<Vec<bool>> = f.service.map(|svc| {
        tables
            .processes
            .iter()
            .map(|p| &*p.service_name == svc)
            .collect()
    });
    let op = match f.operation {
        Some(op) => match tables.find(op) {
            Some(id) => Some(u64::from(id)),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let mut tags = Vec::with_capacity(f.tags.len());
    for &(k, v) in &f.tags {
        let Some(key) = tables.find(k) else {
            return Ok(Vec::new());
        };
        tags.push(ResolvedTag {
            key,
            text: v,
            value: tables.find(v),
            process_has: tables
                .processes
                .iter()
                .map(|p| kvs_have_key(&p.tags, k))
                .collect(),
            scope_has: tables
                .scopes
                .iter()
                .map(|s| kvs_have_key(&s.attributes, k))
                .collect(),
        });
    }
    // Format v3: when every filtered key only ever holds strings in this
    // block, each filter is one pair ID, tested per trace on its own small
    // stream; the tag columns are never read.
    if streams.v3 && !tags.is_empty() && tags.iter().all(|t| tables.pairs_cover(t.key)) {
        let mut want = Vec::with_capacity(tags.len());
        for t in &tags {
            match t.value.and_then(|v| tables.pair_id(t.key, v)) {
                Some(id) => want.push(id),
                None => return Ok(Vec::new()),
            }
        }
        want.sort_unstable();
        want.dedup();
        return by_pairs(streams, f, &want, service_ok.as_deref(), op);
    }
    if !tags.is_empty() && !span_tags_may_match(streams, &tags)? {
        return Ok(Vec::new());
    }
    let v2 = streams.v2;
    // Columns are independent per-span streams: read only those the query
    // looks at (a tag search on tracegen-like data never touches span IDs,
    // parents, links, logs, flags, warnings or scopes).
    let has_tags = !tags.is_empty();
    let need_refs = has_tags && !streams.stream(S_REFS)?.is_empty();
    let need_logs = has_tags && !streams.stream(S_LOGS)?.iter().all(|&b| b == 0);
    let need_scope = tags.iter().any(|t| t.scope_has.iter().any(|&b| b));
    let need_proc = service_ok.is_some() || tags.iter().any(|t| t.process_has.iter().any(|&b| b));
    let need_dur = f.duration_min.is_some() || f.duration_max.is_some();
    let need_op = op.is_some();
    let mut st = streams.cursors(&|i| match i {
        S_TRACES | S_STARTS => true,
        S_PARENTS | S_REFS => need_refs,
        S_DURATIONS => need_dur,
        S_PROCESSES => need_proc,
        S_OPERATIONS => need_op,
        S_TAGS | S_TAG_VALUES | S_TAG_STRINGS => has_tags,
        S_LOGS => need_logs,
        S_SCOPES => need_scope,
        S_TRACE_SPANS | S_TRACE_STARTS => v2,
        _ => false,
    })?;
    let mut heads = streams.heads();
    let unit = streams.unit;
    let mut out = Vec::new();
    let mut tag_hit = vec![false; tags.len()];
    // Where the next in-place tag string starts in its stream (v3).
    let mut inline_at = 0usize;
    for _ in 0..streams.trace_count {
        let (id, n, trace_start) = heads.next(&mut st)?;
        if n > st[S_STARTS].remaining() as u64 {
            return Err(SegmentError::Corrupt("span count"));
        }
        let mut any = false;
        for _ in 0..n {
            tag_hit.iter_mut().for_each(|h| *h = false);
            if need_refs && st[S_PARENTS].var()? == PARENT_EXPLICIT {
                let r = &mut st[S_REFS];
                let nr = r.count(25)?;
                for _ in 0..nr {
                    r.take(25)?;
                    key_hits(r, &tags, &mut tag_hit)?;
                }
            }
            let start = trace_start.saturating_add(st[S_STARTS].var()?.saturating_mul(unit));
            let duration = if need_dur {
                st[S_DURATIONS].var()?.saturating_mul(unit)
            } else {
                0
            };
            let process = if need_proc {
                st[S_PROCESSES].var()? as usize
            } else {
                0
            };
            let op_id = if need_op { st[S_OPERATIONS].var()? } else { 0 };
            if has_tags {
                span_tag_hits(&mut st, v2, &tags, &mut tag_hit, streams, &mut inline_at)?;
            }
            if need_logs {
                let l = &mut st[S_LOGS];
                let nl = l.count(2)?;
                for _ in 0..nl {
                    l.var()?;
                    key_hits(l, &tags, &mut tag_hit)?;
                }
            }
            let scope = if need_scope {
                st[S_SCOPES].var()? as usize
            } else {
                0
            };
            if any {
                continue;
            }
            any = start >= f.start_min
                && start <= f.start_max
                && f.duration_min.is_none_or(|m| duration >= m)
                && f.duration_max.is_none_or(|m| duration <= m)
                && service_ok
                    .as_ref()
                    .is_none_or(|v| v.get(process).copied().unwrap_or(false))
                && op.is_none_or(|o| o == op_id)
                && tags.iter().enumerate().all(|(i, tg)| {
                    tag_hit[i]
                        || tg.process_has.get(process).copied().unwrap_or(false)
                        || (scope > 0 && tg.scope_has.get(scope - 1).copied().unwrap_or(false))
                });
        }
        if any {
            out.push(id);
        }
    }
    Ok(out)
}

/// The v3 path of [`candidates_streams`]: traces holding every pair in
/// `want` (anywhere in the trace: the caller checks that one span holds
/// them all) with a span meeting the other conditions.
fn by_pairs(
    streams: &Streams<'_>,
    f: &SpanFilter<'_>,
    want: &[u32],
    service_ok: Option<&[bool]>,
    op: Option<u64>,
) -> Result<Vec<TraceId>, SegmentError> {
    let need_dur = f.duration_min.is_some() || f.duration_max.is_some();
    // A caller whose window covers the whole page passes an open window:
    // the start column is then not read at all.
    let need_start = f.start_min > 0 || f.start_max < u64::MAX;
    let per_span = [
        (S_STARTS, need_start),
        (S_DURATIONS, need_dur),
        (S_PROCESSES, service_ok.is_some()),
        (S_OPERATIONS, op.is_some()),
    ];
    let mut st = streams.cursors(&|i| match i {
        S_TRACES | S_TRACE_SPANS | S_TRACE_STARTS | S_TRACE_PAIRS => true,
        _ => per_span.iter().any(|&(s, need)| s == i && need),
    })?;
    let any_span_column = per_span.iter().any(|&(_, need)| need);
    let mut heads = streams.heads();
    let unit = streams.unit;
    let mut out = Vec::new();
    for _ in 0..streams.trace_count {
        let (id, n, trace_start) = heads.next(&mut st)?;
        let holds = crate::page::runs_hold_all(&mut st[S_TRACE_PAIRS], want)?;
        if !holds || !any_span_column {
            for &(i, need) in &per_span {
                if need {
                    st[i].skip_vars(n)?;
                }
            }
            if holds && n > 0 {
                out.push(id);
            }
            continue;
        }
        let mut any = false;
        for _ in 0..n {
            let start = if need_start {
                trace_start.saturating_add(st[S_STARTS].var()?.saturating_mul(unit))
            } else {
                trace_start
            };
            let duration = if need_dur {
                st[S_DURATIONS].var()?.saturating_mul(unit)
            } else {
                0
            };
            let process = if service_ok.is_some() {
                st[S_PROCESSES].var()? as usize
            } else {
                0
            };
            let op_id = if op.is_some() {
                st[S_OPERATIONS].var()?
            } else {
                0
            };
            any = any
                || (start >= f.start_min
                    && start <= f.start_max
                    && f.duration_min.is_none_or(|m| duration >= m)
                    && f.duration_max.is_none_or(|m| duration <= m)
                    && service_ok.is_none_or(|v| v.get(process).copied().unwrap_or(false))
                    && op.is_none_or(|o| o == op_id));
        }
        if any {
            out.push(id);
        }
    }
    Ok(out)
}

/// Reads one span's tags, marking the filters they meet (string values by
/// index; other values by key only — the caller re-checks those).
fn span_tag_hits(
    st: &mut [Cursor<'_>],
    v2: bool,
    tags: &[ResolvedTag<'_>],
    hit: &mut [bool],
    streams: &Streams<'_>,
    inline_at: &mut usize,
) -> Result<(), SegmentError> {
    let nt = st[S_TAGS].count(1)?;
    for _ in 0..nt {
        let code = st[S_TAGS].var()?;
        if v2 {
            if code & 1 == 0 {
                let vid = st[S_TAG_STRINGS].var()?;
                for (i, tg) in tags.iter().enumerate() {
                    hit[i] |= code >> 1 == u64::from(tg.key)
                        && tg.value.is_some_and(|x| u64::from(x) == vid);
                }
            } else if st[S_TAG_VALUES].clone_peek_u8()? == V_INLINE_TAG {
                // A string in place: compared exactly, its bytes (in their
                // own stream) decompressed only if a filter has its key.
                let v = &mut st[S_TAG_VALUES];
                v.u8()?;
                let len = usize::try_from(v.var()?).map_err(|_| SegmentError::Corrupt("length"))?;
                let at = *inline_at;
                *inline_at = at.checked_add(len).ok_or(SegmentError::Corrupt("length"))?;
                let key = code >> 1;
                if tags.iter().any(|tg| u64::from(tg.key) == key) {
                    let text = streams
                        .stream(S_INLINE_TAGS)?
                        .get(at..at + len)
                        .ok_or(SegmentError::Truncated("in-place tag strings"))?;
                    for (i, tg) in tags.iter().enumerate() {
                        hit[i] |= u64::from(tg.key) == key && text == tg.text.as_bytes();
                    }
                }
            } else {
                skip_value(&mut st[S_TAG_VALUES], 0)?;
                for (i, tg) in tags.iter().enumerate() {
                    hit[i] |= code >> 1 == u64::from(tg.key);
                }
            }
            continue;
        }
        let v = &mut st[S_TAG_VALUES];
        let (is_str, vid) = if v.clone_peek_u8()? == 0 {
            v.u8()?;
            (true, v.var()?)
        } else {
            skip_value(v, 0)?;
            (false, 0)
        };
        for (i, tg) in tags.iter().enumerate() {
            if code == u64::from(tg.key)
                && (!is_str || tg.value.is_some_and(|x| u64::from(x) == vid))
            {
                hit[i] = true;
            }
        }
    }
    Ok(())
}

/// Reads a `kvs` (log fields, link attributes), marking tags whose key it
/// holds (a prefilter: values there are checked by the caller).
fn key_hits(
    c: &mut Cursor<'_>,
    tags: &[ResolvedTag<'_>],
    hit: &mut [bool],
) -> Result<(), SegmentError> {
    let nk = c.count(2)?;
    for _ in 0..nk {
        let k = c.var()?;
        for (i, tg) in tags.iter().enumerate() {
            hit[i] |= k == u64::from(tg.key);
        }
        skip_value(c, 0)?;
    }
    Ok(())
}

/// v2 pages, when every tag filter can only be met by span tags (no log,
/// link, process or scope attribute in the page carries its key): can any
/// span have them? False when a key or string value is missing from its
/// column (a byte search; nothing else is decompressed). `true` when the
/// page is v1 or the shortcut does not apply.
fn span_tags_may_match(
    streams: &Streams<'_>,
    tags: &[ResolvedTag<'_>],
) -> Result<bool, SegmentError> {
    if !streams.v2 {
        return Ok(true);
    }
    let logs_empty = streams.stream(S_LOGS)?.iter().all(|&b| b == 0);
    let refs_empty = streams.stream(S_REFS)?.is_empty();
    let only_span_tags = logs_empty
        && refs_empty
        && tags
            .iter()
            .all(|tg| !tg.process_has.iter().any(|&b| b) && !tg.scope_has.iter().any(|&b| b));
    if !only_span_tags {
        return Ok(true);
    }
    let codes = streams.stream(S_TAGS)?;
    let strings = streams.stream(S_TAG_STRINGS)?;
    for tg in tags {
        let key = u64::from(tg.key) << 1;
        let as_string =
            tg.value.is_some_and(|v| has_var(strings, u64::from(v))) && has_var(codes, key);
        if !as_string && !has_var(codes, key | 1) {
            return Ok(false);
        }
    }
    Ok(true)
}
