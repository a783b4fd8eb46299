//! A bounded in-memory backend: the default store of the all-in-one binary
//! and the reference implementation the conformance suite is written against.
//!
//! Layout: one map from trace ID to the trace's spans (in arrival order), a
//! FIFO of trace IDs in first-write order for eviction, and a per-service
//! operation index so listing services/operations never scans spans.
//!
//! Writes take the lock once per batch: everything that can be computed
//! without the lock (grouping by trace, byte estimates, the distinct
//! operations of the batch) is computed before it is taken, so a 500-span
//! batch holds the lock for a handful of hash lookups per *trace*, not per span.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use async_trait::async_trait;
use clew_model::{Span, SpanId, Trace, TraceId};
use parking_lot::RwLock;

use crate::query::{DependencyLink, Operation, StoreStats, TraceQuery};
use crate::{StoreError, TraceReader, TraceWriter};

/// Limits of a [`MemoryStore`]. When either is exceeded after a write, whole
/// traces are evicted, oldest first, until both hold again (the trace written
/// most recently is always kept, so a successful write is always visible).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryStoreConfig {
    /// Maximum number of spans kept.
    pub max_spans: usize,
    /// Maximum estimated bytes kept (span + process estimates per span).
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
    spans: Vec<Span>,
    bytes: usize,
    /// Earliest span start, so searches can order traces without a scan.
    start: u64,
}

#[derive(Default)]
struct Inner {
    traces: HashMap<TraceId, TraceEntry>,
    /// Trace IDs in the order their first span was written.
    fifo: VecDeque<TraceId>,
    /// Service name → operations (name, span.kind) seen for it. Not pruned on
    /// eviction: like Jaeger's memory store, names seen stay searchable.
    operations: HashMap<String, BTreeSet<Operation>>,
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
    spans: Vec<Span>,
    bytes: usize,
    start: u64,
}

/// Estimated bytes one stored span costs. The process is shared between
/// spans, but counting it per span keeps the estimate an upper bound and
/// independent of how clients batch.
fn span_cost(span: &Span) -> usize {
    span.estimated_size() + span.process.estimated_size()
}

/// Groups a batch by trace, preserving arrival order within each trace.
fn group_by_trace(spans: Vec<Span>) -> Vec<TraceGroup> {
    let mut groups: Vec<TraceGroup> = Vec::new();
    let mut index: HashMap<TraceId, usize> = HashMap::new();
    for span in spans {
        let cost = span_cost(&span);
        let slot = *index.entry(span.trace_id).or_insert_with(|| {
            groups.push(TraceGroup {
                id: span.trace_id,
                spans: Vec::new(),
                bytes: 0,
                start: u64::MAX,
            });
            groups.len() - 1
        });
        let group = &mut groups[slot];
        group.bytes += cost;
        group.start = group.start.min(span.start_time);
        group.spans.push(span);
    }
    groups
}

/// The distinct (service, operation) pairs of a batch. Deduplicated on
/// borrowed strings first so a batch allocates once per distinct pair, not
/// once per span.
fn distinct_operations(groups: &[TraceGroup]) -> Vec<(String, Operation)> {
    let mut seen: HashSet<(&str, &str, &str)> = HashSet::new();
    for span in groups.iter().flat_map(|g| g.spans.iter()) {
        seen.insert((
            &span.process.service_name,
            &span.operation_name,
            span.kind_tag(),
        ));
    }
    seen.into_iter()
        .map(|(service, name, kind)| {
            let op = Operation {
                name: name.to_string(),
                span_kind: kind.to_string(),
            };
            (service.to_string(), op)
        })
        .collect()
}

impl Inner {
    fn insert(&mut self, group: TraceGroup) {
        self.spans += group.spans.len();
        self.bytes += group.bytes;
        match self.traces.get_mut(&group.id) {
            Some(entry) => {
                entry.spans.extend(group.spans);
                entry.bytes += group.bytes;
                entry.start = entry.start.min(group.start);
            }
            None => {
                self.fifo.push_back(group.id);
                self.traces.insert(
                    group.id,
                    TraceEntry {
                        spans: group.spans,
                        bytes: group.bytes,
                        start: group.start,
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
            if let Some(entry) = self.traces.remove(&id) {
                self.spans -= entry.spans.len();
                self.bytes -= entry.bytes;
                self.evicted_spans += entry.spans.len() as u64;
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
        let ops = distinct_operations(&groups);
        let mut inner = self.inner.write();
        for (service, op) in ops {
            let set = match inner.operations.get_mut(&service) {
                Some(set) => set,
                None => inner.operations.entry(service).or_default(),
            };
            if !set.contains(&op) {
                set.insert(op);
            }
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
        let inner = self.inner.read();
        Ok(inner.traces.get(&id).map(|e| Trace {
            spans: e.spans.clone(),
            warnings: Vec::new(),
        }))
    }

    async fn find_traces(&self, query: &TraceQuery) -> Result<Vec<Trace>, StoreError> {
        let inner = self.inner.read();
        let mut hits: Vec<(u64, TraceId, &TraceEntry)> = inner
            .traces
            .iter()
            .filter(|(_, e)| {
                e.spans
                    .iter()
                    .any(|s| crate::matcher::span_matches(s, query))
            })
            .map(|(id, e)| (e.start, *id, e))
            .collect();
        // Most recent first; ties broken by ID so results are deterministic.
        hits.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        if query.limit > 0 {
            hits.truncate(query.limit);
        }
        Ok(hits
            .into_iter()
            .map(|(_, _, e)| Trace {
                spans: e.spans.clone(),
                warnings: Vec::new(),
            })
            .collect())
    }

    async fn services(&self) -> Result<Vec<String>, StoreError> {
        let inner = self.inner.read();
        let mut out: Vec<String> = inner.operations.keys().cloned().collect();
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
            .iter()
            .filter(|op| span_kind.is_none_or(|k| op.span_kind == k))
            .cloned()
            .collect())
    }

    async fn dependencies(&self, start: u64, end: u64) -> Result<Vec<DependencyLink>, StoreError> {
        let inner = self.inner.read();
        let mut counts: HashMap<(&str, &str), u64> = HashMap::new();
        for entry in inner.traces.values() {
            let mut by_id: HashMap<SpanId, &str> = HashMap::with_capacity(entry.spans.len());
            for s in &entry.spans {
                // The first span with an ID wins, matching get_trace order.
                by_id.entry(s.span_id).or_insert(&s.process.service_name);
            }
            for s in &entry.spans {
                if s.start_time < start || s.start_time > end {
                    continue;
                }
                let Some(parent) = s.parent_span_id().and_then(|p| by_id.get(&p)) else {
                    continue;
                };
                let child: &str = &s.process.service_name;
                if *parent != child {
                    *counts.entry((parent, child)).or_default() += 1;
                }
            }
        }
        let mut out: Vec<DependencyLink> = counts
            .into_iter()
            .map(|((p, c), n)| DependencyLink {
                parent: p.to_string(),
                child: c.to_string(),
                call_count: n,
            })
            .collect();
        out.sort();
        Ok(out)
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

#[cfg(test)]
mod tests;
