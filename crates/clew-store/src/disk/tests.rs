//! The disk store against the conformance suite (head only, blocks only,
//! compacted blocks), plus its own durability and maintenance stories.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use clew_model::{Span, Trace, TraceId};

use super::{DiskStore, DiskStoreConfig, WalSync};
use crate::query::{
    DependencyLink, Operation, Searched, SearchedSummaries, StoreStats, TraceQuery, TraceSummary,
};
use crate::testsuite::{self, MS, T0, process, query_all, span};
use crate::{StoreError, TraceReader, TraceWriter};

/// Fresh data directories under one temporary root.
struct Dirs {
    root: tempfile::TempDir,
    n: AtomicUsize,
}

impl Dirs {
    fn new() -> Self {
        Dirs {
            root: tempfile::tempdir().expect("temp dir"),
            n: AtomicUsize::new(0),
        }
    }
    fn config(&self) -> DiskStoreConfig {
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        let mut c = DiskStoreConfig::new(self.root.path().join(n.to_string()));
        c.maintenance_interval = None;
        c.wal_sync = WalSync::Never;
        c
    }
}

/// A disk store that cuts its head into a block after every write (and
/// optionally compacts), so reads exercise the block path.
struct Flushing {
    store: DiskStore,
    compact: bool,
    /// Cut by decoding the head's spans (the fallback) instead of
    /// transcoding its batches.
    decoded: bool,
}

impl Flushing {
    fn new(store: DiskStore, compact: bool) -> Flushing {
        Flushing {
            store,
            compact,
            decoded: false,
        }
    }
}

#[async_trait]
impl TraceWriter for Flushing {
    async fn write_spans(&self, spans: Vec<Span>) -> Result<(), StoreError> {
        self.store.write_spans(spans).await?;
        if self.decoded {
            self.store.inner.state.read().head.cut_by_decoding();
        }
        self.store.flush().await?;
        if self.compact {
            while self.store.compact().await? {}
        }
        Ok(())
    }
}

#[async_trait]
impl TraceReader for Flushing {
    async fn get_trace(&self, id: TraceId) -> Result<Option<Trace>, StoreError> {
        self.store.get_trace(id).await
    }
    async fn find_traces(&self, q: &TraceQuery) -> Result<Vec<Trace>, StoreError> {
        self.store.find_traces(q).await
    }
    async fn search_traces(&self, q: &TraceQuery) -> Result<Searched, StoreError> {
        self.store.search_traces(q).await
    }
    async fn find_trace_summaries(&self, q: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        self.store.find_trace_summaries(q).await
    }
    async fn search_trace_summaries(
        &self,
        q: &TraceQuery,
    ) -> Result<SearchedSummaries, StoreError> {
        self.store.search_trace_summaries(q).await
    }
    async fn services(&self) -> Result<Vec<String>, StoreError> {
        self.store.services().await
    }
    async fn operations(&self, s: &str, k: Option<&str>) -> Result<Vec<Operation>, StoreError> {
        self.store.operations(s, k).await
    }
    async fn dependencies(&self, a: u64, b: u64) -> Result<Vec<DependencyLink>, StoreError> {
        self.store.dependencies(a, b).await
    }
    fn stats(&self) -> StoreStats {
        self.store.stats()
    }
}

fn open(c: DiskStoreConfig) -> DiskStore {
    DiskStore::open_blocking(c).expect("open store")
}

#[tokio::test]
async fn conforms_with_spans_in_the_head() {
    let dirs = Dirs::new();
    testsuite::run_conformance(|| open(dirs.config())).await;
}

#[tokio::test]
async fn conforms_with_spans_in_blocks() {
    let dirs = Dirs::new();
    testsuite::run_conformance(|| Flushing::new(open(dirs.config()), false)).await;
}

#[tokio::test]
async fn conforms_with_spans_in_blocks_cut_by_decoding() {
    let dirs = Dirs::new();
    testsuite::run_conformance(|| Flushing {
        decoded: true,
        ..Flushing::new(open(dirs.config()), false)
    })
    .await;
}

