//! What a transcoder reads: sources (a WAL batch, or one page of a block
//! decompressed) and the dictionaries their indexes point into.
//!
//! A source's string, process and scope indexes are the dictionary's: a
//! WAL batch carries its own tables, while every page of a block shares
//! the block's. The map from a dictionary's indexes to the block being
//! written lives with the dictionary, not the source, so compaction fills
//! it once per input block rather than once per page.

use std::sync::Arc;

use bytes::Bytes;
use clew_model::TraceId;

use crate::SegmentError;
use crate::batch::Batch;
use crate::codec::Cursor;
use crate::page::{S_SPAN_IDS, S_TAG_VALUES, TraceSkip};
use crate::streams::{S_INLINE_TAGS, S_TAG_STRINGS, STREAMS_V2, STREAMS_V3, Streams, TraceHeads};
use crate::tables::{FastSet, TableBuilder, Tables, V_INLINE, V_INLINE_TAG, V_STR};

/// A dictionary index not yet given a block index.
pub(super) const UNKNOWN: u32 = u32::MAX;

/// A WAL batch a block writer reads spans from.
pub type SharedBatch = Arc<dyn AsRef<Batch> + Send + Sync>;

/// The decoded tables a source's indexes point into.
pub(crate) enum TablesRef {
    /// A WAL batch's own tables.
    Batch(SharedBatch),
    /// A block's tables, shared by all its pages.
    Block(Arc<Tables>),
}

impl TablesRef {
    pub(super) fn get(&self) -> &Tables {
        match self {
            TablesRef::Batch(b) => &(**b).as_ref().tables,
            TablesRef::Block(t) => t,
        }
    }
}

pub(crate) fn corrupt(what: &'static str) -> SegmentError {
    SegmentError::Corrupt(what)
}

/// One dictionary and what its indexes are in the block being written.
pub(crate) struct Dictionary {
    pub(super) tables: TablesRef,
    /// Dictionary string index → block string index (or [`UNKNOWN`]).
    pub(super) strings: Vec<u32>,
    pub(super) processes: Vec<u32>,
    pub(super) scopes: Vec<u32>,
    /// The dictionary's string index of `span.kind`, if it holds that
    /// string (tag keys are always table strings).
    pub(super) kind_key: Option<u32>,
    /// `(process, operation, kind string or UNKNOWN)` already given to the
    /// block's service and operation lists.
    pub(super) ops_seen: FastSet<(u32, u32, u32)>,
}

impl Dictionary {
    pub(crate) fn new(tables: TablesRef) -> Dictionary {
        let t = tables.get();
        let kind_key = t
            .strings
            .texts()
            .position(|s| s == clew_model::keys::SPAN_KIND)
            .map(|i| i as u32);
        Dictionary {
            strings: vec![UNKNOWN; t.strings.len()],
            processes: vec![UNKNOWN; t.processes.len()],
            scopes: vec![UNKNOWN; t.scopes.len()],
            kind_key,
            ops_seen: FastSet::default(),
            tables,
        }
    }
}

/// One trace of a source: its header and where its spans start.
pub(crate) struct SourceTrace {
    pub(crate) id: TraceId,
    pub(super) spans: u32,
    pub(super) start: u64,
    /// Each column's position at the trace's first span.
    at: [u32; STREAMS_V3],
}

/// One batch, or one block page, opened for a writer: its columns, where
/// each of its traces starts in them, and its dictionary.
pub(crate) struct Source {
    /// Column `i` is stream `i` of the page (raw bytes of the batch's
    /// record, or a block page's streams decompressed).
    columns: Vec<Bytes>,
    pub(super) unit: u64,
    traces: Vec<SourceTrace>,
    /// Its dictionary, by the writer's number.
    pub(super) dict: u32,
}

impl Source {
    /// Opens a WAL batch (page layout v2, columns stored raw, so they are
    /// slices of the record) whose tables are dictionary `dict`.
    pub(crate) fn open_batch(batch: &SharedBatch, dict: u32) -> Result<Source, SegmentError> {
        let b: &Batch = (**batch).as_ref();
        let page = b.page();
        let streams = Streams::open(page)?;
        if streams.v3 {
            return Err(corrupt("batch in block page layout"));
        }
        let ranges = streams
            .raw_ranges(page)
            .ok_or(corrupt("batch columns not stored raw"))?;
        if ranges.len() < STREAMS_V2 {
            return Err(corrupt("page stream count"));
        }
        let page_at = b.page_at;
        let columns = ranges
            .into_iter()
            .map(|r| b.bytes().slice(page_at + r.start..page_at + r.end))
            .collect();
        let (unit, trace_count) = (streams.unit, streams.trace_count);
        Source::walk(columns, unit, trace_count, streams.heads(), dict)
    }

