use super::*;
use crate::testsuite::{T0, process, query_all, run_conformance, span};

fn unbounded() -> MemoryStore {
    MemoryStore::new(MemoryStoreConfig::default())
}

#[tokio::test]
async fn memory_store_passes_the_conformance_suite() {
    run_conformance(unbounded).await;
}

/// The low halves of the IDs of the traces `q` finds, in answer order.
async fn found_lows(store: &MemoryStore, q: &TraceQuery) -> Vec<u64> {
    store
        .find_traces(q)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t.trace_id().map(|id| id.low))
        .collect()
}

async fn trace_lows(store: &MemoryStore) -> Vec<u64> {
    let mut q = query_all();
    q.limit = 0;
    let mut out = found_lows(store, &q).await;
    out.sort_unstable();
    out
}

#[tokio::test]
async fn span_limit_evicts_whole_traces_oldest_first() {
    let store = MemoryStore::new(MemoryStoreConfig {
        max_spans: 4,
        max_bytes: usize::MAX,
    });
    let p = process("svc", vec![]);
    // Trace 1 is written first but starts latest: eviction follows write
    // order, not span time.
    store
        .write_spans(vec![
            span(1, 1, "op", &p, 50, 1),
            span(1, 2, "op", &p, 51, 1),
        ])
        .await
        .ok();
    store
        .write_spans(vec![span(2, 1, "op", &p, 0, 1), span(2, 2, "op", &p, 1, 1)])
        .await
        .ok();
    assert_eq!(trace_lows(&store).await, vec![1, 2]);
    // Trace 3 pushes the count over 4: trace 1, first written, goes.
    store
        .write_spans(vec![span(3, 1, "op", &p, 2, 1)])
        .await
        .ok();
    assert_eq!(trace_lows(&store).await, vec![2, 3]);
    let stats = store.stats();
    assert_eq!(stats.spans, 3);
    assert_eq!(stats.traces, 2);
    assert_eq!(stats.evicted_spans, 2);
    assert!(
        store
            .get_trace(TraceId::new(0, 1))
            .await
            .ok()
            .flatten()
            .is_none()
    );
}

#[tokio::test]
async fn byte_limit_evicts_until_under_the_limit() {
    let p = process("svc", vec![]);
    // What one span and the one index entry cost, measured on a store.
    let probe = unbounded();
    probe
        .write_spans(vec![span(1, 1, "op", &p, 1, 1)])
        .await
        .ok();
    let first = probe.stats().bytes as usize;
    probe
        .write_spans(vec![span(2, 1, "op", &p, 2, 1)])
        .await
        .ok();
    let cost = probe.stats().bytes as usize - first;
    let index = first - cost;
    assert!(index > 0, "the index is counted");
    let store = MemoryStore::new(MemoryStoreConfig {
        max_spans: usize::MAX,
        max_bytes: index + cost * 3,
    });
    for t in 1..=5 {
        store
            .write_spans(vec![span(t, 1, "op", &p, t, 1)])
            .await
            .ok();
    }
    assert_eq!(trace_lows(&store).await, vec![3, 4, 5]);
    let stats = store.stats();
    assert_eq!(stats.bytes, (index + cost * 3) as u64);
    assert_eq!(stats.evicted_spans, 2);
}

#[tokio::test]
async fn a_trace_larger_than_the_limit_is_still_visible_after_its_write() {
    let store = MemoryStore::new(MemoryStoreConfig {
        max_spans: 2,
        max_bytes: usize::MAX,
    });
    let p = process("svc", vec![]);
    store
        .write_spans(vec![span(1, 1, "op", &p, 0, 1)])
        .await
        .ok();
    let big: Vec<Span> = (1..=5).map(|i| span(2, i, "op", &p, i, 1)).collect();
    store.write_spans(big).await.ok();
    assert_eq!(trace_lows(&store).await, vec![2]);
    assert_eq!(store.stats().evicted_spans, 1);
}