#[tokio::test]
async fn a_head_cut_by_transcoding_reads_back_as_one_cut_by_decoding() {
    // Traces whose spans came in three writes (each child in a later write
    // than its parent, so parent indexes are re-based on the merged
    // trace): both cuts must give the same spans back.
    let dirs = Dirs::new();
    let (a, b) = (open(dirs.config()), open(dirs.config()));
    let p = process("svc", vec![clew_model::KeyValue::string("host", "h1")]);
    for round in 0..3u64 {
        let mut batch = Vec::new();
        for t in 1..=20u64 {
            let mut s = span(t, round + 1, "op", &p, t * 10 + round, 1);
            if round > 0 {
                s.references.push(clew_model::Reference::child_of(
                    s.trace_id,
                    clew_model::SpanId(round),
                ));
            }
            s.tags
                .push(clew_model::KeyValue::string("round", format!("r{round}")));
            batch.push(s);
        }
        a.write_spans(batch.clone()).await.expect("write");
        b.write_spans(batch).await.expect("write");
    }
    b.inner.state.read().head.cut_by_decoding();
    a.flush().await.expect("flush");
    b.flush().await.expect("flush");
    for t in 1..=20u64 {
        let id = TraceId::new(0, t);
        let ta = a.get_trace(id).await.expect("get").expect("trace");
        let tb = b.get_trace(id).await.expect("get").expect("trace");
        assert_eq!(ta.spans.len(), 3);
        assert_eq!(ta.spans, tb.spans, "trace {t}");
    }
}

#[tokio::test]
async fn conforms_with_spans_in_compacted_blocks() {
    let dirs = Dirs::new();
    testsuite::run_conformance(|| {
        let mut c = dirs.config();
        c.compaction_min_blocks = 2;
        Flushing::new(open(c), true)
    })
    .await;
}

