//! The block index and footer: everything a reader needs to decide whether
//! a block can answer a query, and which byte ranges to fetch if so.

use clew_model::TraceId;

use crate::SegmentError;
use crate::codec::{Cursor, Sink, crc};
use crate::filter::BloomFilter;

/// Magic at the start of every block file.
pub const BLOCK_MAGIC: &[u8; 8] = b"CLEWBLK\0";
/// Magic at the very end of every block file.
pub const FOOTER_MAGIC: &[u8; 8] = b"CLEWEND\0";
/// The format version this crate writes.
pub const FORMAT_VERSION: u32 = 3;
/// Bytes in the fixed footer at the end of a block.
pub const FOOTER_LEN: u64 = 36;

/// Where a section lives in the block file, and how to check it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SectionRef {
    /// Offset from the start of the file.
    pub offset: u64,
    /// Stored (compressed) length.
    pub len: u32,
    /// Length after decompression.
    pub raw_len: u32,
    /// CRC-32 of the stored bytes.
    pub crc: u32,
}

impl SectionRef {
    /// The byte range to fetch.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.offset..self.offset + u64::from(self.len)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.put_var(self.offset);
        out.put_var(u64::from(self.len));
        out.put_var(u64::from(self.raw_len));
        out.put_u32(self.crc);
    }

    fn decode(c: &mut Cursor<'_>) -> Result<Self, SegmentError> {
        let offset = c.var()?;
        let len = u32::try_from(c.var()?).map_err(|_| SegmentError::Corrupt("section"))?;
        let raw_len = u32::try_from(c.var()?).map_err(|_| SegmentError::Corrupt("section"))?;
        Ok(SectionRef {
            offset,
            len,
            raw_len,
            crc: c.u32()?,
        })
    }
}

/// One page: a run of whole traces, in order of trace start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRef {
    /// Where its bytes are.
    pub section: SectionRef,
    /// Smallest trace ID in the page (a bound, not the first trace).
    pub first_trace: TraceId,
    /// Largest trace ID in the page (a bound, not the last trace).
    pub last_trace: TraceId,
    /// Spans in the page.
    pub spans: u32,
    /// Traces in the page.
    pub traces: u32,
    /// Earliest span start (Unix ns).
    pub min_start: u64,
    /// Latest span start (Unix ns).
    pub max_start: u64,
    /// Format v3: `key=value` pairs ([`crate::tag_hash`]) whose string
    /// value this page writes in place rather than in the block's tables
    /// (the block's `tag_filter` does not hold them); `None` when it has
    /// none.
    pub inline_tags: Option<BloomFilter>,
    /// Format v3: the pair IDs (the tables' pair table) any trace of the
    /// page carries, as sorted `(first, count)` runs; `None` before v3.
    pub pair_runs: Option<Vec<(u32, u32)>>,
}

impl PageRef {
    /// Could a span attribute of this page be `key=value` with the value
    /// written in place? (The block's filter answers for the others.)
    pub fn may_hold_inline(&self, hash: u64) -> bool {
        self.inline_tags
            .as_ref()
            .is_some_and(|f| f.may_contain(hash))
    }

    /// Does a trace of this page carry pair `id`? (`true` when the page
    /// predates pair IDs.)
    pub fn may_hold_pair(&self, id: u32) -> bool {
        let Some(runs) = &self.pair_runs else {
            return true;
        };
        let i = runs.partition_point(|&(first, _)| first <= id);
        i > 0 && id - runs[i - 1].0 < runs[i - 1].1
    }
}

/// An operation listed in the index, with its service and span kind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexedOperation {
    /// Index into [`BlockIndex::services`].
    pub service: u32,
    /// Operation name.
    pub name: String,
    /// `span.kind` tag value, or empty.
    pub span_kind: String,
}

