//! Builds a block file from traces (sans-I/O: returns the bytes).

use std::collections::HashSet;

use clew_model::{Str, TraceId, Value};

use crate::SegmentError;
use crate::codec::{Sink, compress, crc};
use crate::filter::{BloomFilter, tag_hash, trace_hash};
use crate::index::{
    BLOCK_MAGIC, BlockIndex, FORMAT_VERSION, Footer, IndexedOperation, PageRef, SectionRef,
};
use crate::page::{self, TraceSpans};
use crate::tables::{FastMap, FastSet, TableBuilder};
use crate::transcode::{Dictionary, RawTrace, Source};

mod raw;

/// Choices a writer makes per block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockOptions {
    /// A page is closed after the trace that takes it past this many spans.
    /// Smaller pages make trace-by-ID read less; larger ones compress better.
    pub page_spans: usize,
    /// zstd level for pages and tables.
    pub zstd_level: i32,
    /// Compaction level written into the index.
    pub level: u32,
    /// Writer's watermark ([`BlockIndex::source_seq`]).
    pub source_seq: u64,
    /// Blocks this one replaces ([`BlockIndex::replaces`]).
    pub replaces: Vec<u64>,
    /// Trace IDs the writer already stored elsewhere; traces of this block
    /// among them are counted in [`BlockIndex::shared_traces`].
    pub known_traces: Option<std::sync::Arc<HashSet<TraceId>>>,
}

impl Default for BlockOptions {
    fn default() -> Self {
        BlockOptions {
            page_spans: 4096,
            zstd_level: 3,
            level: 0,
            source_seq: 0,
            replaces: Vec::new(),
            known_traces: None,
        }
    }
}

/// A finished block: its bytes and the index already inside them.
#[derive(Clone, Debug)]
pub struct EncodedBlock {
    /// The file from `offset` to its end: the whole file unless the writer
    /// handed the bytes before `offset` out already
    /// ([`BlockWriter::take_bytes`]).
    pub bytes: Vec<u8>,
    /// Where `bytes` starts in the file.
    pub offset: u64,
    /// Its index (as a reader would decode it).
    pub index: BlockIndex,
}

impl EncodedBlock {
    /// The file's length.
    pub fn file_len(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }

    /// The stored tables section, when it lies in `bytes` (it always does:
    /// the tables are written by [`BlockWriter::finish`]).
    pub fn tables_bytes(&self) -> Option<&[u8]> {
        self.bytes.get(self.tables_range_in_bytes()?)
    }

    /// Where the stored tables section lies within `bytes`.
    pub fn tables_range_in_bytes(&self) -> Option<std::ops::Range<usize>> {
        let r = self.index.tables.range();
        let start = usize::try_from(r.start.checked_sub(self.offset)?).ok()?;
        let end = usize::try_from(r.end.checked_sub(self.offset)?).ok()?;
        (start <= end && end <= self.bytes.len()).then_some(start..end)
    }
}

/// Merges entries of the same trace (keeping the spans' relative order),
/// so a trace is stored once per block, then orders traces by start time
/// (ties by ID): pages then cover narrow time ranges, which lets a search
/// skip pages outside its window and read the newest first.
fn normalise(mut traces: Vec<TraceSpans>) -> Vec<TraceSpans> {
    traces.sort_by_key(|t| t.id);
    let mut out: Vec<TraceSpans> = Vec::with_capacity(traces.len());
    for t in traces {
        match out.last_mut() {
            Some(last) if last.id == t.id => last.spans.extend(t.spans),
            _ if t.spans.is_empty() => {}
            _ => out.push(t),
        }
    }
    out.sort_by_cached_key(|t| (t.spans.iter().map(|s| s.start_time).min(), t.id));
    out
}

/// Operations seen so far: service → name → span kinds.
type Ops = FastMap<Str, FastMap<Str, FastSet<Str>>>;

/// Encodes traces as one block.
pub fn write_block(traces: Vec<TraceSpans>, opts: &BlockOptions) -> EncodedBlock {
    let mut w = BlockWriter::new(opts.clone());
    for t in normalise(traces) {
        w.push(t);
    }
    w.finish()
}

