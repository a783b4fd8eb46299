//! Writing WAL batches into a block without building spans (the head's
//! cut).
//!
//! A cut used to decode every span of the head into a [`clew_model::Span`]
//! and encode it again into block pages: 37 % of a disk-store server's CPU
//! under full ingest, most of it allocating the spans and hashing every
//! string twice (docs/benchmarks.md, issue 9). Batch columns and page
//! columns hold the same integers except where they point into the
//! dictionaries — string, process and scope indexes are per batch in a WAL
//! record, per block in a block — and where they depend on the whole trace
//! (start deltas, parent indexes of a trace whose spans came in several
//! batches). A [`Source`] keeps, per batch, its indexes' block indexes,
//! filled the first time each is met, so a repeated string costs an array
//! read, not a hash and a compare; everything else is re-based or copied.
//! Rare parts (links, logs, non-string values) are decoded as values and
//! written by the ordinary encoder.
//!
//! The bytes written are exactly those `page::encode` writes for the
//! decoded spans, in the same order of table entries (a test holds the two
//! paths to that), so nothing downstream can tell which path wrote a block.

use std::ops::Range;
use std::sync::Arc;

use clew_model::{KeyValue, RefType, Str, TraceId};

use crate::SegmentError;
use crate::batch::Batch;
use crate::codec::{Cursor, Sink};
use crate::page::{
    PARENT_EXPLICIT, PARENT_INDEX_BASE, PARENT_NONE, S_DURATIONS, S_FLAGS, S_LOGS, S_OPERATIONS,
    S_PARENTS, S_PROCESSES, S_REFS, S_SCOPES, S_SPAN_IDS, S_STARTS, S_TAG_VALUES, S_TAGS, S_TRACES,
    TraceSkip, assemble, put_runs, skip_tag_value, skip_value,
};
use crate::streams::{
    S_INLINE_TAGS, S_TAG_STRINGS, S_TRACE_PAIRS, S_TRACE_SPANS, S_TRACE_STARTS, STREAMS_V2,
    STREAMS_V3, Streams,
};
use crate::tables::{FastMap, FastSet, TableBuilder, V_STR};

/// A batch index not yet given a block index.
const UNKNOWN: u32 = u32::MAX;

/// A WAL batch a block writer reads spans from.
pub type SharedBatch = Arc<dyn AsRef<Batch> + Send + Sync>;

/// One batch opened for a cut: where each of its traces starts in each
/// column, and what its dictionary indexes are in the block being written.
pub(crate) struct Source {
    batch: SharedBatch,
    /// Each column's bytes within the batch's page.
    ranges: Vec<Range<usize>>,
    unit: u64,
    traces: Vec<SourceTrace>,
    /// Batch string index → block string index (or [`UNKNOWN`]).
    strings: Vec<u32>,
    processes: Vec<u32>,
    scopes: Vec<u32>,
    /// The batch's string index of `span.kind`, if it holds that string.
    kind_key: Option<u32>,
    /// `(process, operation, kind string or UNKNOWN)` already given to the
    /// block's service and operation lists.
    ops_seen: FastSet<(u32, u32, u32)>,
}

/// One trace of a batch: its header and where its spans start.
pub(crate) struct SourceTrace {
    pub(crate) id: TraceId,
    spans: u32,
    start: u64,
    at: [u32; STREAMS_V2],
}

/// A trace to write, as the batch parts holding its spans (in the order a
/// decode would concatenate them: batch by batch).
#[derive(Debug, Clone)]
pub struct RawTrace {
    id: TraceId,
    parts: Vec<(u32, u32)>,
    spans: u32,
    start: u64,
    /// Filled when the writer takes it: latest span start, and whether
    /// every start and duration is whole microseconds.
    max_start: u64,
    micros: bool,
}

impl RawTrace {
    /// The trace.
    pub fn id(&self) -> TraceId {
        self.id
    }

    /// Its earliest span start (Unix ns): traces go to a writer in this
    /// order, ties by ID.
    pub fn start(&self) -> u64 {
        self.start
    }

    pub(crate) fn spans(&self) -> u32 {
        self.spans
    }

    pub(crate) fn max_start(&self) -> u64 {
        self.max_start
    }
}