/// Issue 7: the index is pruned with the spans, so names from evicted
/// traces cannot grow it past every limit.
#[tokio::test]
async fn services_and_operations_go_when_their_last_span_is_evicted() {
    let store = MemoryStore::new(MemoryStoreConfig {
        max_spans: 1,
        max_bytes: usize::MAX,
    });
    store
        .write_spans(vec![span(1, 1, "op", &process("old", vec![]), 0, 1)])
        .await
        .ok();
    store
        .write_spans(vec![span(2, 1, "op", &process("new", vec![]), 0, 1)])
        .await
        .ok();
    assert_eq!(
        store.services().await.unwrap_or_default(),
        vec!["new".to_string()]
    );
    assert!(
        store
            .operations("old", None)
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn the_byte_limit_bounds_huge_service_names() {
    let store = MemoryStore::new(MemoryStoreConfig {
        max_spans: usize::MAX,
        max_bytes: 5_000_000,
    });
    for t in 1..=30u64 {
        let name = format!("{t}-{}", "s".repeat(1_000_000));
        store
            .write_spans(vec![span(t, 1, "op", &process(&name, vec![]), t, 1)])
            .await
            .ok();
    }
    let stats = store.stats();
    assert!(stats.bytes <= 5_000_000 || stats.traces == 1, "{stats:?}");
    let listed: usize = store
        .services()
        .await
        .unwrap_or_default()
        .iter()
        .map(String::len)
        .sum();
    assert!(listed < 5_000_000, "services index holds {listed} bytes");
}

#[tokio::test]
async fn limit_zero_means_no_limit() {
    let store = unbounded();
    let p = process("svc", vec![]);
    let spans: Vec<Span> = (1..=150).map(|t| span(t, 1, "op", &p, t, 1)).collect();
    store.write_spans(spans).await.ok();
    assert_eq!(trace_lows(&store).await.len(), 150);
}

/// Ten 500-span batches that each add 50 new traces: every span and trace
/// is kept and the index holds the one operation once. (How fast such a
/// batch is written is measured by `scripts/bench-ingest.sh`, not here: a
/// timed test fails on a busy machine and proves nothing on a quiet one.)
#[tokio::test]
async fn many_500_span_batches_are_all_kept() {
    let store = unbounded();
    let p = process("svc", vec![clew_model::KeyValue::string("hostname", "h")]);
    let batch = |base: u64| -> Vec<Span> {
        (0..500)
            .map(|i| {
                let mut s = span(base + i / 10, i + 1, "op", &p, i, 1);
                s.tags
                    .push(clew_model::KeyValue::string("http.method", "GET"));
                s
            })
            .collect()
    };
    for n in 0..10u64 {
        store.write_spans(batch(n * 1000)).await.expect("write");
    }
    let stats = store.stats();
    assert_eq!((stats.spans, stats.traces), (5000, 500));
    let ops = store.operations("svc", None).await.expect("operations");
    assert_eq!(ops.len(), 1);
    let _ = T0;
}

/// Searches and dependencies walk the store a chunk of traces per lock
/// (`scan.rs`): across several chunks, after evictions moved the FIFO's
/// front, they still see every stored trace exactly once and order hits
/// by start time, not by write order.
#[tokio::test]
async fn scans_across_chunks_see_every_trace_once() {
    let traces = 3 * super::scan::SCAN_BUDGET + 100;
    let evicted = 1000;
    let store = MemoryStore::new(MemoryStoreConfig {
        max_spans: 2 * (traces - evicted) as usize,
        max_bytes: usize::MAX,
    });
    let front = process("front", vec![]);
    let back = process("back", vec![]);
    for t in 1..=traces {
        // Written oldest-ID first but starting in the opposite order.
        let start = traces - t;
        let root = span(t, 1, "root", &front, start, 2);
        let mut child = span(t, 2, "call", &back, start, 1);
        child.references.push(clew_model::Reference::child_of(
            child.trace_id,
            clew_model::SpanId(1),
        ));
        store.write_spans(vec![root, child]).await.ok();
    }
    let kept = traces - evicted;
    assert_eq!(store.stats().traces, kept);

    let mut q = query_all();
    q.limit = 5;
    let lows = found_lows(&store, &q).await;
    // The most recent starts belong to the oldest IDs still stored.
    assert_eq!(lows, (evicted + 1..=evicted + 5).collect::<Vec<_>>());

    let all = trace_lows(&store).await;
    assert_eq!(all, (evicted + 1..=traces).collect::<Vec<_>>());

    let deps = store
        .dependencies(T0, T0 + traces * crate::testsuite::MS)
        .await
        .unwrap_or_default();
    assert_eq!(deps.len(), 1);
    assert_eq!(
        (deps[0].parent.as_str(), deps[0].child.as_str()),
        ("front", "back")
    );
    assert_eq!(deps[0].call_count, kept);
}
