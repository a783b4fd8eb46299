//! Writing a block from encoded columns without building spans: the
//! head's cut (WAL batches) and compaction (pages of other blocks).
//!
//! Both used to decode every span into a [`clew_model::Span`] and encode
//! it again into block pages: the cut was 37 % of a disk-store server's
//! CPU under full ingest, most of it allocating the spans and hashing
//! every string twice (docs/benchmarks.md, issue 9), and compaction cost
//! about as much again. Source columns and page columns hold the same
//! integers except where they point into the dictionaries — string,
//! process and scope indexes are per batch in a WAL record, per block in
//! a block — and where they depend on the whole trace (start deltas,
//! parent indexes of a trace whose spans came from several sources). A
//! [`Dictionary`] keeps, per batch or per input block, its indexes'
//! indexes in the block being written, filled the first time each is
//! met, so a repeated string costs an array read, not a hash and a
//! compare; everything else is re-based or copied. A block page may also
//! hold strings written in place (seen once in their page): those are
//! strings by content, resolved as the decoded path sees them. Rare parts
//! (links, logs, non-string values) are decoded as values and written by
//! the ordinary encoder.
//!
//! The bytes written are exactly those `page::encode` writes for the
//! decoded spans, in the same order of table entries (tests hold the two
//! paths to that for the cut and for compaction), so nothing downstream
//! can tell which path wrote a block.

mod part;
mod source;

use clew_model::{Str, TraceId};

use crate::SegmentError;
use crate::codec::Sink;
use crate::page::{
    S_DURATIONS, S_FLAGS, S_LOGS, S_OPERATIONS, S_PROCESSES, S_SCOPES, S_SPAN_IDS, S_STARTS,
    S_TAG_VALUES, S_TAGS, S_TRACES, S_WARNINGS, assemble, put_runs, skip_parents, skip_value,
};
use crate::streams::{S_TRACE_PAIRS, S_TRACE_SPANS, S_TRACE_STARTS, STREAMS_V3};
use crate::tables::{FastMap, FastSet, TableBuilder, Tables};

pub use source::SharedBatch;
pub(crate) use source::{Dictionary, Source, TablesRef};
use source::{StrRef, UNKNOWN, corrupt, is_new, log_strings, tag_string, text, text_of};

/// A trace to write, as the source parts holding its spans (in the order
/// a decode would concatenate them: source by source).
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
    /// Whether a span tag or log field holds a string the block's tables
    /// lacked when the writer took the trace (true until it is taken):
    /// the tables only grow, so a trace without one has none in
    /// [`Transcoder::once_seen`] either, and is not read again there.
    new_strings: bool,
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

    /// Does one of its parts come from source `s`?
    pub(crate) fn reads(&self, s: u32) -> bool {
        self.parts.iter().any(|&(p, _)| p == s)
    }
}

/// What a block's index needs from one span, read from its columns.
pub(crate) struct SpanFacts {
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// New service / operation entries: `(service, operation, kind)`.
    pub(crate) new_op: Option<(Str, Str, Str)>,
    /// Bytes of string values the block's tables do not hold yet.
    pub(crate) new_bytes: usize,
}

/// Source `s`, if it is open.
fn source(sources: &[Option<Source>], s: u32) -> Result<&Source, SegmentError> {
    sources
        .get(s as usize)
        .and_then(Option::as_ref)
        .ok_or(corrupt("trace part"))
}

fn dictionary(dicts: &mut [Dictionary], d: u32) -> Result<&mut Dictionary, SegmentError> {
    dicts
        .get_mut(d as usize)
        .ok_or(corrupt("source dictionary"))
}

/// Describes trace `id` from its parts (`(source, trace)`).
pub(crate) fn raw_trace(
    sources: &[Option<Source>],
    id: TraceId,
    parts: Vec<(u32, u32)>,
) -> Result<RawTrace, SegmentError> {
    let mut spans = 0u32;
    let mut start = u64::MAX;
    for &(s, t) in &parts {
        let tr = source(sources, s)?.trace(t)?;
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
        new_strings: true,
    })
}

/// The first `span.kind` tag of a span, as far as the operations list
/// cares.
#[derive(Clone, Copy)]
enum Kind<'a> {
    Unset,
    Str(StrRef<'a>),
    /// Not a string: the kind is `""`.
    Other,
}

/// A service / operation / kind entry for the block's index.
fn op_entry(
    tables: &Tables,
    process: u64,
    op: u64,
    kind: &str,
) -> Result<(Str, Str, Str), SegmentError> {
    let svc = tables
        .processes
        .get(process as usize)
        .ok_or(corrupt("process index"))?
        .service_name
        .clone();
    Ok((svc, Str::from(text(tables, op)?), Str::from(kind)))
}