/// Writes a block from traces handed over one at a time, so a writer
/// (compaction merging blocks, the head being cut) holds one page of
/// traces, not the whole block: decoded spans ([`BlockWriter::push`]) or
/// the encoded columns they are read from ([`BlockWriter::push_raw`],
/// which writes the same bytes). Traces must come whole, once each, in
/// order of their earliest span start (ties by ID), as [`write_block`]
/// sorts them.
pub struct BlockWriter {
    opts: BlockOptions,
    /// The file's bytes not yet taken by [`BlockWriter::take_bytes`]…
    bytes: Vec<u8>,
    /// …which start at this offset in the file.
    taken: u64,
    tables: TableBuilder,
    index: BlockIndex,
    services: FastSet<Str>,
    ops: Ops,
    pending: Vec<TraceSpans>,
    pending_spans: usize,
    /// Bytes of the pending traces' string values the block's tables do
    /// not hold yet (what the page will write in place, about).
    pending_new_bytes: usize,
    /// WAL batches and block pages traces are read from
    /// ([`BlockWriter::push_raw`]); `None` once released.
    sources: Vec<Option<Source>>,
    /// The tables the sources' indexes point into (a batch's own, or a
    /// block's, shared by its pages).
    dicts: Vec<Dictionary>,
    /// Sources released while a pending trace still reads them: dropped
    /// once its page is written.
    retiring: Vec<u32>,
    /// Traces pushed raw, waiting for their page (a page holds traces
    /// pushed one way only).
    pending_raw: Vec<RawTrace>,
    /// The first error reading a source; the block must not be stored.
    failed: Option<SegmentError>,
}

/// A page is also closed once its traces carry this many bytes of string
/// values new to the block: pages of high-cardinality values (SQL with
/// literals, URLs with IDs) stay small enough that reading one trace does
/// not decompress megabytes, while pages of repeated values (tracegen)
/// are closed by `page_spans` alone.
const PAGE_NEW_STRING_BYTES: usize = 256 * 1024;

impl BlockWriter {
    /// An empty block with these options.
    pub fn new(opts: BlockOptions) -> BlockWriter {
        let mut bytes = Vec::with_capacity(64 * 1024);
        bytes.put_bytes(BLOCK_MAGIC);
        let index = BlockIndex {
            level: opts.level,
            source_seq: opts.source_seq,
            replaces: opts.replaces.clone(),
            min_start: u64::MAX,
            ..BlockIndex::default()
        };
        BlockWriter {
            opts,
            bytes,
            taken: 0,
            tables: TableBuilder::for_block(),
            index,
            services: FastSet::default(),
            ops: Ops::default(),
            pending: Vec::new(),
            pending_spans: 0,
            pending_new_bytes: 0,
            sources: Vec::new(),
            dicts: Vec::new(),
            retiring: Vec::new(),
            pending_raw: Vec::new(),
            failed: None,
        }
    }

