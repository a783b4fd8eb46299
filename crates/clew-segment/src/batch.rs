//! A self-contained encoding of one batch of spans: the payload of a WAL
//! record. Same columns and value encoding as a block page, with the
//! batch's own string/process tables in front, uncompressed (the WAL is
//! written once and read only on restart, so ingest CPU matters more).
//!
//! [`Batch`] is the same bytes kept as they are: the store's head holds
//! these (a few dozen bytes per span, dictionary-coded) instead of decoded
//! spans, and answers reads from them.

use bytes::Bytes;
use clew_model::{Str, TraceId};

use crate::SegmentError;
use crate::codec::{Cursor, Sink};
use crate::page::{
    self, S_OPERATIONS, S_PROCESSES, S_STARTS, S_TAG_VALUES, S_TAGS, SpanFilter, TraceSpans,
};
use crate::streams::{S_TAG_STRINGS, Streams};
use crate::tables::{TableBuilder, Tables};

/// Encodes traces (spans grouped by trace, see [`crate::group_by_trace`]).
pub fn encode_batch(traces: &[TraceSpans]) -> Vec<u8> {
    // The spans are borrowed until the tables are encoded: the builder's
    // address memo may be used.
    let mut tables = TableBuilder::for_batch();
    let refs: Vec<&TraceSpans> = traces.iter().collect();
    let page = page::encode(&refs, &mut tables, None);
    let t = tables.encode();
    let mut out = Vec::with_capacity(t.len() + page.len() + 10);
    out.put_blob(&t);
    out.put_bytes(&page);
    out
}

/// Decodes what [`encode_batch`] wrote. The spans' strings are slices of
/// `bytes`, so they keep that (compact) buffer alive, nothing else.
pub fn decode_batch(bytes: Bytes) -> Result<Vec<TraceSpans>, SegmentError> {
    Batch::parse(bytes)?.decode(&|_| true)
}

/// One trace's part of a [`Batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchTrace {
    /// The trace.
    pub id: TraceId,
    /// Its spans in this batch.
    pub spans: u32,
    /// Earliest span start in this batch (Unix ns).
    pub min_start: u64,
    /// Latest span start in this batch (Unix ns).
    pub max_start: u64,
}

/// An encoded batch, checked and indexed but not decoded into spans:
/// its tables are decoded (strings are slices of the batch's bytes) and
/// its traces listed; spans are built only for the traces a read asks for.
#[derive(Debug)]
pub struct Batch {
    bytes: Bytes,
    pub(crate) page_at: usize,
    pub(crate) tables: Tables,
    traces: Vec<BatchTrace>,
}

/// So an `Arc<Batch>` can be a block writer's source
/// ([`crate::SharedBatch`]).
impl AsRef<Batch> for Batch {
    fn as_ref(&self) -> &Batch {
        self
    }
}

impl Batch {
    /// Checks the framing, decodes the tables and lists the traces (IDs,
    /// span counts, start range) by reading two columns only.
    pub fn parse(bytes: Bytes) -> Result<Batch, SegmentError> {
        let mut c = Cursor::new(&bytes, "batch");
        let t = c.blob()?;
        let page_at = c.position();
        let mut tables = Tables::decode(bytes.slice(page_at - t.len()..page_at))?;
        tables.scan_only = true;
        let streams = Streams::open(&bytes[page_at..])?;
        let mut st = streams.cursors(&|_| true)?;
        let mut heads = streams.heads();
        let unit = streams.unit;
        let mut traces = Vec::with_capacity(streams.trace_count);
        for _ in 0..streams.trace_count {
            let (id, n, start) = heads.next(&mut st)?;
            if n > st[S_STARTS].remaining() as u64 {
                return Err(SegmentError::Corrupt("span count"));
            }
            let (mut lo, mut hi) = (u64::MAX, 0);
            for _ in 0..n {
                let s = start.saturating_add(st[S_STARTS].var()?.saturating_mul(unit));
                lo = lo.min(s);
                hi = hi.max(s);
            }
            if n > 0 {
                traces.push(BatchTrace {
                    id,
                    spans: n as u32,
                    min_start: lo,
                    max_start: hi,
                });
            }
        }
        Ok(Batch {
            bytes,
            page_at,
            tables,
            traces,
        })
    }

