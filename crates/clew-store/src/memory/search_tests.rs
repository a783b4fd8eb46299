//! The search index ([`super::index`]) may skip chunks and stop early; these
//! tests prove that it never changes an answer: every search and dependency
//! graph equals a brute-force pass over every stored trace, on stores that
//! evicted, got late spans with earlier starts and new services, and hold
//! more names than the Bloom filters have bits.

use std::collections::HashMap;

use clew_model::{KeyValue, Reference, SpanId};

use super::index::INDEX_CHUNK;
use super::*;
use crate::query::TagFilter;
use crate::testsuite::{MS, T0, process, span};

/// splitmix64: deterministic, so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The traces `q` finds, by brute force over every stored trace: most
/// recent start first, ties most recently written first.
fn brute_force(store: &MemoryStore, q: &TraceQuery) -> Vec<TraceId> {
    let inner = store.inner.read();
    let mut keys: Vec<(u64, u64, TraceId)> = inner
        .traces
        .iter()
        .filter(|(_, e)| e.spans.iter().any(|s| crate::matcher::span_matches(s, q)))
        .map(|(id, e)| (e.start, e.pos, *id))
        .collect();
    keys.sort_unstable_by(|a, b| b.cmp(a));
    if q.limit > 0 {
        keys.truncate(q.limit);
    }
    keys.into_iter().map(|(_, _, id)| id).collect()
}

/// The dependency graph of [start, end], by brute force.
fn brute_force_links(store: &MemoryStore, start: u64, end: u64) -> Vec<DependencyLink> {
    let inner = store.inner.read();
    let mut counts: HashMap<(String, String), u64> = HashMap::new();
    for entry in inner.traces.values() {
        let mut by_id: HashMap<SpanId, &str> = HashMap::new();
        for s in &entry.spans {
            by_id.entry(s.span_id).or_insert(&s.process.service_name);
        }
        for s in &entry.spans {
            let Some(parent) = s.parent_span_id().and_then(|p| by_id.get(&p)) else {
                continue;
            };
            if (start..=end).contains(&s.start_time) && *parent != &*s.process.service_name {
                *counts
                    .entry((parent.to_string(), s.process.service_name.to_string()))
                    .or_default() += 1;
            }
        }
    }
    DependencyLink::sorted_from(counts)
}

async fn found(store: &MemoryStore, q: &TraceQuery) -> Vec<TraceId> {
    store
        .find_traces(q)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t.trace_id())
        .collect()
}

/// A random store: traces written roughly in start order in batches, some
/// far out of order, some getting later spans (earlier starts, other
/// services), under a span limit that may evict. Returns the store and the
/// latest start written (ms after T0).
async fn random_store(rng: &mut Rng) -> (MemoryStore, u64, u64, u64) {
    let traces = 1 + rng.below(1500);
    let services = [1, 3, 40, 400][rng.below(4) as usize];
    let ops = [1, 5, 60][rng.below(3) as usize];
    let max_spans = if rng.chance(50) {
        usize::MAX
    } else {
        (traces * (1 + rng.below(3))) as usize
    };
    let store = MemoryStore::new(MemoryStoreConfig {
        max_spans,
        max_bytes: usize::MAX,
    });
    let mut clock = 1_000_000;
    // Some stores give every trace the same start, as clew-tracegen does.
    let step = if rng.chance(20) { 0 } else { 5 };
    let mut t = 0;
    while t < traces {
        let mut batch = Vec::new();
        for _ in 0..1 + rng.below(40) {
            t += 1;
            clock += rng.below(step);
            let start = if rng.chance(3) {
                rng.below(clock + 100)
            } else {
                clock
            };
            let proc_ = process(&format!("svc-{}", rng.below(services)), vec![]);
            batch.push(span(
                t,
                1,
                &format!("op-{}", rng.below(ops)),
                &proc_,
                start,
                2,
            ));
            for id in 2..1 + rng.below(4) {
                let child = process(&format!("svc-{}", rng.below(services)), vec![]);
                let mut s = span(
                    t,
                    id,
                    &format!("op-{}", rng.below(ops)),
                    &child,
                    start + id,
                    1,
                );
                s.references
                    .push(Reference::child_of(s.trace_id, SpanId(1)));
                if rng.chance(20) {
                    let v = format!("v{}", rng.below(20));
                    s.tags.push(KeyValue::string("k", v.as_str()));
                }
                batch.push(s);
            }
            // A late span of an earlier trace (evicted ones come back as
            // new traces): an earlier start, maybe another service.
            if rng.chance(10) {
                let old = 1 + rng.below(t);
                let late = process(&format!("late-{}", rng.below(3)), vec![]);
                let start = clock.saturating_sub(rng.below(2000));
                let mut s = span(old, 100 + rng.below(100), "late-op", &late, start, 1);
                s.references
                    .push(Reference::child_of(s.trace_id, SpanId(1)));
                batch.push(s);
            }
        }
        store.write_spans(batch).await.ok();
    }
    (store, clock, services, ops)
}