fn ids(t: Option<Trace>) -> Vec<u64> {
    t.map(|t| t.spans.iter().map(|s| s.span_id.0).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn acknowledged_spans_survive_reopen_from_wal_and_blocks() {
    let dirs = Dirs::new();
    let mut c = dirs.config();
    c.wal_sync = WalSync::Always;
    let p = process("svc", vec![]);
    {
        let s = open(c.clone());
        s.write_spans(vec![span(1, 1, "a", &p, 0, 1)])
            .await
            .expect("write");
        s.flush().await.expect("flush");
        s.write_spans(vec![span(1, 2, "b", &p, 1, 1), span(2, 1, "c", &p, 2, 1)])
            .await
            .expect("write");
    }
    let (s, report) = DiskStore::open_with_report(c).await.expect("reopen");
    assert_eq!(report.blocks, 1);
    assert_eq!(report.replayed_spans, 2);
    assert_eq!(
        ids(s.get_trace(TraceId::new(0, 1)).await.expect("get")),
        vec![1, 2]
    );
    assert_eq!(
        ids(s.get_trace(TraceId::new(0, 2)).await.expect("get")),
        vec![1]
    );
    // A flush after replay does not duplicate what the block already has.
    s.flush().await.expect("flush");
    drop(s);
    let s = open(dirs_config_of(&dirs, 0));
    assert_eq!(
        ids(s.get_trace(TraceId::new(0, 1)).await.expect("get")),
        vec![1, 2]
    );
}

fn dirs_config_of(dirs: &Dirs, n: usize) -> DiskStoreConfig {
    let mut c = DiskStoreConfig::new(dirs.root.path().join(n.to_string()));
    c.maintenance_interval = None;
    c
}

#[tokio::test]
async fn a_torn_wal_tail_is_truncated_and_reported() {
    let dirs = Dirs::new();
    let c = dirs.config();
    let p = process("svc", vec![]);
    {
        let s = open(c.clone());
        s.write_spans(vec![span(1, 1, "a", &p, 0, 1)])
            .await
            .expect("write");
        s.write_spans(vec![span(2, 1, "b", &p, 0, 1)])
            .await
            .expect("write");
    }
    let wal_dir = c.data_dir.join("wal");
    let (_, path) = super::wal::list_segments(&wal_dir)
        .expect("list")
        .into_iter()
        .last()
        .expect("a segment");
    let len = std::fs::metadata(&path).expect("meta").len();
    // Tear the last record: drop its final bytes, as a crash mid-write would.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    f.set_len(len - 3).expect("truncate");
    drop(f);
    let (s, report) = DiskStore::open_with_report(c.clone())
        .await
        .expect("reopen");
    assert_eq!(report.wal_truncations.len(), 1, "{report:?}");
    assert_eq!(
        ids(s.get_trace(TraceId::new(0, 1)).await.expect("get")),
        vec![1]
    );
    assert!(
        s.get_trace(TraceId::new(0, 2))
            .await
            .expect("get")
            .is_none()
    );
    assert_eq!(s.persistence_stats().map(|p| p.wal_truncations), Some(1));
    // Writes after recovery land after the cut point and survive.
    s.write_spans(vec![span(3, 1, "c", &p, 0, 1)])
        .await
        .expect("write");

    drop(s);
    let (s, report) = DiskStore::open_with_report(c).await.expect("reopen");
    assert!(report.wal_truncations.is_empty(), "{report:?}");
    assert_eq!(
        ids(s.get_trace(TraceId::new(0, 3)).await.expect("get")),
        vec![1]
    );
}

#[tokio::test]
async fn a_corrupt_block_is_skipped_with_an_error_and_the_rest_served() {
    let dirs = Dirs::new();
    let c = dirs.config();
    let p = process("svc", vec![]);
    let s = open(c.clone());
    s.write_spans(vec![span(1, 1, "a", &p, 0, 1)])
        .await
        .expect("write");
    s.flush().await.expect("flush");
    s.write_spans(vec![span(2, 1, "b", &p, 10, 1)])
        .await
        .expect("write");
    s.flush().await.expect("flush");

    drop(s);
    // Flip a byte inside the first page of the older block.
    let mut blocks: Vec<_> = std::fs::read_dir(c.data_dir.join("blocks"))
        .expect("blocks dir")
        .map(|e| e.expect("entry").path())
        .collect();
    blocks.sort();
    let mut bytes = std::fs::read(&blocks[0]).expect("read block");
    bytes[10] ^= 0xff;
    std::fs::write(&blocks[0], bytes).expect("write block");
    let s = open(c);
    assert!(
        s.get_trace(TraceId::new(0, 1))
            .await
            .expect("get")
            .is_none()
    );
    assert_eq!(
        ids(s.get_trace(TraceId::new(0, 2)).await.expect("get")),
        vec![1]
    );
    let found = s.find_traces(&query_all()).await.expect("find");
    assert_eq!(found.len(), 1);
    assert!(s.persistence_stats().map_or(0, |p| p.corrupt_block_reads) >= 1);
}

#[tokio::test]
async fn retention_deletes_whole_old_blocks_and_prunes_services() {
    let dirs = Dirs::new();
    let mut c = dirs.config();
    c.retention = Some(std::time::Duration::from_secs(3600));
    let s = open(c);
    let old = process("old-service", vec![]);
    let new = process("new-service", vec![]);
    // T0 is 2023: far older than an hour.
    s.write_spans(vec![span(1, 1, "a", &old, 0, 1)])
        .await
        .expect("write");
    s.flush().await.expect("flush");
    let mut fresh = span(2, 1, "b", &new, 0, 1);
    fresh.start_time = super::now_ns();
    s.write_spans(vec![fresh]).await.expect("write");
    s.flush().await.expect("flush");
    assert_eq!(s.services().await.expect("services").len(), 2);
    assert_eq!(s.apply_retention().await.expect("retention"), 1);
    assert_eq!(s.services().await.expect("services"), vec!["new-service"]);
    assert!(
        s.get_trace(TraceId::new(0, 1))
            .await
            .expect("get")
            .is_none()
    );
    assert_eq!(s.stats().evicted_spans, 1);
}

#[tokio::test]
async fn retention_by_size_deletes_oldest_blocks_first() {
    let dirs = Dirs::new();
    let mut c = dirs.config();
    c.retention = None;
    let p = process("svc", vec![]);
    let s = open(c.clone());
    for t in 1..=4 {
        s.write_spans(vec![span(t, 1, "op", &p, t * 10, 1)])
            .await
            .expect("write");
        s.flush().await.expect("flush");
    }
    let per_block = s.persistence_stats().map_or(0, |p| p.block_bytes) / 4;
    drop(s);
    c.max_bytes = Some(per_block * 2 + per_block / 2);
    let s = open(c);
    assert_eq!(s.apply_retention().await.expect("retention"), 2);
    let found: Vec<u64> = s
        .find_traces(&query_all())
        .await
        .expect("find")
        .iter()
        .filter_map(|t| t.trace_id().map(|i| i.low))
        .collect();
    assert_eq!(found, vec![4, 3]);
}

#[tokio::test]
async fn compaction_merges_blocks_and_groups_a_trace_written_minutes_apart() {
    let dirs = Dirs::new();
    let mut c = dirs.config();
    c.compaction_min_blocks = 3;
    let s = open(c.clone());
    let p = process("svc", vec![]);
    for i in 0..3 {
        s.write_spans(vec![span(7, i + 1, "op", &p, i * 60_000, 1)])
            .await
            .expect("write");
        s.flush().await.expect("flush");
    }
    assert_eq!(s.persistence_stats().map(|p| p.blocks), Some(3));
    assert!(s.compact().await.expect("compact"));
    let st = s.persistence_stats().expect("stats");
    assert_eq!((st.blocks, st.compactions), (1, 1));
    assert_eq!(
        ids(s.get_trace(TraceId::new(0, 7)).await.expect("get")),
        vec![1, 2, 3]
    );
    drop(s);
    // Reopen before the replaced blocks were deleted: they stay hidden.
    let (s, report) = DiskStore::open_with_report(c).await.expect("reopen");
    assert_eq!((report.blocks, report.replaced_blocks), (1, 3));
    assert_eq!(
        ids(s.get_trace(TraceId::new(0, 7)).await.expect("get")),
        vec![1, 2, 3]
    );
}

#[tokio::test]
async fn summaries_come_sorted_before_the_limit_is_applied() {
    // jaegertracing/jaeger#166: the limit must keep the most recent
    // matching traces, wherever they are stored.
    let dirs = Dirs::new();
    let s = open(dirs.config());
    let fe = process("frontend", vec![]);
    let be = process("backend", vec![]);
    for t in 1..=5u64 {
        let mut root = span(t, 1, "GET /", &fe, t * 100, 50);
        root.tags
            .push(clew_model::KeyValue::string("http.method", "GET"));
        let mut child = span(t, 2, "query", &be, t * 100 + 1, 10);
        child.references.push(clew_model::Reference::child_of(
            TraceId::new(0, t),
            clew_model::SpanId(1),
        ));
        if t % 2 == 0 {
            child.tags.push(clew_model::KeyValue::bool("error", true));
        }
        s.write_spans(vec![child, root]).await.expect("write");
        if t == 2 || t == 4 {
            s.flush().await.expect("flush");
        }
    }
    let mut q = query_all();
    q.tags = vec![crate::TagFilter {
        key: "http.method".into(),
        value: "GET".into(),
    }];
    q.limit = 3;
    let sums = s.find_trace_summaries(&q).await.expect("summaries");
    let got: Vec<u64> = sums.iter().map(|x| x.trace_id.low).collect();
    assert_eq!(got, vec![5, 4, 3]);
    let four = &sums[1];
    assert_eq!(four.root_service, "frontend");
    assert_eq!(four.root_operation, "GET /");
    assert_eq!((four.span_count, four.error_count), (2, 1));
    let names: Vec<&str> = four.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["backend", "frontend"]);
    let counts: Vec<(u64, u64)> = four
        .services
        .iter()
        .map(|s| (s.span_count, s.error_count))
        .collect();
    assert_eq!(counts, [(1, 1), (1, 0)]);
    assert_eq!(four.start, T0 + 400 * MS);
    assert_eq!(four.duration, 50 * MS);
}

#[tokio::test]
async fn summaries_read_from_block_columns_equal_those_of_the_whole_trace() {
    // Without tag filters a block page answers summaries from its columns;
    // they must be what the decoded trace gives, wherever it is stored
    // (one block, split over a block and the head, or two blocks).
    let dirs = Dirs::new();
    let s = open(dirs.config());
    let fe = process("frontend", vec![]);
    let be = process("backend", vec![]);
    for t in 1..=6u64 {
        let mut child = span(t, 2, "query", &be, t * 100 + 1, 70);
        child.references.push(clew_model::Reference::child_of(
            TraceId::new(0, t),
            clew_model::SpanId(1),
        ));
        if t % 2 == 0 {
            child
                .tags
                .push(clew_model::KeyValue::string("error", "true"));
        }
        let root = span(t, 1, "GET /", &fe, t * 100, 50);
        s.write_spans(vec![child, root]).await.expect("write");
        if t == 3 {
            s.flush().await.expect("flush");
        }
    }
    // Trace 6 gets a late span after its first part is in a block, and
    // trace 7 (its root missing) an orphan in the head that points to a
    // span in a block: neither part alone knows which spans are orphans.
    let lost = |id: u64, parent: u64, start: u64| {
        let mut s = span(7, id, "lost", &be, start, 1);
        s.references.push(clew_model::Reference::child_of(
            TraceId::new(0, 7),
            clew_model::SpanId(parent),
        ));
        s
    };
    s.write_spans(vec![lost(2, 1, 700)]).await.expect("write");
    s.flush().await.expect("flush");
    let late = span(6, 3, "late", &be, 600 + 5, 1);
    s.write_spans(vec![late, lost(3, 2, 701)])
        .await
        .expect("write");
    let mut q = query_all();
    q.service = Some("backend".into());
    let sums = s.find_trace_summaries(&q).await.expect("summaries");
    assert_eq!(sums.len(), 7);
    for sum in &sums {
        let trace = s
            .get_trace(sum.trace_id)
            .await
            .expect("get")
            .expect("trace");
        assert_eq!(Some(sum), crate::TraceSummary::of(&trace.spans).as_ref());
    }
    assert_eq!(
        (sums[0].orphan_count, sums[0].root_service.as_str()),
        (1, ""),
        "trace 7: one orphan across block and head, no root"
    );
    // The deadline-aware search gives the same, complete.
    let searched = s.inner.search_summaries(&q).await;
    assert!(searched.complete && !searched.cut_at_max_bytes);
    assert_eq!(searched.summaries, sums);
}

#[tokio::test]
async fn summaries_that_need_a_whole_trace_stop_at_the_deadline() {
    let dirs = Dirs::new();
    let s = open(dirs.config());
    let p = process("svc", vec![]);
    for t in 1..=2u64 {
        s.write_spans(vec![span(t, 1, "op", &p, t, 1)])
            .await
            .expect("write");
    }
    s.flush().await.expect("flush");
    // Trace 2 continues in the head: its summary needs the trace read.
    s.write_spans(vec![span(2, 2, "op", &p, 3, 1)])
        .await
        .expect("write");
    let mut q = query_all();
    let all = s.inner.search_summaries(&q).await;
    assert!(all.complete);
    assert_eq!(all.summaries.len(), 2);
    q.deadline = Some(std::time::Instant::now());
    let late = s.inner.search_summaries(&q).await;
    assert!(!late.complete, "stopped early: the answer says so");
    assert!(
        all.summaries.starts_with(&late.summaries),
        "what came is the best of the whole answer"
    );
}

/// `writers` tasks each writing `per_writer` one-span traces (trace ID
/// `writer * 1000 + i + 1`) at once, until every write is acknowledged.
async fn write_concurrently(s: &Arc<DiskStore>, writers: u64, per_writer: u64) {
    let p = process("svc", vec![]);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let s = s.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let t = w * 1000 + i + 1;
                s.write_spans(vec![span(t, 1, "op", &p, i, 1)])
                    .await
                    .expect("write");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
}

#[tokio::test]
async fn concurrent_writers_all_land() {
    let dirs = Dirs::new();
    let mut c = dirs.config();
    c.wal_sync = WalSync::Always;
    let s = Arc::new(open(c));
    write_concurrently(&s, 8, 50).await;
    assert_eq!(s.stats().spans, 400);
}

/// Writers outrunning the cuts wait for room instead of growing the head
/// without bound, and every acknowledged span lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_wait_for_cuts_when_the_head_backlog_is_full() {
    let dirs = Dirs::new();
    let mut c = dirs.config();
    c.head_max_spans = 5;
    c.maintenance_interval = Some(std::time::Duration::from_millis(5));
    c.retention = None; // the fixture spans are years old
    let s = Arc::new(DiskStore::open(c).await.expect("open"));
    write_concurrently(&s, 4, 40).await;
    let ps = s.persistence_stats().expect("disk store");
    assert!(ps.blocks_cut > 0, "the head was cut while writing");
    assert_eq!(s.stats().spans, 160);
    for w in 0..4u64 {
        let id = TraceId::new(0, w * 1000 + 40);
        assert!(s.get_trace(id).await.expect("get").is_some());
    }
}