    /// Bytes of finished pages not yet taken by [`BlockWriter::take_bytes`].
    pub fn pending_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Hands out the file's bytes written so far (the header and finished
    /// pages), so a caller can store them as it goes (a multipart upload)
    /// instead of holding the whole block: a merged block of high-entropy
    /// spans is hundreds of MB. Pages come first in the file and never
    /// change once written; [`BlockWriter::finish`] returns the rest.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        let out = std::mem::take(&mut self.bytes);
        self.taken += out.len() as u64;
        out
    }

    /// Spans added so far.
    pub fn span_count(&self) -> u64 {
        self.index.span_count + self.pending_spans as u64
    }

    /// Adds one whole trace (see the type's ordering rule).
    pub fn push(&mut self, t: TraceSpans) {
        if t.spans.is_empty() {
            return;
        }
        if !self.pending_raw.is_empty() {
            self.flush_page();
        }
        for s in &t.spans {
            add_span_times(&mut self.index, s.start_time, s.end_time());
            let kind: &str = match s.tag(clew_model::keys::SPAN_KIND) {
                Some(Value::Str(k)) => k,
                _ => "",
            };
            add_operation(
                &mut self.services,
                &mut self.ops,
                &s.process.service_name,
                &s.operation_name,
                kind,
            );
        }
        let mut new_bytes = 0;
        for s in &t.spans {
            let logs = s.logs.iter().flat_map(|l| l.fields.iter());
            for kv in s.tags.iter().chain(logs) {
                if let Value::Str(v) = &kv.value
                    && !self.tables.has_string(v)
                {
                    new_bytes += v.len();
                }
            }
        }
        let (id, spans) = (t.id, t.spans.len());
        self.pending.push(t);
        self.queued(id, spans, new_bytes);
    }

    /// Counts a trace just queued for the next page (its `spans` and the
    /// `new_bytes` of string values the tables lack) and writes the page
    /// once it is full. Both ways of pushing a trace end here.
    fn queued(&mut self, id: TraceId, spans: usize, new_bytes: usize) {
        if self
            .opts
            .known_traces
            .as_ref()
            .is_some_and(|k| k.contains(&id))
        {
            self.index.shared_traces += 1;
        }
        self.index.trace_count += 1;
        self.pending_spans += spans;
        self.pending_new_bytes += new_bytes;
        if self.pending_spans >= self.opts.page_spans.max(1)
            || self.pending_new_bytes >= PAGE_NEW_STRING_BYTES
        {
            self.flush_page();
        }
    }

    fn flush_page(&mut self) {
        if !self.pending_raw.is_empty() {
            return self.flush_raw_page();
        }
        if self.pending.is_empty() {
            return;
        }
        let run: Vec<&TraceSpans> = self.pending.iter().collect();
        // v2 pages compress each stream on their own; the page section
        // itself is stored raw (marker 0).
        let raw = page::encode(&run, &mut self.tables, Some(self.opts.zstd_level));
        let page_spans = || run.iter().flat_map(|t| t.spans.iter());
        let ids: Vec<TraceId> = run.iter().map(|t| t.id).collect();
        let min_start = page_spans().map(|s| s.start_time).min().unwrap_or(0);
        let max_start = page_spans().map(|s| s.start_time).max().unwrap_or(0);
        self.add_page(&raw, &ids, min_start, max_start);
        self.pending.clear();
    }

    /// Stores an encoded page and indexes it.
    fn add_page(&mut self, raw: &[u8], ids: &[TraceId], min_start: u64, max_start: u64) {
        let section = append_section(&mut self.bytes, self.taken, raw, None);
        let page_no = self.index.pages.len() as u32;
        let (hashes, pairs) = self
            .tables
            .tag_index
            .as_mut()
            .map(|ix| {
                (
                    std::mem::take(&mut ix.page_hashes),
                    std::mem::take(&mut ix.page_pairs),
                )
            })
            .unwrap_or_default();
        let pair_runs = id_runs(pairs);
        let inline_tags = (!hashes.is_empty()).then(|| {
            let mut f = BloomFilter::with_capacity(hashes.len());
            for h in hashes {
                f.insert(h);
            }
            f
        });
        for &id in ids {
            self.index
                .trace_table
                .push(((trace_hash(id) >> 32) as u32, page_no));
        }
        self.index.pages.push(PageRef {
            section,
            first_trace: ids.iter().copied().min().unwrap_or_default(),
            last_trace: ids.iter().copied().max().unwrap_or_default(),
            spans: self.pending_spans as u32,
            traces: ids.len() as u32,
            min_start,
            max_start,
            inline_tags,
            pair_runs: Some(pair_runs),
        });
        self.index.span_count += self.pending_spans as u64;
        self.pending_spans = 0;
        self.pending_new_bytes = 0;
    }

    /// Writes the last page, the tables, the index and the footer.
    pub fn finish(mut self) -> EncodedBlock {
        self.flush_page();
        let mut index = self.index;
        if index.span_count == 0 {
            index.min_start = 0;
        }
        let mut services: Vec<Str> = self.services.into_iter().collect();
        services.sort();
        let mut ops: Vec<(Str, Str, Str)> = Vec::new();
        for (svc, names) in self.ops {
            for (name, kinds) in names {
                for kind in kinds {
                    ops.push((svc.clone(), name.clone(), kind));
                }
            }
        }
        ops.sort();
        index.operations = ops
            .iter()
            .map(|(svc, name, kind)| IndexedOperation {
                service: services.binary_search(svc).unwrap_or(0) as u32,
                name: name.to_string(),
                span_kind: kind.to_string(),
            })
            .collect();
        index.services = services.iter().map(|s| s.to_string()).collect();
        // Attribute keys and key=value pairs, noted by the tables while
        // the pages were encoded (string pairs hashed once each, here).
        let no_tags = crate::tables::TagIndex::default();
        let tag_index = self.tables.tag_index.as_ref().unwrap_or(&no_tags);
        let strings = self.tables.strings();
        let text = |i: u32| strings.get(i as usize).map_or("", |s| &**s);
        let mut keys: Vec<String> = tag_index
            .keys
            .iter()
            .map(|&k| text(k).to_string())
            .collect();
        keys.sort();
        keys.dedup();
        index.tag_keys = keys;
        index.tag_filter =
            BloomFilter::with_capacity(tag_index.pairs.len() + tag_index.other.len());
        for &p in &tag_index.pair_order {
            index
                .tag_filter
                .insert(tag_hash(text((p >> 32) as u32), text(p as u32)));
        }
        for &h in &tag_index.other {
            index.tag_filter.insert(h);
        }
        // v2: the trace table answers "may this block hold trace X" (with
        // fewer false positives); the trace filter is written empty.
        index.trace_filter = BloomFilter::with_capacity(0);
        index.trace_table.sort_unstable();
        let mut bytes = self.bytes;
        let taken = self.taken;
        index.tables = append_section(
            &mut bytes,
            taken,
            &self.tables.encode(),
            Some(self.opts.zstd_level),
        );
        let raw_index = index.encode(FORMAT_VERSION);
        let index_ref = SectionRef {
            offset: taken + bytes.len() as u64,
            len: raw_index.len() as u32,
            raw_len: raw_index.len() as u32,
            crc: crc(&raw_index),
        };
        bytes.put_bytes(&raw_index);
        let footer = Footer {
            version: FORMAT_VERSION,
            index: index_ref,
        };
        bytes.put_bytes(&footer.encode());
        EncodedBlock {
            bytes,
            offset: taken,
            index,
        }
    }
}