/// What a block's index needs from one span, read from a batch.
pub(crate) struct SpanFacts {
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// New service / operation entries: `(service, operation, kind)`.
    pub(crate) new_op: Option<(Str, Str, Str)>,
    /// Bytes of string values the block's tables do not hold yet.
    pub(crate) new_bytes: usize,
}

fn corrupt(what: &'static str) -> SegmentError {
    SegmentError::Corrupt(what)
}

impl Source {
    /// Opens a batch: checks its framing and walks its columns once to
    /// find where each trace starts.
    pub(crate) fn open(batch: SharedBatch) -> Result<Source, SegmentError> {
        let b: &Batch = (*batch).as_ref();
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
        let mut st: Vec<Cursor<'_>> = ranges
            .iter()
            .map(|r| Cursor::new(&page[r.clone()], "batch column"))
            .collect();
        let mut heads = streams.heads();
        let skip = TraceSkip::of(&st, true);
        let mut traces = Vec::with_capacity(streams.trace_count);
        for _ in 0..streams.trace_count {
            let (id, n, start) = heads.next(&mut st)?;
            if n > (st[S_SPAN_IDS].remaining() / 8) as u64 {
                return Err(corrupt("span count"));
            }
            let mut at = [0u32; STREAMS_V2];
            for (a, c) in at.iter_mut().zip(st.iter()) {
                *a = c.position() as u32;
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
        let tables = &b.tables;
        let kind_key = tables
            .strings
            .texts()
            .position(|s| s == clew_model::keys::SPAN_KIND)
            .map(|i| i as u32);
        Ok(Source {
            strings: vec![UNKNOWN; tables.strings.len()],
            processes: vec![UNKNOWN; tables.processes.len()],
            scopes: vec![UNKNOWN; tables.scopes.len()],
            unit: streams.unit,
            ranges,
            traces,
            kind_key,
            ops_seen: FastSet::default(),
            batch,
        })
    }

    pub(crate) fn traces(&self) -> &[SourceTrace] {
        &self.traces
    }
}

/// Cursors at the first span of a trace of `batch` (`at`: its positions,
/// `ranges`: the batch's columns).
fn cursors<'b>(batch: &'b Batch, ranges: &[Range<usize>], at: &[u32]) -> Vec<Cursor<'b>> {
    let page = batch.page();
    ranges
        .iter()
        .zip(at.iter())
        .map(|(r, &at)| {
            Cursor::at(
                page.get(r.clone()).unwrap_or_default(),
                at as usize,
                "batch column",
            )
        })
        .collect()
}

/// The string at batch index `i` as text.
fn text(batch: &Batch, i: u64) -> Result<&str, SegmentError> {
    batch
        .tables
        .strings
        .text(i as usize)
        .ok_or(corrupt("string index"))
}

/// Block index of batch string `i` (interned on first use).
fn string_id(
    map: &mut [u32],
    batch: &Batch,
    i: u64,
    tables: &mut TableBuilder,
) -> Result<u32, SegmentError> {
    let slot = map.get_mut(i as usize).ok_or(corrupt("string index"))?;
    if *slot == UNKNOWN {
        *slot = tables.string(text(batch, i)?);
    }
    Ok(*slot)
}

/// Is batch string `i` (a value) new to the block's tables? Notes its
/// block index when it is not.
fn is_new(
    map: &mut [u32],
    batch: &Batch,
    i: u64,
    tables: &TableBuilder,
) -> Result<Option<usize>, SegmentError> {
    let slot = map.get_mut(i as usize).ok_or(corrupt("string index"))?;
    if *slot != UNKNOWN {
        return Ok(None);
    }
    let s = text(batch, i)?;
    match tables.lookup(s) {
        Some(id) => {
            *slot = id;
            Ok(None)
        }
        None => Ok(Some(s.len())),
    }
}

/// Calls `f` with the batch index of each top-level string value of one
/// span's logs, advancing the logs column past them.
fn log_strings(
    logs: &mut Cursor<'_>,
    f: &mut dyn FnMut(u64) -> Result<(), SegmentError>,
) -> Result<(), SegmentError> {
    let n = logs.count(2)?;
    for _ in 0..n {
        logs.zigzag()?;
        let m = logs.count(2)?;
        for _ in 0..m {
            logs.var()?;
            if logs.clone_peek_u8()? == V_STR {
                logs.u8()?;
                f(logs.var()?)?;
            } else {
                skip_value(logs, 0)?;
            }
        }
    }
    Ok(())
}

