//! The head: spans acknowledged since the last cut, in memory.
//!
//! Spans arrive here decoded *from their WAL record*, not from the request
//! body: their strings are slices of that compact, dictionary-coded record
//! (tens of bytes per span), so the head never pins whole request bodies.
//!
//! Traces are spread over shards by trace-ID hash, each behind its own
//! mutex, so concurrent writers of different traces do not queue behind one
//! lock; the operation index takes its write lock only for a pair it has
//! not seen.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clew_model::{Span, TraceId};
use clew_segment::{TraceSpans, trace_hash};
use parking_lot::{Mutex, RwLock};

use crate::query::Operation;

const SHARDS: usize = 16;

/// One shard: the traces whose ID hashes to it.
type Shard = Mutex<HashMap<TraceId, Vec<Span>>>;

/// One generation of the head (the active one, or a frozen one being cut).
pub(crate) struct Head {
    shards: Box<[Shard]>,
    operations: RwLock<HashMap<String, BTreeSet<Operation>>>,
    spans: AtomicU64,
    traces: AtomicU64,
    bytes: AtomicU64,
    min_start: AtomicU64,
    max_start: AtomicU64,
    pub(crate) created: Instant,
}

impl Default for Head {
    fn default() -> Self {
        Head {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            operations: RwLock::new(HashMap::new()),
            spans: AtomicU64::new(0),
            traces: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            min_start: AtomicU64::new(u64::MAX),
            max_start: AtomicU64::new(0),
            created: Instant::now(),
        }
    }
}

fn shard_of(id: TraceId) -> usize {
    (trace_hash(id) % SHARDS as u64) as usize
}

impl Head {
    /// Adds decoded traces; `bytes` is what they cost (their record's size).
    pub(crate) fn insert(&self, traces: Vec<TraceSpans>, bytes: u64) {
        let mut ops: HashSet<(&str, &str, &str)> = HashSet::new();
        for s in traces.iter().flat_map(|t| t.spans.iter()) {
            ops.insert((&s.process.service_name, &s.operation_name, s.kind_tag()));
        }
        let missing: Vec<(String, Operation)> = {
            let known = self.operations.read();
            ops.into_iter()
                .filter(|(svc, name, kind)| {
                    !known.get(*svc).is_some_and(|set| {
                        set.iter().any(|o| o.name == *name && o.span_kind == *kind)
                    })
                })
                .map(|(svc, name, kind)| {
                    let op = Operation {
                        name: name.to_string(),
                        span_kind: kind.to_string(),
                    };
                    (svc.to_string(), op)
                })
                .collect()
        };
        if !missing.is_empty() {
            let mut known = self.operations.write();
            for (svc, op) in missing {
                known.entry(svc).or_default().insert(op);
            }
        }
        let mut spans = 0u64;
        let mut new_traces = 0u64;
        for t in traces {
            spans += t.spans.len() as u64;
            for s in &t.spans {
                self.min_start.fetch_min(s.start_time, Ordering::Relaxed);
                self.max_start.fetch_max(s.start_time, Ordering::Relaxed);
            }
            let mut shard = self.shards[shard_of(t.id)].lock();
            match shard.get_mut(&t.id) {
                Some(v) => v.extend(t.spans),
                None => {
                    new_traces += 1;
                    shard.insert(t.id, t.spans);
                }
            }
        }
        self.spans.fetch_add(spans, Ordering::Relaxed);
        self.traces.fetch_add(new_traces, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn get(&self, id: TraceId) -> Option<Vec<Span>> {
        self.shards[shard_of(id)].lock().get(&id).cloned()
    }

    /// Calls `f` for every trace, one shard locked at a time.
    pub(crate) fn for_each(&self, mut f: impl FnMut(TraceId, &[Span])) {
        for shard in self.shards.iter() {
            let shard = shard.lock();
            for (id, spans) in shard.iter() {
                f(*id, spans);
            }
        }
    }

    /// A copy of every trace (for cutting a block).
    pub(crate) fn traces(&self) -> Vec<TraceSpans> {
        let mut out = Vec::with_capacity(self.traces.load(Ordering::Relaxed) as usize);
        self.for_each(|id, spans| {
            out.push(TraceSpans {
                id,
                spans: spans.to_vec(),
            });
        });
        out
    }

    pub(crate) fn span_count(&self) -> u64 {
        self.spans.load(Ordering::Relaxed)
    }

    pub(crate) fn trace_count(&self) -> u64 {
        self.traces.load(Ordering::Relaxed)
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Span start range, or `None` when empty.
    pub(crate) fn start_range(&self) -> Option<(u64, u64)> {
        let min = self.min_start.load(Ordering::Relaxed);
        (min != u64::MAX).then(|| (min, self.max_start.load(Ordering::Relaxed)))
    }

    pub(crate) fn add_services(&self, out: &mut BTreeSet<String>) {
        out.extend(self.operations.read().keys().cloned());
    }

    pub(crate) fn add_operations(&self, service: &str, out: &mut BTreeSet<Operation>) {
        if let Some(set) = self.operations.read().get(service) {
            out.extend(set.iter().cloned());
        }
    }
}
