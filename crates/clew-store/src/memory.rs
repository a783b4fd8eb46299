//! A bounded in-memory backend: the default store of the all-in-one binary
//! and the reference implementation the conformance suite is written against.
//!
//! Layout: one map from trace ID to the trace's spans (in arrival order), a
//! FIFO of trace IDs in first-write order for eviction, a per-service
//! operation index so listing services/operations never scans spans, and a
//! summary per chunk of FIFO positions ([`index`]) so a search reads only
//! the chunks that can hold its most recent hits.
//!
//! Writes take the lock once per batch: everything that can be computed
//! without the lock (compact owned copies of the spans, grouping by trace,
//! byte counts, the distinct operations of the batch, what each trace adds to
//! its chunk summary) is computed before it is taken, so a 500-span batch
//! holds the lock for a handful of hash lookups per *trace*, not per span.
//! Reads take the lock only to collect `Arc`s of the matching spans; cloning
//! and rendering happen after it is released, and searches and dependency
//! graphs ([`scan`]) hold it for a bounded number of traces at a time, so
//! neither a large answer nor a long search blocks ingest.
//!
//! Memory: stored spans own compact copies of their strings
//! ([`crate::compact`]), never slices of request bodies, and the byte limit
//! counts what they really hold plus the service/operation index, which is
//! pruned when the last span of a service or operation is evicted, and the
//! chunk summaries, which leave with their chunk's last trace.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::mem::size_of;
use std::sync::Arc;

use async_trait::async_trait;
use clew_model::{Span, Trace, TraceId};
use parking_lot::RwLock;

use crate::compact::Compactor;
use crate::query::{
    DependencyLink, Operation, SearchedSummaries, StoreStats, TraceQuery, TraceSummary,
};
use crate::{StoreError, TraceReader, TraceWriter};
use index::{ChunkIndex, SpanMarks};

/// Limits of a [`MemoryStore`]. When either is exceeded after a write, whole
/// traces are evicted, oldest first, until both hold again (the trace written
/// most recently is always kept, so a successful write is always visible).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryStoreConfig {
    /// Maximum number of spans kept.
    pub max_spans: usize,
    /// Maximum bytes kept: what the stored spans really hold (compact
    /// copies of their strings, their vectors, their process per span) plus
    /// the service/operation index and the search index's chunk summaries.
    pub max_bytes: usize,
}

impl Default for MemoryStoreConfig {
    /// Jaeger's all-in-one keeps everything; we keep a bounded amount that
    /// fits comfortably on a laptop.
    fn default() -> Self {
        MemoryStoreConfig {
            max_spans: 1_000_000,
            max_bytes: 1 << 30,
        }
    }
}

/// The stored spans of one trace.
#[derive(Default)]
struct TraceEntry {
    spans: Vec<Arc<Span>>,
    bytes: usize,
    /// Earliest span start, so searches can order traces without a scan.
    start: u64,
    /// Logical FIFO position (first write order), which names the chunk
    /// summary later spans of the trace widen.
    pos: u64,
}

#[derive(Default)]
struct Inner {
    traces: HashMap<TraceId, TraceEntry>,
    /// Trace IDs in the order their first span was written.
    fifo: VecDeque<TraceId>,
    /// How many IDs eviction has taken off the front of `fifo`: the
    /// logical position of `fifo[0]`, so a scan that lets go of the lock
    /// between chunks knows where to resume ([`scan`]).
    fifo_popped: u64,
    /// Service name → operations (name, span.kind) → stored spans with it.
    /// Pruned when a count reaches zero, so evicted names disappear and the
    /// index cannot outgrow the spans it describes.
    operations: HashMap<String, BTreeMap<Operation, usize>>,
    /// Per-chunk summaries of the FIFO for searches ([`index`]).
    index: ChunkIndex,
    spans: usize,
    bytes: usize,
    evicted_spans: u64,
}

/// A bounded, thread-safe in-memory trace store.
pub struct MemoryStore {
    config: MemoryStoreConfig,
    inner: RwLock<Inner>,
}

impl MemoryStore {
    /// An empty store with these limits.
    pub fn new(config: MemoryStoreConfig) -> Self {
        MemoryStore {
            config,
            inner: RwLock::new(Inner::default()),
        }
    }

