//! Builds a block file from traces (sans-I/O: returns the bytes).

use std::collections::{BTreeSet, HashSet};

use clew_model::{KeyValue, Span, TraceId, Value};

use crate::codec::{Sink, compress, crc};
use crate::filter::{BloomFilter, tag_hash, trace_hash};
use crate::index::{
    BLOCK_MAGIC, BlockIndex, FORMAT_VERSION, Footer, IndexedOperation, PageRef, SectionRef,
};
use crate::page::{self, TraceSpans};
use crate::tables::TableBuilder;

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
    /// The whole file.
    pub bytes: Vec<u8>,
    /// Its index (as a reader would decode it).
    pub index: BlockIndex,
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

/// Adds a tag's `key=value` hash, without allocating for string values.
fn add_tag_hashes(kvs: &[KeyValue], hashes: &mut HashSet<u64>) {
    for kv in kvs {
        let h = match &kv.value {
            Value::Str(s) => tag_hash(&kv.key, s),
            v => tag_hash(&kv.key, &v.to_text()),
        };
        hashes.insert(h);
    }
}

fn add_keys<'a>(kvs: &'a [KeyValue], keys: &mut BTreeSet<&'a str>) {
    for kv in kvs {
        keys.insert(&kv.key);
    }
}

/// Encodes traces as one block.
pub fn write_block(traces: Vec<TraceSpans>, opts: &BlockOptions) -> EncodedBlock {
    let traces = normalise(traces);
    let shared_traces = opts.known_traces.as_ref().map_or(0, |known| {
        traces.iter().filter(|t| known.contains(&t.id)).count() as u64
    });
    let spans = || traces.iter().flat_map(|t| t.spans.iter());
    let mut index = BlockIndex {
        level: opts.level,
        source_seq: opts.source_seq,
        replaces: opts.replaces.clone(),
        shared_traces,
        trace_count: traces.len() as u64,
        span_count: spans().count() as u64,
        min_start: spans().map(|s| s.start_time).min().unwrap_or(0),
        max_start: spans().map(|s| s.start_time).max().unwrap_or(0),
        max_end: spans().map(Span::end_time).max().unwrap_or(0),
        ..BlockIndex::default()
    };

    let mut services: BTreeSet<&str> = BTreeSet::new();
    let mut ops: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    let mut tag_hashes: HashSet<u64> = HashSet::new();
    let mut seen_process: HashSet<*const clew_model::Process> = HashSet::new();
    for s in spans() {
        services.insert(&s.process.service_name);
        ops.insert((&s.process.service_name, &s.operation_name, s.kind_tag()));
        add_keys(&s.tags, &mut keys);
        add_tag_hashes(&s.tags, &mut tag_hashes);
        for l in &s.logs {
            add_keys(&l.fields, &mut keys);
            add_tag_hashes(&l.fields, &mut tag_hashes);
        }
        for r in &s.references {
            add_keys(&r.tags, &mut keys);
            add_tag_hashes(&r.tags, &mut tag_hashes);
        }
        if let Some(scope) = &s.scope {
            add_keys(&scope.attributes, &mut keys);
            add_tag_hashes(&scope.attributes, &mut tag_hashes);
        }
        if seen_process.insert(std::sync::Arc::as_ptr(&s.process)) {
            add_keys(&s.process.tags, &mut keys);
            add_tag_hashes(&s.process.tags, &mut tag_hashes);
        }
    }
    index.services = services.iter().map(|s| s.to_string()).collect();
    index.operations = ops
        .iter()
        .map(|(svc, name, kind)| IndexedOperation {
            service: services.iter().position(|s| s == svc).unwrap_or(0) as u32,
            name: name.to_string(),
            span_kind: kind.to_string(),
        })
        .collect();
    index.tag_keys = keys.iter().map(|k| k.to_string()).collect();
    index.tag_filter = BloomFilter::with_capacity(tag_hashes.len());
    for h in tag_hashes {
        index.tag_filter.insert(h);
    }
    index.trace_filter = BloomFilter::with_capacity(traces.len());
    for t in &traces {
        index.trace_filter.insert(trace_hash(t.id));
    }

    let mut bytes = Vec::with_capacity(64 * 1024);
    bytes.put_bytes(BLOCK_MAGIC);
    let mut tables = TableBuilder::default();
    let mut start = 0;
    while start < traces.len() {
        let mut end = start;
        let mut n = 0;
        while end < traces.len() && (n < opts.page_spans.max(1) || end == start) {
            n += traces[end].spans.len();
            end += 1;
        }
        let run: Vec<&TraceSpans> = traces[start..end].iter().collect();
        let raw = page::encode(&run, &mut tables);
        let section = append_section(&mut bytes, &raw, opts.zstd_level);
        let page_spans = || run.iter().flat_map(|t| t.spans.iter());
        let page_no = index.pages.len() as u32;
        for t in &run {
            index
                .trace_table
                .push(((trace_hash(t.id) >> 32) as u32, page_no));
        }
        index.pages.push(PageRef {
            section,
            first_trace: run.iter().map(|t| t.id).min().unwrap_or_default(),
            last_trace: run.iter().map(|t| t.id).max().unwrap_or_default(),
            spans: n as u32,
            traces: run.len() as u32,
            min_start: page_spans().map(|s| s.start_time).min().unwrap_or(0),
            max_start: page_spans().map(|s| s.start_time).max().unwrap_or(0),
        });
        start = end;
    }
    index.trace_table.sort_unstable();
    index.tables = append_section(&mut bytes, &tables.encode(), opts.zstd_level);

    let raw_index = index.encode();
    let index_ref = SectionRef {
        offset: bytes.len() as u64,
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
    EncodedBlock { bytes, index }
}

fn append_section(bytes: &mut Vec<u8>, raw: &[u8], level: i32) -> SectionRef {
    let stored = compress(raw, level);
    let section = SectionRef {
        offset: bytes.len() as u64,
        len: stored.len() as u32,
        raw_len: raw.len() as u32,
        crc: crc(&stored),
    };
    bytes.put_bytes(&stored);
    section
}