    /// The encoded bytes (what the WAL record holds).
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The traces of the batch, in batch order.
    pub fn traces(&self) -> &[BatchTrace] {
        &self.traces
    }

    /// Bytes this batch keeps in memory: the record, its strings'
    /// positions and its trace list (what a head's memory budget counts).
    pub fn held_bytes(&self) -> u64 {
        (self.bytes.len()
            + self.tables.strings.len() * 8
            + self.traces.len() * std::mem::size_of::<BatchTrace>()) as u64
    }

    /// Spans in the batch.
    pub fn span_count(&self) -> u64 {
        self.traces.iter().map(|t| u64::from(t.spans)).sum()
    }

    pub(crate) fn page(&self) -> &[u8] {
        &self.bytes[self.page_at..]
    }

    /// Builds the traces `want` accepts (the others are skipped over).
    pub fn decode(&self, want: &dyn Fn(TraceId) -> bool) -> Result<Vec<TraceSpans>, SegmentError> {
        page::decode(self.page(), &self.tables, want)
    }

    /// What a service graph needs of every span, read from four columns
    /// (`None` for a batch of the v1 page layout: decode it instead).
    pub fn dependency_spans(&self) -> Result<Option<Vec<crate::TraceDeps>>, SegmentError> {
        let streams = Streams::open(self.page())?;
        crate::deps::dependency_spans(&streams, &self.tables)
    }

    /// IDs of traces with a span passing the prefilter (see [`SpanFilter`]:
    /// the caller re-checks what it builds from them).
    pub fn candidates(&self, filter: &SpanFilter<'_>) -> Result<Vec<TraceId>, SegmentError> {
        crate::candidates::candidates(self.page(), &self.tables, filter)
    }

    /// Distinct `(service, operation, span.kind)` of the batch's spans
    /// (kind `""` when the first `span.kind` tag is absent or not a
    /// string, as [`clew_model::Span::kind_tag`]), read from four columns.
    pub fn operations(&self) -> Result<Vec<(Str, Str, Str)>, SegmentError> {
        let streams = Streams::open(self.page())?;
        let v2 = streams.v2;
        let mut st = streams.cursors(&|_| true)?;
        let kind_key = self.tables.find(clew_model::keys::SPAN_KIND);
        let spans = self.span_count();
        let mut seen: crate::tables::FastSet<(u64, u64, Option<u64>)> = Default::default();
        for _ in 0..spans {
            let process = st[S_PROCESSES].var()?;
            let op = st[S_OPERATIONS].var()?;
            let n = st[S_TAGS].count(1)?;
            // None: no span.kind tag yet; Some(None): first one not a string.
            let mut kind: Option<Option<u64>> = None;
            for _ in 0..n {
                let code = st[S_TAGS].var()?;
                let v = &mut st[S_TAG_VALUES];
                let (key, string_value) = if !v2 {
                    let is_str = v.clone_peek_u8()? == 0;
                    if is_str {
                        v.u8()?;
                        (code, Some(v.var()?))
                    } else {
                        page::skip_value(v, 0)?;
                        (code, None)
                    }
                } else if code & 1 == 0 {
                    (code >> 1, Some(st[S_TAG_STRINGS].var()?))
                } else {
                    page::skip_value(v, 0)?;
                    (code >> 1, None)
                };
                if kind.is_none() && kind_key.is_some_and(|kk| u64::from(kk) == key) {
                    kind = Some(string_value);
                }
            }
            seen.insert((process, op, kind.flatten()));
        }
        let empty = Str::from("");
        let mut out = Vec::with_capacity(seen.len());
        for (p, op, kind) in seen {
            let process = self
                .tables
                .processes
                .get(p as usize)
                .ok_or(SegmentError::Corrupt("process index"))?;
            let string = |i: u64| {
                self.tables
                    .strings
                    .get(i as usize)
                    .ok_or(SegmentError::Corrupt("string index"))
            };
            let kind = match kind {
                Some(k) => string(k)?,
                None => empty.clone(),
            };
            out.push((process.service_name.clone(), string(op)?, kind));
        }
        Ok(out)
    }
}