#[tokio::test]
async fn inspect_lists_blocks_and_verify_finds_a_flipped_byte() {
    let dirs = Dirs::new();
    let c = dirs.config();
    let p = process("svc", vec![]);
    let s = open(c.clone());
    s.write_spans(vec![span(1, 1, "a", &p, 0, 1), span(2, 1, "b", &p, 5, 1)])
        .await
        .expect("write");
    s.flush().await.expect("flush");
    s.write_spans(vec![span(3, 1, "c", &p, 9, 1)])
        .await
        .expect("write");

    drop(s);
    let r = super::inspect_dir(&c.data_dir).await.expect("inspect");
    assert_eq!(r.blocks.len(), 1);
    let b = r.blocks[0].index.as_ref().expect("index readable");
    assert_eq!((b.spans, b.traces, b.min_start), (2, 2, T0));
    assert_eq!(r.wal.iter().map(|w| w.records).sum::<usize>(), 1);
    assert!(
        super::verify_dir(&c.data_dir)
            .await
            .expect("verify")
            .errors
            .is_empty()
    );
    let path = c.data_dir.join(&r.blocks[0].path);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[9] ^= 1;
    std::fs::write(&path, bytes).expect("write");
    let v = super::verify_dir(&c.data_dir).await.expect("verify");
    assert_eq!(v.errors.len(), 1, "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_during_compaction_and_retention_always_see_acknowledged_spans() {
    let dirs = Dirs::new();
    let mut c = dirs.config();
    c.compaction_min_blocks = 2;
    c.page_spans = 8;
    let s = Arc::new(open(c));
    let p = process("svc", vec![]);
    for b in 0..6u64 {
        let spans = (0..20).map(|t| span(b * 100 + t + 1, 1, "op", &p, b * 100 + t, 1));
        s.write_spans(spans.collect()).await.expect("write");
        s.flush().await.expect("flush");
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (s, stop) = (s.clone(), stop.clone());
        tokio::spawn(async move {
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) || reads < 50 {
                for b in 0..6u64 {
                    let id = TraceId::new(0, b * 100 + (reads % 20) + 1);
                    let got = s.get_trace(id).await.expect("get");
                    assert_eq!(ids(got), vec![1], "trace {id} vanished mid-compaction");
                }
                let all = s.find_traces(&query_all()).await.expect("find");
                assert_eq!(all.len(), 100, "search lost traces mid-compaction");
                reads += 1;
                tokio::task::yield_now().await;
            }
            reads
        })
    };
    while s.compact().await.expect("compact") {}
    stop.store(true, Ordering::Relaxed);
    assert!(reader.await.expect("reader") >= 50);
    let st = s.persistence_stats().expect("stats");
    assert!(st.compactions >= 1 && st.blocks < 6, "{st:?}");
    assert_eq!(s.stats().spans, 120);
}