/// The index of one block.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BlockIndex {
    /// Spans in the block.
    pub span_count: u64,
    /// Traces (distinct trace IDs) in the block.
    pub trace_count: u64,
    /// Earliest span start, Unix ns.
    pub min_start: u64,
    /// Latest span start, Unix ns.
    pub max_start: u64,
    /// Latest span end, Unix ns.
    pub max_end: u64,
    /// 0 for a block cut from the head; n + 1 after merging level-n blocks.
    pub level: u32,
    /// Opaque watermark the writer uses (the store: the highest WAL segment
    /// whose records are all in this block, so replay can skip them).
    pub source_seq: u64,
    /// Traces of this block that also had spans in the blocks written just
    /// before it (so store-wide trace counts can subtract them).
    pub shared_traces: u64,
    /// IDs of blocks whose spans this block holds (set by compaction, so a
    /// reader that still lists them knows to ignore them).
    pub replaces: Vec<u64>,
    /// Service names, sorted.
    pub services: Vec<String>,
    /// Operations, sorted by service, name, kind.
    pub operations: Vec<IndexedOperation>,
    /// Every attribute key in the block (span, process, log, reference),
    /// sorted.
    pub tag_keys: Vec<String>,
    /// Trace IDs in the block ([`crate::trace_hash`]).
    pub trace_filter: BloomFilter,
    /// `key=value` pairs of span, process and log attributes
    /// ([`crate::tag_hash`]).
    pub tag_filter: BloomFilter,
    /// The shared tables (strings, processes).
    pub tables: SectionRef,
    /// Pages in order of trace start (oldest first).
    pub pages: Vec<PageRef>,
    /// Which page holds each trace: `(upper 32 bits of trace_hash, page)`,
    /// sorted. Trace-by-ID binary-searches it and reads only the pages
    /// listed (a false match needs equal 32-bit hashes).
    pub trace_table: Vec<(u32, u32)>,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.put_blob(s.as_bytes());
}

fn get_str(c: &mut Cursor<'_>) -> Result<String, SegmentError> {
    String::from_utf8(c.blob()?.to_vec()).map_err(|_| SegmentError::Corrupt("index string"))
}