/// Where one of a span's string tag values goes.
enum Resolved {
    Table(u32),
    Inline,
}

/// The state of a block writer that transcoding works on.
pub(crate) struct Transcoder<'w> {
    pub(crate) sources: &'w mut [Source],
    pub(crate) tables: &'w mut TableBuilder,
}

/// Describes trace `id` from its parts (`(source, trace)`).
pub(crate) fn raw_trace(
    sources: &[Source],
    id: TraceId,
    parts: Vec<(u32, u32)>,
) -> Result<RawTrace, SegmentError> {
    let mut spans = 0u32;
    let mut start = u64::MAX;
    for &(s, t) in &parts {
        let tr = sources
            .get(s as usize)
            .and_then(|src| src.traces.get(t as usize))
            .ok_or(corrupt("trace part"))?;
        if tr.id != id {
            return Err(corrupt("trace part"));
        }
        spans = spans.saturating_add(tr.spans);
        start = start.min(tr.start);
    }
    Ok(RawTrace {
        id,
        parts,
        spans,
        start: if spans == 0 { 0 } else { start },
        max_start: 0,
        micros: true,
    })
}

impl Transcoder<'_> {
    /// Reads what the block index needs of every span of `t` (and fills
    /// its latest start and time unit), calling `f` per span.
    pub(crate) fn facts(
        &mut self,
        t: &mut RawTrace,
        f: &mut dyn FnMut(SpanFacts),
    ) -> Result<(), SegmentError> {
        let mut max_start = 0;
        let mut micros = true;
        for &(s, ti) in &t.parts {
            let src = &mut self.sources[s as usize];
            let batch = src.batch.clone();
            let batch: &Batch = (*batch).as_ref();
            let mut c = cursors(batch, &src.ranges, &src.traces[ti as usize].at);
            let tr = &src.traces[ti as usize];
            let (n, base) = (tr.spans, tr.start);
            for _ in 0..n {
                c[S_SPAN_IDS].take(8)?;
                crate::page::skip_parents(&mut c, 1, true)?;
                let start = base.saturating_add(c[S_STARTS].var()?.saturating_mul(src.unit));
                let duration = c[S_DURATIONS].var()?.saturating_mul(src.unit);
                micros &= start % 1000 == 0 && duration % 1000 == 0;
                max_start = max_start.max(start);
                let process = c[S_PROCESSES].var()?;
                let op = c[S_OPERATIONS].var()?;
                c[S_FLAGS].var()?;
                let mut kind: Option<u32> = None;
                let mut new_bytes = 0;
                let nt = c[S_TAGS].count(1)?;
                for _ in 0..nt {
                    let code = c[S_TAGS].var()?;
                    let is_kind = kind.is_none() && src.kind_key == Some((code >> 1) as u32);
                    if code & 1 == 0 {
                        let v = c[S_TAG_STRINGS].var()?;
                        if is_kind {
                            kind = Some(v as u32);
                        }
                        new_bytes += is_new(&mut src.strings, batch, v, self.tables)?.unwrap_or(0);
                    } else {
                        if is_kind {
                            kind = Some(UNKNOWN);
                        }
                        skip_tag_value(&mut c)?;
                    }
                }
                let (strings, tables) = (&mut src.strings, &*self.tables);
                log_strings(&mut c[S_LOGS], &mut |v| {
                    new_bytes += is_new(strings, batch, v, tables)?.unwrap_or(0);
                    Ok(())
                })?;
                c[S_SCOPES].var()?;
                let nw = c[crate::page::S_WARNINGS].count(1)?;
                c[crate::page::S_WARNINGS].skip_vars(nw as u64)?;
                let key = (process as u32, op as u32, kind.unwrap_or(UNKNOWN));
                let new_op = if src.ops_seen.insert(key) {
                    let svc = batch
                        .tables
                        .processes
                        .get(process as usize)
                        .ok_or(corrupt("process index"))?
                        .service_name
                        .clone();
                    let op = Str::from(text(batch, op)?);
                    let kind = match kind {
                        Some(k) if k != UNKNOWN => Str::from(text(batch, u64::from(k))?),
                        _ => Str::from(""),
                    };
                    Some((svc, op, kind))
                } else {
                    None
                };
                f(SpanFacts {
                    start,
                    end: start.saturating_add(duration),
                    new_op,
                    new_bytes,
                });
            }
        }
        t.max_start = max_start;
        t.micros = micros;
        Ok(())
    }

    /// String values of span tags and log fields that occur once in the
    /// page and are not in the block's tables (as `page::once_seen`).
    fn once_seen(&mut self, run: &[RawTrace]) -> Result<FastSet<Str>, SegmentError> {
        let mut counts: FastMap<Str, u32> = FastMap::default();
        for t in run {
            for &(s, ti) in &t.parts {
                let src = &mut self.sources[s as usize];
                let batch = src.batch.clone();
                let batch: &Batch = (*batch).as_ref();
                let mut c = cursors(batch, &src.ranges, &src.traces[ti as usize].at);
                let n = src.traces[ti as usize].spans;
                let tables = &*self.tables;
                let mut count = |strings: &mut [u32], v: u64| -> Result<(), SegmentError> {
                    if is_new(strings, batch, v, tables)?.is_some() {
                        *counts.entry(Str::from(text(batch, v)?)).or_default() += 1;
                    }
                    Ok(())
                };
                for _ in 0..n {
                    let nt = c[S_TAGS].count(1)?;
                    for _ in 0..nt {
                        if c[S_TAGS].var()? & 1 == 0 {
                            let v = c[S_TAG_STRINGS].var()?;
                            count(&mut src.strings, v)?;
                        } else {
                            skip_tag_value(&mut c)?;
                        }
                    }
                    let strings = &mut src.strings;
                    log_strings(&mut c[S_LOGS], &mut |v| count(strings, v))?;
                }
            }
        }
        Ok(counts
            .into_iter()
            .filter(|&(_, n)| n == 1)
            .map(|(s, _)| s)
            .collect())
    }

    /// Encodes a page of whole traces (block layout, v3), as
    /// `page::encode` would from their decoded spans.
    pub(crate) fn encode_page(
        &mut self,
        run: &[RawTrace],
        level: Option<i32>,
    ) -> Result<Vec<u8>, SegmentError> {
        let micros = run.iter().all(|t| t.micros);
        let unit = if micros { 1000 } else { 1 };
        let span_count: usize = run.iter().map(|t| t.spans as usize).sum();
        let mut st: Vec<Vec<u8>> = (0..STREAMS_V3).map(|_| Vec::new()).collect();
        self.tables.inline = self.once_seen(run)?;
        // Strings added from here on may be ones the page writes in place.
        let page_first = self.tables.string_count();
        st[S_SPAN_IDS].reserve(span_count * 8);
        let mut prev_start = 0u64;
        for t in run {
            let start = t.start;
            st[S_TRACES].put_u64(t.id.high);
            st[S_TRACES].put_u64(t.id.low);
            st[S_TRACE_SPANS].put_var(u64::from(t.spans));
            st[S_TRACE_STARTS].put_zigzag((start / unit).wrapping_sub(prev_start) as i64);
            prev_start = start / unit;
            let first_index = if t.parts.len() > 1 {
                Some(self.first_index(t)?)
            } else {
                None
            };
            self.tables.take_noted();
            for &(s, ti) in &t.parts {
                self.encode_part(&mut st, t, (s, ti), unit, page_first, first_index.as_ref())?;
            }
            put_runs(&mut st[S_TRACE_PAIRS], &self.tables.take_noted());
        }
        self.tables.inline.clear();
        Ok(assemble(&st, run.len(), micros, true, level))
    }

    /// Span ID → index of its first span in the merged trace.
    fn first_index(&self, t: &RawTrace) -> Result<FastMap<u64, usize>, SegmentError> {
        let mut out = FastMap::with_capacity_and_hasher(t.spans as usize, Default::default());
        let mut i = 0;
        for &(s, ti) in &t.parts {
            let src = &self.sources[s as usize];
            let batch: &Batch = (*src.batch).as_ref();
            let mut c = cursors(batch, &src.ranges, &src.traces[ti as usize].at);
            for _ in 0..src.traces[ti as usize].spans {
                out.entry(c[S_SPAN_IDS].u64()?).or_insert(i);
                i += 1;
            }
        }
        Ok(out)
    }

    fn encode_part(
        &mut self,
        st: &mut [Vec<u8>],
        t: &RawTrace,
        (s, ti): (u32, u32),
        unit: u64,
        page_first: u32,
        first_index: Option<&FastMap<u64, usize>>,
    ) -> Result<(), SegmentError> {
        let tables = &mut *self.tables;
        let src = &mut self.sources[s as usize];
        let batch = src.batch.clone();
        let batch: &Batch = (*batch).as_ref();
        let mut c = cursors(batch, &src.ranges, &src.traces[ti as usize].at);
        let ids = c[S_SPAN_IDS];
        let tr = &src.traces[ti as usize];
        let (n, base) = (tr.spans, tr.start);
        for _ in 0..n {
            let span_id = c[S_SPAN_IDS].u64()?;
            st[S_SPAN_IDS].put_u64(span_id);
            match (c[S_PARENTS].var()?, first_index) {
                (PARENT_NONE, _) => st[S_PARENTS].put_var(PARENT_NONE),
                (PARENT_EXPLICIT, fi) => {
                    let refs = read_refs(&mut c[S_REFS], batch)?;
                    let index = match (fi, refs.as_slice()) {
                        (Some(fi), [(RefType::ChildOf, trace, parent, tags)])
                            if *trace == t.id && tags.is_empty() =>
                        {
                            fi.get(parent).copied()
                        }
                        _ => None,
                    };
                    match index {
                        Some(i) => st[S_PARENTS].put_var(PARENT_INDEX_BASE + i as u64),
                        None => {
                            st[S_PARENTS].put_var(PARENT_EXPLICIT);
                            write_refs(&mut st[S_REFS], tables, &refs);
                        }
                    }
                }
                // One batch's spans only: the trace is the batch's, so is
                // the index.
                (code, None) => st[S_PARENTS].put_var(code),
                (code, Some(fi)) => {
                    let mut at = ids;
                    at.take(((code - PARENT_INDEX_BASE) as usize).saturating_mul(8))?;
                    let parent = at.u64()?;
                    match fi.get(&parent) {
                        Some(&i) => st[S_PARENTS].put_var(PARENT_INDEX_BASE + i as u64),
                        None => {
                            st[S_PARENTS].put_var(PARENT_EXPLICIT);
                            let r = (RefType::ChildOf, t.id, parent, Vec::new());
                            write_refs(&mut st[S_REFS], tables, std::slice::from_ref(&r));
                        }
                    }
                }
            }
            let start = base.saturating_add(c[S_STARTS].var()?.saturating_mul(src.unit));
            let duration = c[S_DURATIONS].var()?.saturating_mul(src.unit);
            st[S_STARTS].put_var((start - t.start) / unit);
            st[S_DURATIONS].put_var(duration / unit);
            let pi = c[S_PROCESSES].var()? as usize;
            let p = match src.processes.get(pi) {
                Some(&p) if p != UNKNOWN => p,
                Some(_) => {
                    let p = tables.process(&batch.tables.processes[pi]);
                    src.processes[pi] = p;
                    p
                }
                None => return Err(corrupt("process index")),
            };
            st[S_PROCESSES].put_var(u64::from(p));
            let op = string_id(&mut src.strings, batch, c[S_OPERATIONS].var()?, tables)?;
            st[S_OPERATIONS].put_var(u64::from(op));
            st[S_FLAGS].put_var(c[S_FLAGS].var()?);
            let nt = c[S_TAGS].count(1)?;
            let mut codes = std::mem::take(&mut st[S_TAGS]);
            let mut strings = std::mem::take(&mut st[S_TAG_STRINGS]);
            let mut values = std::mem::take(&mut st[S_TAG_VALUES]);
            let mut inline = std::mem::take(&mut st[S_INLINE_TAGS]);
            codes.put_var(nt as u64);
            let mut deferred = tables.start_tags();
            for _ in 0..nt {
                let code = c[S_TAGS].var()?;
                let key = string_id(&mut src.strings, batch, code >> 1, tables)?;
                if code & 1 == 0 {
                    let v = c[S_TAG_STRINGS].var()?;
                    match resolve(&mut src.strings, batch, v, tables, page_first)? {
                        Resolved::Table(v) => {
                            tables.put_tag_string(&mut codes, &mut strings, key, v, &mut deferred)
                        }
                        Resolved::Inline => {
                            let value = text(batch, v)?;
                            let kv = KeyValue::string(text(batch, code >> 1)?, value);
                            tables.put_tag_inline(
                                &mut codes,
                                &mut values,
                                &mut inline,
                                key,
                                &kv,
                                value,
                            );
                        }
                    }
                } else {
                    let value = batch.tables.value(&mut c[S_TAG_VALUES], 0)?;
                    let kv = KeyValue::new(text(batch, code >> 1)?, value);
                    tables.put_tag_other(&mut codes, &mut values, key, &kv);
                }
            }
            tables.finish_tags(deferred);
            st[S_TAGS] = codes;
            st[S_TAG_STRINGS] = strings;
            st[S_TAG_VALUES] = values;
            st[S_INLINE_TAGS] = inline;
            let nl = c[S_LOGS].count(2)?;
            st[S_LOGS].put_var(nl as u64);
            for _ in 0..nl {
                st[S_LOGS].put_zigzag(c[S_LOGS].zigzag()?);
                let fields = batch.tables.kvs(&mut c[S_LOGS], 0)?;
                tables.put_kvs(&mut st[S_LOGS], &fields);
            }
            let scope = match c[S_SCOPES].var()? {
                0 => None,
                n => {
                    let si = (n - 1) as usize;
                    Some(match src.scopes.get(si) {
                        Some(&sc) if sc != UNKNOWN => sc,
                        Some(_) => {
                            let sc = tables.scope(&batch.tables.scopes[si]);
                            src.scopes[si] = sc;
                            sc
                        }
                        None => return Err(corrupt("scope index")),
                    })
                }
            };
            st[S_SCOPES].put_var(scope.map_or(0, |s| u64::from(s) + 1));
            tables.note_process(p, scope);
            let w = crate::page::S_WARNINGS;
            let nw = c[w].count(1)?;
            st[w].put_var(nw as u64);
            for _ in 0..nw {
                let id = string_id(&mut src.strings, batch, c[w].var()?, tables)?;
                st[w].put_var(u64::from(id));
            }
        }
        Ok(())
    }
}