    /// Opens one page of a block (its section as stored, already checked)
    /// whose tables are dictionary `dict`. Only the v3 layout is read
    /// (its tags' in-place strings have their own stream); a block of an
    /// older format version is written from its decoded spans instead.
    pub(crate) fn open_page(raw: &[u8], dict: u32) -> Result<Source, SegmentError> {
        let streams = Streams::open(raw)?;
        if !streams.v3 {
            return Err(corrupt("page layout older than format v3"));
        }
        let (unit, trace_count, heads) = (streams.unit, streams.trace_count, streams.heads());
        let columns: Vec<Bytes> = streams
            .into_columns()?
            .into_iter()
            .map(Bytes::from)
            .collect();
        Source::walk(columns, unit, trace_count, heads, dict)
    }

    /// Walks the columns once to find where each trace starts (traces
    /// without spans are left out, as a decode leaves them out).
    fn walk(
        columns: Vec<Bytes>,
        unit: u64,
        trace_count: usize,
        mut heads: TraceHeads,
        dict: u32,
    ) -> Result<Source, SegmentError> {
        let mut st: Vec<Cursor<'_>> = columns
            .iter()
            .map(|c| Cursor::new(c, "page column"))
            .collect();
        let skip = TraceSkip::of(&st, true);
        let mut traces = Vec::with_capacity(trace_count);
        for _ in 0..trace_count {
            let (id, n, start) = heads.next(&mut st)?;
            if n > (st[S_SPAN_IDS].remaining() / 8) as u64 {
                return Err(corrupt("span count"));
            }
            let mut at = [0u32; STREAMS_V3];
            for (a, c) in at.iter_mut().zip(st.iter()) {
                *a = u32::try_from(c.position()).map_err(|_| corrupt("page column size"))?;
            }
            skip.trace(&mut st, n)?;
            if n > 0 {
                traces.push(SourceTrace {
                    id,
                    spans: n as u32,
                    start,
                    at,
                });
            }
        }
        drop(st);
        Ok(Source {
            columns,
            unit,
            traces,
            dict,
        })
    }

    pub(crate) fn traces(&self) -> &[SourceTrace] {
        &self.traces
    }

    /// Trace `t` of the source.
    pub(super) fn trace(&self, t: u32) -> Result<&SourceTrace, SegmentError> {
        self.traces.get(t as usize).ok_or(corrupt("trace part"))
    }

    /// Cursors at the first span of `trace`, one per column.
    pub(super) fn cursors(&self, trace: &SourceTrace) -> Vec<Cursor<'_>> {
        self.columns
            .iter()
            .zip(trace.at.iter())
            .map(|(c, &at)| Cursor::at(c, at as usize, "page column"))
            .collect()
    }
}

/// A string value as a decode sees it: one of the dictionary's, or one
/// written in place (block pages), which only its content names.
#[derive(Clone, Copy)]
pub(super) enum StrRef<'a> {
    Table(u64),
    Text(&'a str),
}

fn utf8(b: &[u8]) -> Result<&str, SegmentError> {
    std::str::from_utf8(b).map_err(|_| corrupt("string is not UTF-8"))
}

/// Reads a span tag's value (`code` from the tag column) when it is a
/// string — what `Tables::tags_v2` turns into `Value::Str` — advancing
/// past it; `None` (nothing read) for any other value.
pub(super) fn tag_string<'a>(
    st: &mut [Cursor<'a>],
    code: u64,
) -> Result<Option<StrRef<'a>>, SegmentError> {
    if code & 1 == 0 {
        return Ok(Some(StrRef::Table(st[S_TAG_STRINGS].var()?)));
    }
    let values = &mut st[S_TAG_VALUES];
    match values.clone_peek_u8()? {
        V_STR => {
            values.u8()?;
            Ok(Some(StrRef::Table(values.var()?)))
        }
        V_INLINE => {
            values.u8()?;
            Ok(Some(StrRef::Text(utf8(values.blob()?)?)))
        }
        V_INLINE_TAG => {
            values.u8()?;
            let len = usize::try_from(values.var()?).map_err(|_| corrupt("string length"))?;
            let inline = st
                .get_mut(S_INLINE_TAGS)
                .ok_or(corrupt("in-place tag string"))?;
            Ok(Some(StrRef::Text(utf8(inline.take(len)?)?)))
        }
        _ => Ok(None),
    }
}