impl BlockIndex {
    /// Pages that may hold `id`.
    pub fn pages_for(&self, id: TraceId) -> Vec<usize> {
        let h = (crate::trace_hash(id) >> 32) as u32;
        let from = self.trace_table.partition_point(|&(x, _)| x < h);
        let mut out: Vec<usize> = self.trace_table[from..]
            .iter()
            .take_while(|&&(x, _)| x == h)
            .map(|&(_, p)| p as usize)
            .filter(|&p| {
                self.pages
                    .get(p)
                    .is_some_and(|pg| pg.first_trace <= id && id <= pg.last_trace)
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Stored bytes of all sections the index points at.
    pub fn data_bytes(&self) -> u64 {
        let pages: u64 = self.pages.iter().map(|p| u64::from(p.section.len)).sum();
        pages + u64::from(self.tables.len)
    }

    /// Could the block hold this trace? (Its trace table names a page.)
    pub fn may_hold(&self, id: TraceId) -> bool {
        // As `pages_for`, without collecting the pages: a search asks this
        // of every block for each of its results.
        let h = (crate::trace_hash(id) >> 32) as u32;
        let from = self.trace_table.partition_point(|&(x, _)| x < h);
        self.trace_table[from..]
            .iter()
            .take_while(|&&(x, _)| x == h)
            .any(|&(_, p)| {
                self.pages
                    .get(p as usize)
                    .is_some_and(|pg| pg.first_trace <= id && id <= pg.last_trace)
            })
    }

    /// Could some attribute in the block be `key=value` ([`crate::tag_hash`])?
    pub fn may_hold_tag(&self, hash: u64) -> bool {
        self.tag_filter.may_contain(hash) || self.pages.iter().any(|p| p.may_hold_inline(hash))
    }

    /// Encodes the index as format `version` lays it out (1 or 2).
    pub(crate) fn encode(&self, version: u32) -> Vec<u8> {
        let mut out = Vec::new();
        out.put_var(self.span_count);
        out.put_var(self.trace_count);
        out.put_u64(self.min_start);
        out.put_u64(self.max_start);
        out.put_u64(self.max_end);
        out.put_var(u64::from(self.level));
        out.put_var(self.source_seq);
        out.put_var(self.shared_traces);
        out.put_var(self.replaces.len() as u64);
        for r in &self.replaces {
            out.put_u64(*r);
        }
        out.put_var(self.services.len() as u64);
        for s in &self.services {
            put_str(&mut out, s);
        }
        out.put_var(self.operations.len() as u64);
        for op in &self.operations {
            out.put_var(u64::from(op.service));
            put_str(&mut out, &op.name);
            put_str(&mut out, &op.span_kind);
        }
        out.put_var(self.tag_keys.len() as u64);
        for k in &self.tag_keys {
            put_str(&mut out, k);
        }
        self.trace_filter.encode(&mut out);
        self.tag_filter.encode(&mut out);
        self.tables.encode(&mut out);
        out.put_var(self.pages.len() as u64);
        for p in &self.pages {
            p.section.encode(&mut out);
            out.put_u64(p.first_trace.high);
            out.put_u64(p.first_trace.low);
            out.put_u64(p.last_trace.high);
            out.put_u64(p.last_trace.low);
            out.put_var(u64::from(p.spans));
            out.put_var(u64::from(p.traces));
            out.put_u64(p.min_start);
            out.put_u64(p.max_start);
        }
        out.put_var(self.trace_table.len() as u64);
        let mut prev = 0u32;
        for &(h, page) in &self.trace_table {
            if version >= 2 {
                // Sorted: the gap to the previous hash, a varint.
                out.put_var(u64::from(h.wrapping_sub(prev)));
                prev = h;
            } else {
                out.put_u32(h);
            }
            out.put_var(u64::from(page));
        }
        if version >= 3 {
            // Per page: its in-place pairs' filter (0 words: none).
            for p in &self.pages {
                match &p.inline_tags {
                    Some(f) => f.encode(&mut out),
                    None => out.put_var(0),
                }
                let runs = p.pair_runs.as_deref().unwrap_or_default();
                out.put_var(runs.len() as u64);
                let mut end = 0u32;
                for &(first, count) in runs {
                    out.put_var(u64::from(first.wrapping_sub(end)));
                    out.put_var(u64::from(count.saturating_sub(1)));
                    end = first.wrapping_add(count);
                }
            }
        }
        out
    }

    /// Decodes an index of format `version` (from the footer).
    pub(crate) fn decode(raw: &[u8], version: u32) -> Result<Self, SegmentError> {
        let mut c = Cursor::new(raw, "index");
        let span_count = c.var()?;
        let trace_count = c.var()?;
        let min_start = c.u64()?;
        let max_start = c.u64()?;
        let max_end = c.u64()?;
        let level = u32::try_from(c.var()?).map_err(|_| SegmentError::Corrupt("level"))?;
        let source_seq = c.var()?;
        let shared_traces = c.var()?;
        let n = c.count(8)?;
        let mut replaces = Vec::with_capacity(n);
        for _ in 0..n {
            replaces.push(c.u64()?);
        }
        let n = c.count(1)?;
        let mut services = Vec::with_capacity(n);
        for _ in 0..n {
            services.push(get_str(&mut c)?);
        }
        let n = c.count(3)?;
        let mut operations = Vec::with_capacity(n);
        for _ in 0..n {
            let service = u32::try_from(c.var()?).map_err(|_| SegmentError::Corrupt("op"))?;
            if service as usize >= services.len() {
                return Err(SegmentError::Corrupt("operation service"));
            }
            operations.push(IndexedOperation {
                service,
                name: get_str(&mut c)?,
                span_kind: get_str(&mut c)?,
            });
        }
        let n = c.count(1)?;
        let mut tag_keys = Vec::with_capacity(n);
        for _ in 0..n {
            tag_keys.push(get_str(&mut c)?);
        }
        let trace_filter = BloomFilter::decode(&mut c)?;
        let tag_filter = BloomFilter::decode(&mut c)?;
        let tables = SectionRef::decode(&mut c)?;
        let n = c.count(40)?;
        let mut pages = Vec::with_capacity(n);
        for _ in 0..n {
            let section = SectionRef::decode(&mut c)?;
            let first_trace = TraceId::new(c.u64()?, c.u64()?);
            let last_trace = TraceId::new(c.u64()?, c.u64()?);
            let spans = u32::try_from(c.var()?).map_err(|_| SegmentError::Corrupt("page"))?;
            let traces = u32::try_from(c.var()?).map_err(|_| SegmentError::Corrupt("page"))?;
            pages.push(PageRef {
                section,
                first_trace,
                last_trace,
                spans,
                traces,
                min_start: c.u64()?,
                max_start: c.u64()?,
                inline_tags: None,
                pair_runs: None,
            });
        }
        let n = c.count(if version >= 2 { 2 } else { 5 })?;
        let mut trace_table = Vec::with_capacity(n);
        let mut prev = 0u32;
        for _ in 0..n {
            let h = if version >= 2 {
                let gap =
                    u32::try_from(c.var()?).map_err(|_| SegmentError::Corrupt("trace table"))?;
                prev = prev
                    .checked_add(gap)
                    .ok_or(SegmentError::Corrupt("trace table order"))?;
                prev
            } else {
                c.u32()?
            };
            let page = u32::try_from(c.var()?).map_err(|_| SegmentError::Corrupt("trace table"))?;
            if page as usize >= pages.len() {
                return Err(SegmentError::Corrupt("trace table page"));
            }
            trace_table.push((h, page));
        }
        if version >= 3 {
            for p in pages.iter_mut() {
                let f = BloomFilter::decode(&mut c)?;
                p.inline_tags = (f.stored_len() > 0).then_some(f);
                let n = c.count(2)?;
                let mut runs = Vec::with_capacity(n);
                let mut end = 0u32;
                for _ in 0..n {
                    let bad = || SegmentError::Corrupt("page pair runs");
                    let gap = u32::try_from(c.var()?).map_err(|_| bad())?;
                    let count = u32::try_from(c.var()?).map_err(|_| bad())?;
                    let first = end.checked_add(gap).ok_or_else(bad)?;
                    end = first
                        .checked_add(count)
                        .and_then(|e| e.checked_add(1))
                        .ok_or_else(bad)?;
                    runs.push((first, count + 1));
                }
                p.pair_runs = Some(runs);
            }
        }
        Ok(BlockIndex {
            trace_table,
            span_count,
            trace_count,
            min_start,
            max_start,
            max_end,
            level,
            source_seq,
            shared_traces,
            replaces,
            services,
            operations,
            tag_keys,
            trace_filter,
            tag_filter,
            tables,
            pages,
        })
    }
}

/// The fixed-size footer: where the index is and which version wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footer {
    /// Format version of the block.
    pub version: u32,
    /// The index section (stored uncompressed: `len == raw_len`).
    pub index: SectionRef,
}

impl Footer {
    /// The byte range of the footer in a file of `file_len` bytes.
    pub fn range(file_len: u64) -> Result<std::ops::Range<u64>, SegmentError> {
        if file_len < FOOTER_LEN + BLOCK_MAGIC.len() as u64 {
            return Err(SegmentError::Truncated("block shorter than its footer"));
        }
        Ok(file_len - FOOTER_LEN..file_len)
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FOOTER_LEN as usize);
        out.put_u64(self.index.offset);
        out.put_u32(self.index.len);
        out.put_u32(self.index.crc);
        out.put_u32(self.version);
        out.put_u32(0);
        let c = crc(&out);
        out.put_u32(c);
        out.put_bytes(FOOTER_MAGIC);
        out
    }

    /// Parses the last [`FOOTER_LEN`] bytes of a block.
    pub fn decode(bytes: &[u8]) -> Result<Self, SegmentError> {
        if bytes.len() != FOOTER_LEN as usize {
            return Err(SegmentError::Truncated("footer"));
        }
        if &bytes[28..] != FOOTER_MAGIC {
            return Err(SegmentError::BadMagic("footer"));
        }
        let mut c = Cursor::new(bytes, "footer");
        let offset = c.u64()?;
        let len = c.u32()?;
        let index_crc = c.u32()?;
        let version = c.u32()?;
        let _reserved = c.u32()?;
        let stored = c.u32()?;
        if crc(&bytes[..24]) != stored {
            return Err(SegmentError::Checksum("footer"));
        }
        if version == 0 || version > FORMAT_VERSION {
            return Err(SegmentError::UnsupportedVersion(version));
        }
        Ok(Footer {
            version,
            index: SectionRef {
                offset,
                len,
                raw_len: len,
                crc: index_crc,
            },
        })
    }
}
