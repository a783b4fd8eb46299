//! `close()` while the background task is cutting the head: every span
//! must come back exactly once after a restart.
//!
//! The defect this pins down: `close()` used to abort the background task
//! first. A cut aborted while its block was being written left the write
//! running on a blocking thread and the frozen head in the state, so
//! `close()`'s own cut wrote the same spans again as a second block (same
//! WAL watermark, neither replacing the other) and every trace came back
//! with each span twice. `tests/crash.rs` met it in about one run of seven.

use std::sync::Arc;
use std::time::Duration;

use clew_model::{KeyValue, Process, Span, SpanId, TraceId};
use clew_store::{DiskStore, DiskStoreConfig, TraceReader, TraceWriter, WalSync};

const TRACES: u64 = 50;
const SPANS_PER_TRACE: u64 = 4;

fn config(dir: &std::path::Path) -> DiskStoreConfig {
    let mut c = DiskStoreConfig::new(dir);
    c.wal_sync = WalSync::Always;
    // One batch fills the head, so its write wakes a cut at once.
    c.head_max_spans = TRACES * SPANS_PER_TRACE;
    c.compaction_min_blocks = 2;
    c.page_spans = 64;
    c.maintenance_interval = Some(Duration::from_millis(1));
    c.retention = None;
    c
}

fn batch(round: u64, process: &Arc<Process>) -> Vec<Span> {
    let mut spans = Vec::new();
    for t in 0..TRACES {
        for i in 0..SPANS_PER_TRACE {
            let mut s = Span::new(
                TraceId::new(round, t + 1),
                SpanId(i + 1),
                "op",
                process.clone(),
            );
            s.start_time = 1_700_000_000_000_000_000 + (round * 1000 + t) * 1_000_000;
            s.duration = 1_000;
            s.tags.push(KeyValue::string("round", round.to_string()));
            spans.push(s);
        }
    }
    spans
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_during_a_background_cut_keeps_each_span_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = Arc::new(Process {
        service_name: "close-test".into(),
        tags: vec![],
    });
    // Each round closes while the cut its write started is writing its
    // block, then checks its spans after a restart.
    for round in 1..=20u64 {
        let store = DiskStore::open(config(dir.path())).await.expect("open");
        store.write_spans(batch(round, &p)).await.expect("write");
        block_write_in_flight(dir.path()).await;
        store.close().await;
        drop(store);

        let store = DiskStore::open(config(dir.path())).await.expect("reopen");
        assert_each_span_once(&store, round..=round).await;
        store.close().await;
    }
    // Compactions after the restarts must not bring a duplicate back.
    let store = DiskStore::open(config(dir.path())).await.expect("reopen");
    while store.compact().await.expect("compact") {}
    assert_each_span_once(&store, 1..=20).await;
    store.close().await;
}

/// Returns once a block is being written (the object store's staging file,
/// `<block>#<n>`, exists) or, if none shows up, after a second (that round
/// then closes at another moment, which is a valid case too).
async fn block_write_in_flight(dir: &std::path::Path) {
    let blocks = dir.join("blocks");
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while std::time::Instant::now() < deadline {
        let staging = std::fs::read_dir(&blocks).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().contains(".blk#"))
        });
        if staging {
            return;
        }
        tokio::time::sleep(Duration::from_micros(100)).await;
    }
}

async fn assert_each_span_once(store: &DiskStore, rounds: std::ops::RangeInclusive<u64>) {
    for r in rounds {
        for t in 0..TRACES {
            let got = store
                .get_trace(TraceId::new(r, t + 1))
                .await
                .expect("get_trace");
            assert_eq!(
                got.map_or(0, |t| t.spans.len() as u64),
                SPANS_PER_TRACE,
                "trace {r}/{t} lost or duplicated by close() during a cut"
            );
        }
    }
}