/// Where string tag value `v` goes: in place when the page writes it so
/// (only a string not in the tables when the page began can be), else
/// its table index.
fn resolve(
    map: &mut [u32],
    batch: &Batch,
    v: u64,
    tables: &mut TableBuilder,
    page_first: u32,
) -> Result<Resolved, SegmentError> {
    let known = *map.get(v as usize).ok_or(corrupt("string index"))?;
    if known != UNKNOWN && (known < page_first || tables.inline.is_empty()) {
        return Ok(Resolved::Table(known));
    }
    let s = text(batch, v)?;
    if tables.is_inline(s) {
        return Ok(Resolved::Inline);
    }
    Ok(Resolved::Table(string_id(map, batch, v, tables)?))
}

type RefParts = (RefType, TraceId, u64, Vec<KeyValue>);

fn read_refs(c: &mut Cursor<'_>, batch: &Batch) -> Result<Vec<RefParts>, SegmentError> {
    let n = c.count(25)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let ref_type = match c.u8()? {
            0 => RefType::ChildOf,
            1 => RefType::FollowsFrom,
            _ => return Err(corrupt("reference type")),
        };
        let trace = TraceId::new(c.u64()?, c.u64()?);
        let span = c.u64()?;
        let tags = batch.tables.kvs(c, 0)?;
        out.push((ref_type, trace, span, tags));
    }
    Ok(out)
}

fn write_refs(out: &mut Vec<u8>, tables: &mut TableBuilder, refs: &[RefParts]) {
    out.put_var(refs.len() as u64);
    for (ref_type, trace, span, tags) in refs {
        out.put_u8(match ref_type {
            RefType::ChildOf => 0,
            RefType::FollowsFrom => 1,
        });
        out.put_u64(trace.high);
        out.put_u64(trace.low);
        out.put_u64(*span);
        tables.put_kvs(out, tags);
    }
}