fn random_query(rng: &mut Rng, clock: u64, services: u64, ops: u64) -> TraceQuery {
    let ms = |m: u64| T0 + m * MS;
    let (start_min, start_max) = if rng.chance(40) {
        (0, u64::MAX)
    } else {
        let a = rng.below(clock + 10);
        let b = a + rng.below(clock / 4 + 10);
        (ms(a), ms(b))
    };
    let service = match rng.below(10) {
        0..=3 => None,
        4 => Some("nope".to_string()),
        5 => Some(format!("late-{}", rng.below(3))),
        _ => Some(format!("svc-{}", rng.below(services))),
    };
    let operation = match rng.below(4) {
        0 => Some(format!("op-{}", rng.below(ops))),
        1 => Some("late-op".to_string()),
        _ => None,
    };
    let tags = if rng.chance(20) {
        vec![TagFilter {
            key: "k".into(),
            value: format!("v{}", rng.below(20)),
        }]
    } else {
        Vec::new()
    };
    TraceQuery {
        service,
        operation,
        tags,
        start_min,
        start_max,
        duration_min: rng.chance(10).then_some(2 * MS),
        duration_max: None,
        limit: [0, 1, 2, 7, 20, 100, 1500][rng.below(7) as usize],
        ..TraceQuery::default()
    }
}

/// The heart of it: hundreds of random stores and queries, each answer
/// identical (same traces, same order) to brute force.
#[tokio::test]
async fn searches_and_dependencies_equal_brute_force() {
    let mut checked = 0;
    for seed in 0..60 {
        let mut rng = Rng(seed);
        let (store, clock, services, ops) = random_store(&mut rng).await;
        for _ in 0..40 {
            let q = random_query(&mut rng, clock, services, ops);
            assert_eq!(
                found(&store, &q).await,
                brute_force(&store, &q),
                "seed {seed}, {q:?}"
            );
            checked += 1;
        }
        for _ in 0..5 {
            let a = T0 + rng.below(clock) * MS;
            let b = a + rng.below(clock / 2 + 1) * MS;
            let links = store.dependencies(a, b).await.unwrap_or_default();
            assert_eq!(links, brute_force_links(&store, a, b), "seed {seed}");
        }
    }
    assert_eq!(checked, 60 * 40);
}

/// Searches stop early: the 20 most recent traces of a store written in
/// start order are found by reading about one chunk, not the store.
#[tokio::test]
async fn a_recent_search_reads_only_the_newest_chunks() {
    let store = MemoryStore::new(MemoryStoreConfig::default());
    let p = process("svc", vec![]);
    let traces = 20 * INDEX_CHUNK;
    for t in 1..=traces {
        store
            .write_spans(vec![span(t, 1, "op", &p, t, 1)])
            .await
            .ok();
    }
    let mut search = scan::tests::CountingTopK::new(&store, 20);
    assert_eq!(search.ids.len(), 20);
    assert!(
        search.read <= 2 * INDEX_CHUNK,
        "read {} traces",
        search.read
    );
    // Without a limit every trace is read.
    search = scan::tests::CountingTopK::new(&store, 0);
    assert_eq!(search.read, traces);
}

