//! Reading a block, one byte range at a time (sans-I/O).
//!
//! The caller owns the I/O: it fetches [`Footer::range`], then the index
//! range the footer names, then only the page ranges a query needs. The same
//! calls work over a local file, an object store or a byte slice.

use bytes::Bytes;
use clew_model::TraceId;

use crate::SegmentError;
use crate::codec::{crc, decompress};
use crate::index::{BlockIndex, Footer, PageRef, SectionRef};
use crate::page::{self, TraceSpans};
use crate::tables::Tables;

/// Checks and decodes the index bytes the footer points at.
pub fn read_index(footer: &Footer, bytes: &[u8]) -> Result<BlockIndex, SegmentError> {
    if bytes.len() != footer.index.len as usize {
        return Err(SegmentError::Truncated("index"));
    }
    if crc(bytes) != footer.index.crc {
        return Err(SegmentError::Checksum("index"));
    }
    BlockIndex::decode(bytes, footer.version)
}

pub(crate) fn section<'a>(
    section: &SectionRef,
    stored: &'a [u8],
    what: &'static str,
) -> Result<std::borrow::Cow<'a, [u8]>, SegmentError> {
    if stored.len() != section.len as usize {
        return Err(SegmentError::Truncated(what));
    }
    if crc(stored) != section.crc {
        return Err(SegmentError::Checksum(what));
    }
    // v2 pages are stored raw (their streams are compressed one by one):
    // read them in place.
    if stored.first() == Some(&0) && stored.len() == section.raw_len as usize + 1 {
        return Ok(std::borrow::Cow::Borrowed(&stored[1..]));
    }
    decompress(stored, section.raw_len as usize).map(std::borrow::Cow::Owned)
}

/// Checks and decodes the tables section ([`BlockIndex::tables`]).
pub fn read_tables(index: &BlockIndex, stored: &[u8]) -> Result<Tables, SegmentError> {
    let raw = section(&index.tables, stored, "tables")?;
    Tables::decode(Bytes::from(raw.into_owned()))
}

/// Checks and decodes one page; only traces `want` accepts are built.
pub fn read_page(
    page: &PageRef,
    stored: &[u8],
    tables: &Tables,
    want: &dyn Fn(TraceId) -> bool,
) -> Result<Vec<TraceSpans>, SegmentError> {
    let raw = section(&page.section, stored, "page")?;
    page::decode(&raw, tables, want)
}

/// Checks and decodes one page, building only the traces with a span that
/// passes the prefilter `filter` (see [`crate::SpanFilter`]); the caller
/// applies the exact rule to what comes back.
pub fn read_page_filtered(
    page: &PageRef,
    stored: &[u8],
    tables: &Tables,
    filter: &crate::SpanFilter<'_>,
) -> Result<Vec<TraceSpans>, SegmentError> {
    let raw = section(&page.section, stored, "page")?;
    let streams = crate::streams::Streams::open(&raw)?;
    let ids = crate::candidates::candidates_streams(&streams, tables, filter)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: std::collections::HashSet<TraceId> = ids.into_iter().collect();
    page::decode_streams(&streams, tables, &|id| ids.contains(&id))
}

/// Checks a page and summarises, from its columns and without building
/// spans, the traces with a span that passes `filter` — exactly the traces
/// with a span matching it when the filter has no tags (tags are a
/// prefilter, see [`crate::SpanFilter`]). `None` for a page of the v1
/// layout, which the caller decodes instead.
pub fn read_page_summaries(
    page: &PageRef,
    stored: &[u8],
    tables: &Tables,
    filter: &crate::SpanFilter<'_>,
) -> Result<Option<Vec<crate::PageTraceSummary>>, SegmentError> {
    let raw = section(&page.section, stored, "page")?;
    let streams = crate::streams::Streams::open(&raw)?;
    if !streams.v2 {
        return Ok(None);
    }
    let ids = crate::candidates::candidates_streams(&streams, tables, filter)?;
    if ids.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let ids: std::collections::HashSet<TraceId> = ids.into_iter().collect();
    crate::summary::summaries(&streams, tables, &|id| ids.contains(&id))
}