    /// The limits the store was built with.
    pub fn config(&self) -> MemoryStoreConfig {
        self.config
    }
}

/// Spans of one trace from one batch, with their precomputed cost.
struct TraceGroup {
    id: TraceId,
    spans: Vec<Arc<Span>>,
    bytes: usize,
    start: u64,
    /// Span starts, services and operations, for the chunk summary.
    marks: SpanMarks,
}

/// Index bytes one (service, operation) entry costs: the strings, the map
/// nodes, and the `Operation` returned to readers.
fn index_cost(service: &str, op: &Operation) -> usize {
    2 * (service.len() + op.name.len() + op.span_kind.len()) + 160
}

/// Compacts a batch and groups it by trace, preserving arrival order
/// within each trace.
fn group_by_trace(spans: Vec<Span>) -> Vec<TraceGroup> {
    let mut groups: Vec<TraceGroup> = Vec::new();
    let mut index: HashMap<TraceId, usize> = HashMap::new();
    let mut compactor = Compactor::default();
    for span in spans {
        let (span, cost) = compactor.span(span);
        let cost = cost + size_of::<Arc<Span>>() + 16;
        let slot = *index.entry(span.trace_id).or_insert_with(|| {
            groups.push(TraceGroup {
                id: span.trace_id,
                spans: Vec::new(),
                bytes: 0,
                start: u64::MAX,
                marks: SpanMarks::default(),
            });
            groups.len() - 1
        });
        let group = &mut groups[slot];
        group.bytes += cost;
        group.start = group.start.min(span.start_time);
        group.marks.add(
            &span.process.service_name,
            &span.operation_name,
            span.start_time,
        );
        group.spans.push(Arc::new(span));
    }
    groups
}

/// The distinct (service, operation) pairs of some spans, with how many
/// spans have each. Deduplicated on borrowed strings first so a batch
/// allocates once per distinct pair, not once per span.
fn distinct_operations<'a>(
    spans: impl Iterator<Item = &'a Arc<Span>>,
) -> Vec<(String, Operation, usize)> {
    let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for span in spans {
        *seen
            .entry((
                &span.process.service_name,
                &span.operation_name,
                span.kind_tag(),
            ))
            .or_default() += 1;
    }
    seen.into_iter()
        .map(|((service, name, kind), n)| {
            let op = Operation {
                name: name.to_string(),
                span_kind: kind.to_string(),
            };
            (service.to_string(), op, n)
        })
        .collect()
}

impl Inner {
    /// Counts `n` more spans of (service, op), adding the entry (and its
    /// cost) when it is new.
    fn index_add(&mut self, service: String, op: Operation, n: usize) {
        let cost = index_cost(&service, &op);
        let ops = match self.operations.get_mut(&service) {
            Some(ops) => ops,
            None => self.operations.entry(service).or_default(),
        };
        match ops.get_mut(&op) {
            Some(count) => *count += n,
            None => {
                ops.insert(op, n);
                self.bytes += cost;
            }
        }
    }

    /// Forgets `n` spans of (service, op), pruning entries that reach zero.
    fn index_remove(&mut self, service: &str, op: &Operation, n: usize) {
        let Some(ops) = self.operations.get_mut(service) else {
            return;
        };
        if let Some(count) = ops.get_mut(op) {
            *count = count.saturating_sub(n);
            if *count == 0 {
                ops.remove(op);
                self.bytes = self.bytes.saturating_sub(index_cost(service, op));
            }
        }
        if ops.is_empty() {
            self.operations.remove(service);
        }
    }

    fn insert(&mut self, group: TraceGroup) {
        self.spans += group.spans.len();
        self.bytes += group.bytes;
        match self.traces.get_mut(&group.id) {
            Some(entry) => {
                entry.spans.extend(group.spans);
                entry.bytes += group.bytes;
                entry.start = entry.start.min(group.start);
                self.index.widen_trace(entry.pos, &group.marks);
            }
            None => {
                let pos = self.fifo_popped + self.fifo.len() as u64;
                self.bytes += self.index.add_trace(pos, group.start, &group.marks);
                self.fifo.push_back(group.id);
                self.traces.insert(
                    group.id,
                    TraceEntry {
                        spans: group.spans,
                        bytes: group.bytes,
                        start: group.start,
                        pos,
                    },
                );
            }
        }
    }