/// Calls `f` with each top-level string value of one span's logs,
/// advancing the logs column past them.
pub(super) fn log_strings<'a>(
    logs: &mut Cursor<'a>,
    f: &mut dyn FnMut(StrRef<'a>) -> Result<(), SegmentError>,
) -> Result<(), SegmentError> {
    let n = logs.count(2)?;
    for _ in 0..n {
        logs.zigzag()?;
        let m = logs.count(2)?;
        for _ in 0..m {
            logs.var()?;
            match logs.clone_peek_u8()? {
                V_STR => {
                    logs.u8()?;
                    f(StrRef::Table(logs.var()?))?;
                }
                V_INLINE => {
                    logs.u8()?;
                    f(StrRef::Text(utf8(logs.blob()?)?))?;
                }
                _ => crate::page::skip_value(logs, 0)?,
            }
        }
    }
    Ok(())
}

/// The string at dictionary index `i` as text.
pub(super) fn text(tables: &Tables, i: u64) -> Result<&str, SegmentError> {
    tables
        .strings
        .text(i as usize)
        .ok_or(corrupt("string index"))
}

/// The text of a string value.
pub(super) fn text_of<'a>(tables: &'a Tables, s: StrRef<'a>) -> Result<&'a str, SegmentError> {
    match s {
        StrRef::Table(i) => text(tables, i),
        StrRef::Text(t) => Ok(t),
    }
}

/// Block index of dictionary string `i` (interned on first use).
pub(super) fn string_id(
    map: &mut [u32],
    tables: &Tables,
    i: u64,
    builder: &mut TableBuilder,
) -> Result<u32, SegmentError> {
    let slot = map.get_mut(i as usize).ok_or(corrupt("string index"))?;
    if *slot == UNKNOWN {
        *slot = builder.string(text(tables, i)?);
    }
    Ok(*slot)
}

/// Is string value `s` new to the block's tables? Answers its length if
/// so; notes a dictionary string's block index when it is not.
pub(super) fn is_new(
    map: &mut [u32],
    tables: &Tables,
    s: StrRef<'_>,
    builder: &TableBuilder,
) -> Result<Option<usize>, SegmentError> {
    let i = match s {
        StrRef::Text(t) => return Ok((!builder.has_string(t)).then_some(t.len())),
        StrRef::Table(i) => i,
    };
    let slot = map.get_mut(i as usize).ok_or(corrupt("string index"))?;
    if *slot != UNKNOWN {
        return Ok(None);
    }
    let s = text(tables, i)?;
    match builder.lookup(s) {
        Some(id) => {
            *slot = id;
            Ok(None)
        }
        None => Ok(Some(s.len())),
    }
}

/// Where one of a span's string tag values goes.
pub(super) enum Resolved {
    Table(u32),
    Inline,
}

/// Where string tag value `s` goes: in place when the page writes it so
/// (only a string not in the tables when the page began can be), else
/// its table index.
pub(super) fn resolve(
    map: &mut [u32],
    tables: &Tables,
    s: StrRef<'_>,
    builder: &mut TableBuilder,
    page_first: u32,
) -> Result<Resolved, SegmentError> {
    let i = match s {
        StrRef::Text(t) if builder.is_inline(t) => return Ok(Resolved::Inline),
        StrRef::Text(t) => return Ok(Resolved::Table(builder.string(t))),
        StrRef::Table(i) => i,
    };
    let known = *map.get(i as usize).ok_or(corrupt("string index"))?;
    if known != UNKNOWN && (known < page_first || builder.inline.is_empty()) {
        return Ok(Resolved::Table(known));
    }
    if builder.is_inline(text(tables, i)?) {
        return Ok(Resolved::Inline);
    }
    Ok(Resolved::Table(string_id(map, tables, i, builder)?))
}
