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
    PARENT_EXPLICIT, S_DURATIONS, S_FLAGS, S_LOGS, S_OPERATIONS, S_PARENTS, S_PROCESSES, S_REFS,
    S_SCOPES, S_SPAN_IDS, S_STARTS, S_TAG_VALUES, S_TAGS, S_WARNINGS, SpanFilter, skip_value,
};
use crate::streams::{S_TAG_STRINGS, S_TRACE_SPANS, Streams};
use crate::tables::Tables;

/// A tag filter resolved against one block's tables.
struct ResolvedTag {
    key: u32,
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
    if !tags.is_empty() && !span_tags_may_match(streams, &tags)? {
        return Ok(Vec::new());
    }
    let v2 = streams.v2;
    let mut st = streams.cursors(&|i| i != S_SPAN_IDS || !v2)?;
    let mut heads = streams.heads();
    let unit = streams.unit;
    let mut out = Vec::new();
    let mut tag_hit = vec![false; tags.len()];
    for _ in 0..streams.trace_count {
        let (id, n, trace_start) = heads.next(&mut st)?;
        if n > st[S_STARTS].remaining() as u64 {
            return Err(SegmentError::Corrupt("span count"));
        }
        let mut any = false;
        for _ in 0..n {
            if !v2 {
                st[S_SPAN_IDS].take(8)?;
            }
            tag_hit.iter_mut().for_each(|h| *h = false);
            if st[S_PARENTS].var()? == PARENT_EXPLICIT {
                let r = &mut st[S_REFS];
                let nr = r.count(25)?;
                for _ in 0..nr {
                    r.take(25)?;
                    key_hits(r, &tags, &mut tag_hit)?;
                }
            }
            let start = trace_start.saturating_add(st[S_STARTS].var()?.saturating_mul(unit));
            let duration = st[S_DURATIONS].var()?.saturating_mul(unit);
            let process = st[S_PROCESSES].var()? as usize;
            let op_id = st[S_OPERATIONS].var()?;
            st[S_FLAGS].var()?;
            let nt = st[S_TAGS].count(1)?;
            for _ in 0..nt {
                let code = st[S_TAGS].var()?;
                if v2 {
                    if code & 1 == 0 {
                        let vid = st[S_TAG_STRINGS].var()?;
                        for (i, tg) in tags.iter().enumerate() {
                            tag_hit[i] |= code >> 1 == u64::from(tg.key)
                                && tg.value.is_some_and(|x| u64::from(x) == vid);
                        }
                    } else {
                        skip_value(&mut st[S_TAG_VALUES], 0)?;
                        for (i, tg) in tags.iter().enumerate() {
                            tag_hit[i] |= code >> 1 == u64::from(tg.key);
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
                        tag_hit[i] = true;
                    }
                }
            }
            let l = &mut st[S_LOGS];
            let nl = l.count(2)?;
            for _ in 0..nl {
                l.var()?;
                key_hits(l, &tags, &mut tag_hit)?;
            }
            let w = &mut st[S_WARNINGS];
            let nw = w.count(1)?;
            for _ in 0..nw {
                w.var()?;
            }
            let scope = st[S_SCOPES].var()? as usize;
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

/// Reads a `kvs` (log fields, link attributes), marking tags whose key it
/// holds (a prefilter: values there are checked by the caller).
fn key_hits(
    c: &mut Cursor<'_>,
    tags: &[ResolvedTag],
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
/// link, process or scope attribute in the page carries its key): does
/// any span have all of them? Reads the three tag columns only — the
/// other columns are decompressed just for pages that pass. `true` when
/// the page is v1 or the shortcut does not apply.
fn span_tags_may_match(streams: &Streams<'_>, tags: &[ResolvedTag]) -> Result<bool, SegmentError> {
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
    let mut st =
        streams.cursors(&|i| matches!(i, S_TAGS | S_TAG_STRINGS | S_TAG_VALUES | S_TRACE_SPANS))?;
    let mut spans = 0u64;
    for _ in 0..streams.trace_count {
        spans = spans.saturating_add(st[S_TRACE_SPANS].var()?);
    }
    let mut hit = vec![false; tags.len()];
    for _ in 0..spans {
        hit.iter_mut().for_each(|h| *h = false);
        let n = st[S_TAGS].count(1)?;
        for _ in 0..n {
            let code = st[S_TAGS].var()?;
            if code & 1 == 0 {
                let vid = st[S_TAG_STRINGS].var()?;
                for (i, tg) in tags.iter().enumerate() {
                    hit[i] |= code >> 1 == u64::from(tg.key)
                        && tg.value.is_some_and(|x| u64::from(x) == vid);
                }
            } else {
                skip_value(&mut st[S_TAG_VALUES], 0)?;
                for (i, tg) in tags.iter().enumerate() {
                    hit[i] |= code >> 1 == u64::from(tg.key);
                }
            }
        }
        if hit.iter().all(|&h| h) {
            return Ok(true);
        }
    }
    Ok(false)
}