/// The state of a block writer that transcoding works on.
pub(crate) struct Transcoder<'w> {
    pub(crate) sources: &'w [Option<Source>],
    pub(crate) dicts: &'w mut [Dictionary],
    pub(crate) tables: &'w mut TableBuilder,
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
        let mut new_strings = false;
        for &(s, ti) in &t.parts {
            let src = source(self.sources, s)?;
            let tr = src.trace(ti)?;
            let mut c = src.cursors(tr);
            let Dictionary {
                tables,
                strings,
                kind_key,
                ops_seen,
                ..
            } = dictionary(self.dicts, src.dict)?;
            let tables = tables.get();
            let builder = &*self.tables;
            for _ in 0..tr.spans {
                c[S_SPAN_IDS].take(8)?;
                skip_parents(&mut c, 1, true)?;
                let start = tr
                    .start
                    .saturating_add(c[S_STARTS].var()?.saturating_mul(src.unit));
                let duration = c[S_DURATIONS].var()?.saturating_mul(src.unit);
                micros &= start % 1000 == 0 && duration % 1000 == 0;
                max_start = max_start.max(start);
                let process = c[S_PROCESSES].var()?;
                let op = c[S_OPERATIONS].var()?;
                c[S_FLAGS].var()?;
                let mut kind = Kind::Unset;
                let mut new_bytes = 0;
                let nt = c[S_TAGS].count(1)?;
                for _ in 0..nt {
                    let code = c[S_TAGS].var()?;
                    let is_kind =
                        matches!(kind, Kind::Unset) && *kind_key == Some((code >> 1) as u32);
                    match tag_string(&mut c, code)? {
                        Some(v) => {
                            if is_kind {
                                kind = Kind::Str(v);
                            }
                            if let Some(n) = is_new(strings, tables, v, builder)? {
                                new_strings = true;
                                new_bytes += n;
                            }
                        }
                        None => {
                            if is_kind {
                                kind = Kind::Other;
                            }
                            skip_value(&mut c[S_TAG_VALUES], 0)?;
                        }
                    }
                }
                log_strings(&mut c[S_LOGS], &mut |v| {
                    if let Some(n) = is_new(strings, tables, v, builder)? {
                        new_strings = true;
                        new_bytes += n;
                    }
                    Ok(())
                })?;
                c[S_SCOPES].var()?;
                let nw = c[S_WARNINGS].count(1)?;
                c[S_WARNINGS].skip_vars(nw as u64)?;
                let new_op = match kind {
                    // A kind written in place (seen once in its page) is
                    // rare enough to be looked up every time.
                    Kind::Str(StrRef::Text(k)) => Some(op_entry(tables, process, op, k)?),
                    _ => {
                        let k = match kind {
                            Kind::Str(StrRef::Table(k)) => k as u32,
                            _ => UNKNOWN,
                        };
                        if ops_seen.insert((process as u32, op as u32, k)) {
                            let kind = if k == UNKNOWN {
                                ""
                            } else {
                                text(tables, u64::from(k))?
                            };
                            Some(op_entry(tables, process, op, kind)?)
                        } else {
                            None
                        }
                    }
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
        t.new_strings = new_strings;
        Ok(())
    }

    /// String values of span tags and log fields that occur once in the
    /// page and are not in the block's tables (as `page::once_seen`).
    fn once_seen(&mut self, run: &[RawTrace]) -> Result<FastSet<Str>, SegmentError> {
        let mut counts: FastMap<Str, u32> = FastMap::default();
        for t in run.iter().filter(|t| t.new_strings) {
            for &(s, ti) in &t.parts {
                let src = source(self.sources, s)?;
                let tr = src.trace(ti)?;
                let mut c = src.cursors(tr);
                let dict = dictionary(self.dicts, src.dict)?;
                let (tables, strings) = (dict.tables.get(), &mut dict.strings);
                let builder = &*self.tables;
                let mut count = |strings: &mut [u32], v: StrRef<'_>| -> Result<(), SegmentError> {
                    if is_new(strings, tables, v, builder)?.is_some() {
                        *counts.entry(Str::from(text_of(tables, v)?)).or_default() += 1;
                    }
                    Ok(())
                };
                for _ in 0..tr.spans {
                    let nt = c[S_TAGS].count(1)?;
                    for _ in 0..nt {
                        let code = c[S_TAGS].var()?;
                        match tag_string(&mut c, code)? {
                            Some(v) => count(strings, v)?,
                            None => skip_value(&mut c[S_TAG_VALUES], 0)?,
                        }
                    }
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
            let src = source(self.sources, s)?;
            let tr = src.trace(ti)?;
            let mut c = src.cursors(tr);
            for _ in 0..tr.spans {
                out.entry(c[S_SPAN_IDS].u64()?).or_insert(i);
                i += 1;
            }
        }
        Ok(out)
    }
}