/// Widens the block's time range to a span's.
fn add_span_times(index: &mut BlockIndex, start: u64, end: u64) {
    index.min_start = index.min_start.min(start);
    index.max_start = index.max_start.max(start);
    index.max_end = index.max_end.max(end);
}

/// Notes a span's service, operation and span kind for the block index
/// (copying the strings only the first time they are seen).
fn add_operation(services: &mut FastSet<Str>, ops: &mut Ops, svc: &Str, name: &Str, kind: &str) {
    if !services.contains(&**svc) {
        services.insert(svc.clone());
    }
    let names = match ops.get_mut(&**svc) {
        Some(n) => n,
        None => ops.entry(svc.clone()).or_default(),
    };
    let kinds = match names.get_mut(&**name) {
        Some(k) => k,
        None => names.entry(name.clone()).or_default(),
    };
    if !kinds.contains(kind) {
        kinds.insert(Str::from(kind));
    }
}

/// Distinct IDs as sorted runs `(first, count)`. A page's traces note
/// tens of thousands of pair IDs (tracegen: ≈ 10 per span), most of them
/// repeated; the IDs are dense (numbered from 0 in order of first
/// appearance), so marking them in a bitmap and reading it back in order
/// is several times cheaper than sorting them (3.7 % of a disk-store
/// server's CPU under full ingest was that sort).
fn id_runs(mut ids: Vec<u32>) -> Vec<(u32, u32)> {
    let max = ids.iter().copied().max().unwrap_or(0) as usize;
    if ids.len() < 256 || max / 64 > ids.len() * 4 {
        ids.sort_unstable();
        ids.dedup();
        return page::runs_of(ids);
    }
    let mut bits = vec![0u64; max / 64 + 1];
    for id in ids {
        bits[id as usize / 64] |= 1 << (id % 64);
    }
    page::runs_of(bits.iter().enumerate().flat_map(|(w, &word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            (word != 0).then(|| {
                let bit = word.trailing_zeros();
                word &= word - 1;
                w as u32 * 64 + bit
            })
        })
    }))
}

/// Appends a stored section to `bytes`, which start at file offset `base`.
fn append_section(bytes: &mut Vec<u8>, base: u64, raw: &[u8], level: Option<i32>) -> SectionRef {
    let stored = match level {
        Some(level) => compress(raw, level),
        None => {
            let mut out = Vec::with_capacity(raw.len() + 1);
            out.push(0);
            out.extend_from_slice(raw);
            out
        }
    };
    let section = SectionRef {
        offset: base + bytes.len() as u64,
        len: stored.len() as u32,
        raw_len: raw.len() as u32,
        crc: crc(&stored),
    };
    bytes.put_bytes(&stored);
    section
}

#[cfg(test)]
mod tests {
    use super::id_runs;

    #[test]
    fn id_runs_are_the_sorted_distinct_ids_either_way() {
        let naive = |ids: &[u32]| {
            let mut v = ids.to_vec();
            v.sort_unstable();
            v.dedup();
            let mut runs: Vec<(u32, u32)> = Vec::new();
            for id in v {
                match runs.last_mut() {
                    Some((f, c)) if *f + *c == id => *c += 1,
                    _ => runs.push((id, 1)),
                }
            }
            runs
        };
        let mut x = 12345u64;
        for len in [0usize, 1, 5, 255, 256, 1000, 40_000] {
            for spread in [10u64, 1_000, 200_000] {
                let ids: Vec<u32> = (0..len)
                    .map(|_| {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((x >> 33) % spread) as u32
                    })
                    .collect();
                assert_eq!(
                    id_runs(ids.clone()),
                    naive(&ids),
                    "{len} ids below {spread}"
                );
            }
        }
    }
}