/// Checks a page and reads what a service graph needs of each of its
/// spans from four columns, without building spans. `None` for a page of
/// the v1 layout, which the caller decodes instead.
pub fn read_page_dependency_spans(
    page: &PageRef,
    stored: &[u8],
    tables: &Tables,
) -> Result<Option<Vec<crate::TraceDeps>>, SegmentError> {
    let raw = section(&page.section, stored, "page")?;
    let streams = crate::streams::Streams::open(&raw)?;
    crate::deps::dependency_spans(&streams, tables)
}

/// Checks a page and lists its trace IDs without decoding its spans.
pub fn read_page_trace_ids(page: &PageRef, stored: &[u8]) -> Result<Vec<TraceId>, SegmentError> {
    let raw = section(&page.section, stored, "page")?;
    page::trace_ids(&raw)
}

/// Checks a page and lists its traces with their earliest span start,
/// without decoding spans, in the order — and so at the positions — a
/// block writer's source of the page lists them
/// ([`crate::BlockWriter::source_traces`]; traces without spans are left
/// out). Compaction orders what it merges by these.
pub fn read_page_trace_starts(
    page: &PageRef,
    stored: &[u8],
) -> Result<Vec<(TraceId, u64)>, SegmentError> {
    let raw = section(&page.section, stored, "page")?;
    page::trace_starts(&raw)
}

/// A whole block decoded from its bytes (for tools and tests; the store
/// reads ranges instead).
#[derive(Clone, Debug)]
pub struct DecodedBlock {
    /// The footer.
    pub footer: Footer,
    /// The index.
    pub index: BlockIndex,
    /// Every trace, in trace-ID order.
    pub traces: Vec<TraceSpans>,
}

fn slice(bytes: &[u8], r: std::ops::Range<u64>) -> Result<&[u8], SegmentError> {
    let (s, e) = (r.start as usize, r.end as usize);
    if r.end > bytes.len() as u64 || s > e {
        return Err(SegmentError::Truncated("section outside the file"));
    }
    Ok(&bytes[s..e])
}

/// Decodes and verifies every section of a block held in memory.
pub fn decode_block(bytes: &[u8]) -> Result<DecodedBlock, SegmentError> {
    if bytes.get(..8) != Some(crate::BLOCK_MAGIC.as_slice()) {
        return Err(SegmentError::BadMagic("block header"));
    }
    let footer = Footer::decode(slice(bytes, Footer::range(bytes.len() as u64)?)?)?;
    let index = read_index(&footer, slice(bytes, footer.index.range())?)?;
    let tables = read_tables(&index, slice(bytes, index.tables.range())?)?;
    let mut traces = Vec::new();
    for p in &index.pages {
        traces.extend(read_page(
            p,
            slice(bytes, p.section.range())?,
            &tables,
            &|_| true,
        )?);
    }
    Ok(DecodedBlock {
        footer,
        index,
        traces,
    })
}

/// Stored bytes of each stream of one page, in stream order (for tools
/// that show where a block's bytes go; v1 pages report raw stream sizes).
pub fn page_stream_sizes(page: &PageRef, stored: &[u8]) -> Result<Vec<usize>, SegmentError> {
    let raw = section(&page.section, stored, "page")?;
    Ok(crate::streams::Streams::open(&raw)?.stored_sizes())
}

/// Can a trace of `page` (of the block these tables belong to) carry every
/// `(key, value text)` of `tags`? Answered from the index and tables alone
/// (format v3 pair runs), so a search skips the page without reading it;
/// `true` when they cannot tell (older blocks, keys with values other than
/// table strings).
pub fn page_may_hold_tags(page: &PageRef, tables: &Tables, tags: &[(&str, &str)]) -> bool {
    if page.pair_runs.is_none() {
        return true;
    }
    tags.iter().all(|&(k, v)| {
        let Some(key) = tables.find(k) else {
            return false;
        };
        if !tables.pairs_cover(key) {
            return true;
        }
        tables
            .find(v)
            .and_then(|value| tables.pair_id(key, value))
            .is_some_and(|id| page.may_hold_pair(id))
    })
}