/// Traces that share one start (every trace clew-tracegen sends does) rank
/// most recently written first, so a search still stops early.
#[tokio::test]
async fn equal_starts_rank_by_write_order_and_stop_early() {
    let store = MemoryStore::new(MemoryStoreConfig::default());
    let p = process("svc", vec![]);
    let traces = 20 * INDEX_CHUNK;
    for t in 1..=traces {
        // IDs unrelated to write order.
        let id = t.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        store
            .write_spans(vec![span(id, 1, "op", &p, 7, 1)])
            .await
            .ok();
    }
    let search = scan::tests::CountingTopK::new(&store, 300);
    let want: Vec<TraceId> = (traces - 299..=traces)
        .rev()
        .map(|t| TraceId::new(0, t.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        .collect();
    assert_eq!(search.ids, want);
    assert!(
        search.read <= 300 + INDEX_CHUNK,
        "read {} traces",
        search.read
    );
}

/// A late span with an earlier start moves its trace back in the order;
/// one with a new service makes an old chunk match that service.
#[tokio::test]
async fn late_spans_widen_their_chunk() {
    let store = MemoryStore::new(MemoryStoreConfig::default());
    let p = process("svc", vec![]);
    let traces = 4 * INDEX_CHUNK;
    for t in 1..=traces {
        store
            .write_spans(vec![span(t, 1, "op", &p, 1000 + t, 1)])
            .await
            .ok();
    }
    // Trace 1 (oldest chunk) gets a span of a new service, starting
    // before everything.
    store
        .write_spans(vec![span(1, 2, "late", &process("new", vec![]), 5, 1)])
        .await
        .ok();
    let mut q = crate::testsuite::query_all();
    q.service = Some("new".into());
    q.operation = Some("late".into());
    q.start_max = T0 + 10 * MS;
    assert_eq!(found(&store, &q).await, vec![TraceId::new(0, 1)]);
    // Its start moved from 1001 ms to 5 ms: the oldest of all now.
    q = crate::testsuite::query_all();
    q.limit = 0;
    assert_eq!(found(&store, &q).await.last(), Some(&TraceId::new(0, 1)));
    // A window between two chunks' starts finds nothing and a window
    // inside one finds exactly its traces.
    q.start_min = T0 + (1000 + traces + 1) * MS;
    q.start_max = T0 + (1000 + traces + 500) * MS;
    assert!(found(&store, &q).await.is_empty());
    q.start_min = T0 + (1000 + INDEX_CHUNK + 1) * MS;
    q.start_max = T0 + (1000 + INDEX_CHUNK + 3) * MS;
    let lows: Vec<u64> = found(&store, &q).await.iter().map(|id| id.low).collect();
    let want = vec![INDEX_CHUNK + 3, INDEX_CHUNK + 2, INDEX_CHUNK + 1];
    assert_eq!(lows, want);
}

/// Summaries leave with their chunk and are counted in the byte total, so
/// the index cannot outgrow what it describes.
#[tokio::test]
async fn summaries_are_counted_and_evicted_with_their_chunk() {
    let p = process("svc", vec![]);
    let traces = 10 * INDEX_CHUNK;
    let store = MemoryStore::new(MemoryStoreConfig {
        max_spans: (2 * INDEX_CHUNK) as usize,
        max_bytes: usize::MAX,
    });
    for t in 1..=traces {
        store
            .write_spans(vec![span(t, 1, "op", &p, t, 1)])
            .await
            .ok();
    }
    let inner = store.inner.read();
    // The stored positions fill chunks 8 and 9; the older summaries went
    // with their chunks' last traces.
    assert_eq!(inner.index.len(), 2);
    let spans: usize = inner.traces.values().map(|e| e.bytes).sum();
    let ops: usize = inner
        .operations
        .iter()
        .flat_map(|(s, ops)| ops.keys().map(move |op| index_cost(s, op)))
        .sum();
    assert_eq!(inner.bytes, spans + ops + 2 * index::SUMMARY_COST);
}