#[tokio::test]
async fn a_block_whose_traces_stop_coming_is_never_published() {
    // A merged block names its inputs in `replaces`: published with part
    // of them missing, the next open would delete spans. The streaming
    // writer completes its upload only when told every trace arrived.
    use object_store::ObjectStoreExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let objects: Arc<dyn object_store::ObjectStore> = Arc::new(
        object_store::local::LocalFileSystem::new_with_prefix(dir.path()).expect("local store"),
    );
    let writes = Arc::new(tokio::sync::RwLock::new(()));
    let p = process("svc", vec![]);
    for complete in [false, true] {
        let path = object_store::path::Path::from(format!("blocks/{complete}.blk"));
        let spans = vec![span(1, 1, "op", &p, 0, 1)];
        let written = super::upload::write_block(
            objects.clone(),
            path.clone(),
            clew_segment::BlockOptions::default(),
            writes.clone().read_owned().await,
            move |w| {
                w.push(clew_segment::TraceSpans {
                    id: TraceId::new(0, 1),
                    spans,
                });
                complete
            },
        )
        .await;
        assert_eq!(written.is_ok(), complete);
        assert_eq!(objects.head(&path).await.is_ok(), complete);
    }
    // Nor is its staging file left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("blocks"))
        .expect("blocks dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["true.blk".to_string()]);
}

/// Traces that all start at one instant (a burst, a load generator that
/// stamps one time): no block or page can be skipped by time, so the search
/// reads them all, keeping only the best `limit` — and returns the same
/// answer as a full sort, ties by trace ID descending, a trace split across
/// blocks whole.
#[tokio::test]
async fn a_search_over_traces_sharing_one_start_keeps_only_the_best_limit() {
    let dirs = Dirs::new();
    let s = open(dirs.config());
    let p = process("svc", vec![]);
    for block in 0..4u64 {
        let spans: Vec<Span> = (0..300u64)
            .flat_map(|i| {
                let t = 1 + block * 300 + i;
                [span(t, 1, "a", &p, 0, 1), span(t, 2, "b", &p, 0, 1)]
            })
            .collect();
        s.write_spans(spans).await.expect("write");
        s.flush().await.expect("flush");
    }
    // The best trace gets a third span in a later block.
    s.write_spans(vec![span(1200, 3, "c", &p, 0, 1)])
        .await
        .expect("write");
    s.flush().await.expect("flush");
    let mut q = query_all();
    q.limit = 25;
    let found = s.find_traces(&q).await.expect("find");
    let got: Vec<u64> = found.iter().map(|t| t.spans[0].trace_id.low).collect();
    let want: Vec<u64> = (1176..=1200).rev().collect();
    assert_eq!(got, want);
    assert_eq!(found[0].spans.len(), 3, "split across blocks, read whole");
    assert!(found[1..].iter().all(|t| t.spans.len() == 2));
    let sums = s.find_trace_summaries(&q).await.expect("summaries");
    let sum_ids: Vec<u64> = sums.iter().map(|x| x.trace_id.low).collect();
    assert_eq!(sum_ids, want);
}

#[tokio::test]
async fn a_search_stops_reading_whole_traces_at_its_byte_bound() {
    let dirs = Dirs::new();
    let s = open(dirs.config());
    let p = process("svc", vec![]);
    let spans: Vec<Span> = (1..=100u64)
        .flat_map(|t| (1..=5).map(move |i| (t, i)))
        .map(|(t, i)| span(t, i, "op", &p, t, 1))
        .collect();
    s.write_spans(spans).await.expect("write");
    s.flush().await.expect("flush");
    let mut q = query_all();
    q.limit = 100;
    let all = s.find_traces(&q).await.expect("find");
    assert_eq!(all.len(), 100);
    let one: usize = all[0].spans.iter().map(Span::estimated_size).sum();
    q.max_bytes = Some(one * 3 + 1);
    let cut = s.find_traces(&q).await.expect("find");
    assert_eq!(
        cut.len(),
        4,
        "reads until the bound is reached, that trace included"
    );
    assert_eq!(cut[..], all[..4]);
    q.max_bytes = Some(1);
    let first = s.find_traces(&q).await.expect("find");
    assert_eq!(first.len(), 1, "the first trace always comes");
    assert_eq!(first[0], all[0]);
}

#[tokio::test]
async fn a_search_past_its_deadline_returns_what_it_found_marked_incomplete() {
    let dirs = Dirs::new();
    let s = open(dirs.config());
    let p = process("svc", vec![]);
    for t in 1..=3u64 {
        s.write_spans(vec![span(t, 1, "op", &p, t, 1)])
            .await
            .expect("write");
        s.flush().await.expect("flush");
    }
    s.write_spans(vec![span(4, 1, "op", &p, 4, 1)])
        .await
        .expect("write");
    let mut q = query_all();
    let all = s.search_traces(&q).await.expect("search");
    assert!(all.complete);
    assert_eq!(all.traces.len(), 4);
    q.deadline = Some(std::time::Instant::now());
    let late = s.search_traces(&q).await.expect("search");
    assert!(!late.complete, "no block was read: the answer says so");
    let ids: Vec<u64> = late
        .traces
        .iter()
        .map(|t| t.spans[0].trace_id.low)
        .collect();
    assert_eq!(ids, [4], "the head is searched before any block");
}

/// A crash during a block upload leaves the upload's staging file
/// (`<block>#<n>`) beside the blocks; the object store's listing never
/// shows it, so only the next open can delete it. Blocks stay.
#[tokio::test]
async fn open_deletes_staging_files_of_interrupted_uploads() {
    let dirs = Dirs::new();
    let config = dirs.config();
    let s = DiskStore::open(config.clone()).await.expect("open");
    let p = process("svc", Vec::new());
    s.write_spans(vec![span(7, 1, "op", &p, 0, 1)])
        .await
        .expect("write");
    assert_eq!(s.flush().await.expect("flush"), 1);
    s.close().await;
    drop(s);
    let blocks = config.data_dir.join("blocks");
    let block = std::fs::read_dir(&blocks)
        .expect("blocks dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "blk"))
        .expect("the flushed block");
    let staged = blocks.join(format!(
        "{}#17",
        block
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
    ));
    std::fs::write(&staged, b"half a block").expect("write staging file");

    let (s, report) = DiskStore::open_with_report(config).await.expect("reopen");
    assert_eq!(report.staging_files_removed, 1);
    assert!(!staged.exists(), "staging leftover still there");
    assert!(block.exists(), "a block was deleted");
    assert_eq!(report.blocks, 1);
    assert!(
        s.get_trace(TraceId::new(0, 7))
            .await
            .expect("read")
            .is_some()
    );
}

/// A search of the head visits batches newest first and stops once nothing
/// older can enter the answer: its answer must be the exhaustive search's
/// first `limit`, with and without a tag, also for a trace whose first
/// span came in the oldest batch and whose last in the newest (it starts
/// earliest, so it ranks last).
#[tokio::test]
async fn a_limited_head_search_is_the_exhaustive_one_cut_short() {
    let dirs = Dirs::new();
    let s = open(dirs.config());
    let p = process("svc", vec![]);
    let tagged = |mut sp: Span, t: u64| {
        if t.is_multiple_of(3) {
            sp.tags.push(clew_model::KeyValue::string("k", "v"));
        }
        sp
    };
    s.write_spans(vec![span(1000, 1, "op", &p, 1, 1)])
        .await
        .expect("write");
    for b in 0..60u64 {
        let spans = (0..4)
            .map(|i| {
                let t = b * 4 + i + 1;
                tagged(span(t, 1, "op", &p, 10 + t * 10, 1), t)
            })
            .collect();
        s.write_spans(spans).await.expect("write");
    }
    s.write_spans(vec![tagged(span(1000, 2, "op", &p, 5000, 1), 0)])
        .await
        .expect("write");
    for tags in [false, true] {
        let mut q = query_all();
        if tags {
            q.tags = vec![crate::TagFilter {
                key: "k".into(),
                value: "v".into(),
            }];
        }
        q.limit = 0;
        let all = s.search_traces(&q).await.expect("search");
        let all: Vec<u64> = all.traces.iter().map(|t| t.spans[0].trace_id.low).collect();
        assert_eq!(all.len(), if tags { 81 } else { 241 }, "tags: {tags}");
        assert_eq!(all[0], 240, "tags: {tags}");
        assert_eq!(
            all[all.len() - 1],
            1000,
            "starts first, ranks last; tags: {tags}"
        );
        for limit in [1, 7, 30, 100, 241] {
            q.limit = limit;
            let got = s.search_traces(&q).await.expect("search");
            assert!(got.complete);
            let got: Vec<u64> = got.traces.iter().map(|t| t.spans[0].trace_id.low).collect();
            let want = &all[..limit.min(all.len())];
            assert_eq!(got, want, "tags: {tags}, limit {limit}");
        }
    }
}

/// A trace cut in two while a search runs has spans in the head and in a
/// frozen head; the head's walk stops early, so it must rank the trace by
/// its earliest span in either, or a later trace of the head is lost.
#[test]
fn a_trace_in_two_heads_ranks_by_its_earliest_span() {
    use super::head::Head;
    use super::search::search_heads;
    use super::topk::TopK;
    let p = process("svc", vec![]);
    let into = |head: &Head, spans: Vec<Span>| {
        let bytes = clew_segment::encode_batch(&clew_segment::group_by_trace(spans));
        let batch = clew_segment::Batch::parse(bytes.into()).expect("batch");
        head.insert(batch, vec![]);
    };
    // Frozen (older): T's first span at 100 ms. Head: T's second span at
    // 500 ms (its own batch, the newest), U at 400 ms.
    let frozen = Head::default();
    into(&frozen, vec![span(1, 1, "op", &p, 100, 1)]);
    let head = Head::default();
    into(&head, vec![span(2, 1, "op", &p, 400, 1)]);
    into(&head, vec![span(1, 2, "op", &p, 500, 1)]);
    let mut q = query_all();
    q.limit = 1;
    let filter = clew_segment::SpanFilter {
        start_min: q.start_min,
        start_max: q.start_max,
        ..Default::default()
    };
    let mut found = TopK::new(1, usize::MAX);
    assert!(search_heads(
        &[&head, &frozen],
        &q,
        &filter,
        &mut found,
        &|| false
    ));
    let hits: Vec<u64> = found.into_hits().iter().map(|h| h.1.low).collect();
    assert_eq!(hits, [2], "U (400 ms) is more recent than T (from 100 ms)");
}