    fn evict(&mut self, config: &MemoryStoreConfig) {
        while (self.spans > config.max_spans || self.bytes > config.max_bytes)
            && self.fifo.len() > 1
        {
            let Some(id) = self.fifo.pop_front() else {
                break;
            };
            self.fifo_popped += 1;
            self.bytes -= self.index.evict_before(self.fifo_popped);
            if let Some(entry) = self.traces.remove(&id) {
                self.spans -= entry.spans.len();
                self.bytes -= entry.bytes;
                self.evicted_spans += entry.spans.len() as u64;
                for (service, op, n) in distinct_operations(entry.spans.iter()) {
                    self.index_remove(&service, &op, n);
                }
            }
        }
    }
}

#[async_trait]
impl TraceWriter for MemoryStore {
    async fn write_spans(&self, spans: Vec<Span>) -> Result<(), StoreError> {
        if spans.is_empty() {
            return Ok(());
        }
        let groups = group_by_trace(spans);
        let ops = distinct_operations(groups.iter().flat_map(|g| g.spans.iter()));
        let mut inner = self.inner.write();
        for (service, op, n) in ops {
            inner.index_add(service, op, n);
        }
        for group in groups {
            inner.insert(group);
        }
        inner.evict(&self.config);
        Ok(())
    }
}

#[async_trait]
impl TraceReader for MemoryStore {
    async fn get_trace(&self, id: TraceId) -> Result<Option<Trace>, StoreError> {
        let spans = {
            let inner = self.inner.read();
            inner.traces.get(&id).map(|e| e.spans.clone())
        };
        Ok(spans.map(to_trace))
    }

    async fn find_traces(&self, query: &TraceQuery) -> Result<Vec<Trace>, StoreError> {
        let hits = self.matching(query);
        // Copies are made outside the lock, and only until they reach the
        // byte bound (the one reaching it included; the first always).
        let mut bound = crate::ByteBound::new(query.max_bytes);
        Ok(hits
            .into_iter()
            .take_while(|spans| {
                let open = bound.open();
                bound.take(spans.iter().map(|s| &**s));
                open
            })
            .map(to_trace)
            .collect())
    }

    async fn search_trace_summaries(
        &self,
        query: &TraceQuery,
    ) -> Result<SearchedSummaries, StoreError> {
        // Summarised from the stored spans' `Arc`s, outside the lock: no
        // trace is copied, so there is nothing for the byte bound to stop.
        let summaries = self
            .matching(query)
            .iter()
            .filter_map(|spans| TraceSummary::from_spans(spans.iter().map(|s| &**s)))
            .collect();
        Ok(SearchedSummaries {
            summaries,
            complete: true,
            cut_at_max_bytes: false,
        })
    }

    async fn services(&self) -> Result<Vec<String>, StoreError> {
        let inner = self.inner.read();
        let mut out: Vec<String> = inner.operations.keys().cloned().collect();
        drop(inner);
        out.sort();
        Ok(out)
    }

    async fn operations(
        &self,
        service: &str,
        span_kind: Option<&str>,
    ) -> Result<Vec<Operation>, StoreError> {
        let inner = self.inner.read();
        let Some(set) = inner.operations.get(service) else {
            return Ok(Vec::new());
        };
        Ok(set
            .keys()
            .filter(|op| span_kind.is_none_or(|k| op.span_kind == k))
            .cloned()
            .collect())
    }

    async fn dependencies(&self, start: u64, end: u64) -> Result<Vec<DependencyLink>, StoreError> {
        Ok(self.dependency_links(start, end))
    }

    fn stats(&self) -> StoreStats {
        let inner = self.inner.read();
        StoreStats {
            spans: inner.spans as u64,
            traces: inner.traces.len() as u64,
            bytes: inner.bytes as u64,
            evicted_spans: inner.evicted_spans,
        }
    }
}

/// A trace of owned spans, cloned from the stored ones (outside any lock).
fn to_trace(spans: Vec<Arc<Span>>) -> Trace {
    Trace {
        spans: spans.iter().map(|s| Span::clone(s)).collect(),
        warnings: Vec::new(),
    }
}

mod index;
mod scan;
#[cfg(test)]
mod search_tests;
#[cfg(test)]
mod tests;
