//! The embedded, crash-safe store: WAL → head → immutable blocks.
//!
//! ```text
//! write_spans ─► encode batch ─► WAL (group commit, fsync) ─► ack
//!                      └─► decode from the record ─► head (sharded)
//! every tick:  head too big/old ─► freeze + rotate WAL ─► block (clew-segment)
//!              ─► ObjectStore::put ─► listed ─► WAL segments deleted
//!              small blocks ─► compaction; old/oversize blocks ─► retention
//! reads:       head + frozen heads + blocks (index → byte ranges)
//! ```
//!
//! Files under the data directory: `wal/<seq>.wal` (local files, the only
//! thing that must be local) and `blocks/*.blk` (through [`ObjectStore`], so
//! the same code serves a bucket later). Replay after a crash reads the WAL
//! segments newer than the newest block's watermark; a block that lists
//! others in `replaces` hides them (compaction interrupted by a crash).

mod block;
mod head;
mod inspect;
mod maintenance;
mod merge;
mod search;
#[cfg(test)]
mod tests;
mod topk;
mod upload;
mod wal;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use clew_model::{Span, Trace, TraceId};
use clew_segment::{Batch, encode_batch, group_by_trace};
use futures::TryStreamExt;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use parking_lot::RwLock;

pub use inspect::{
    BlockInfo, BlockSummary, DataDirReport, WalSegmentInfo, inspect_dir, verify_dir,
};
pub use wal::{WAL_MAGIC, WalSync};

use crate::query::{
    DependencyLink, Operation, PersistenceStats, Searched, SearchedSummaries, StoreStats,
    TraceQuery,
};
use crate::{StoreError, TraceReader, TraceWriter};
use block::{BLOCKS_PREFIX, Block};
use head::Head;

/// Settings of a [`DiskStore`]; `DiskStoreConfig::new(dir)` gives defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct DiskStoreConfig {
    /// Root directory (`wal/` and `blocks/` live under it).
    pub data_dir: PathBuf,
    /// When the WAL fsyncs ([`WalSync::Always`]: before every ack).
    pub wal_sync: WalSync,
    /// Cut the head into a block once it holds this many spans…
    pub head_max_spans: u64,
    /// …or this many bytes of records (high-entropy spans take several
    /// times the bytes of tracegen's; writers wait once the heads hold
    /// three times this, `HEAD_BACKLOG_FACTOR`, so the heads' memory has
    /// a budget in bytes too)…
    pub head_max_bytes: u64,
    /// …or once its oldest write is this old.
    pub head_max_age: Duration,
    /// Delete blocks whose newest span ended longer ago than this.
    pub retention: Option<Duration>,
    /// Delete the oldest blocks while all blocks take more bytes than this.
    pub max_bytes: Option<u64>,
    /// Merge small blocks once at least this many are adjacent in time.
    pub compaction_min_blocks: usize,
    /// A block with fewer spans than this counts as small; merged blocks
    /// stay under it.
    pub compaction_max_spans: u64,
    /// Spans per page in new blocks.
    pub page_spans: usize,
    /// zstd level for blocks cut from the head (ingest-time CPU matters).
    pub zstd_level: i32,
    /// zstd level for merged blocks (written once, kept long: smaller wins).
    pub compaction_zstd_level: i32,
    /// Spans per page in merged blocks: larger pages compress better
    /// (tracegen: 11.4 B/span at 8,192 against 12.0 at 4,096), and a
    /// trace-by-ID read still decodes one trace of one page.
    pub compaction_page_spans: usize,
    /// How often the background task checks cut, compaction, retention
    /// (`None`: never; tests call [`DiskStore::flush`] and friends).
    pub maintenance_interval: Option<Duration>,
}

/// Spans the head holds before it is cut. Half of
/// [`DiskStoreConfig::compaction_max_spans`], so a head cut at this size
/// is written once as a final block, never merged: each span is encoded
/// for the WAL and transcoded once. (At 200,000, every span was
/// transcoded twice, at the cut and at compaction, which was a third of
/// the server's CPU under full ingest.) A head of tracegen spans takes
/// about 100 bytes per span and replays at about 4 million spans/s.
pub const DEFAULT_HEAD_MAX_SPANS: u64 = 1_000_000;
/// Bytes of encoded batches the head holds before it is cut (spans with
/// many or long attributes reach this before the span count).
pub const DEFAULT_HEAD_MAX_BYTES: u64 = 96 << 20;

impl DiskStoreConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        DiskStoreConfig {
            data_dir: data_dir.into(),
            wal_sync: WalSync::Always,
            head_max_spans: DEFAULT_HEAD_MAX_SPANS,
            head_max_bytes: DEFAULT_HEAD_MAX_BYTES,
            head_max_age: Duration::from_secs(120),
            retention: Some(Duration::from_secs(7 * 24 * 3600)),
            max_bytes: None,
            compaction_min_blocks: 4,
            // Merged blocks stay under this; compaction holds one decoded
            // page per input, not its inputs (disk/merge.rs).
            compaction_max_spans: 2_000_000,
            page_spans: 4096,
            zstd_level: 3,
            compaction_zstd_level: 9,
            compaction_page_spans: 8192,
            maintenance_interval: Some(Duration::from_secs(1)),
        }
    }
}

#[derive(Default)]
struct Counters {
    blocks_cut: AtomicU64,
    compactions: AtomicU64,
    retention_deleted_blocks: AtomicU64,
    retention_deleted_spans: AtomicU64,
    corrupt_block_reads: AtomicU64,
    replay_wal_truncations: AtomicU64,
}

/// What readers see: the active head, heads being cut, and the blocks.
#[derive(Clone)]
struct State {
    head: Arc<Head>,
    /// Frozen heads with the last WAL segment each covers, oldest first.
    frozen: Vec<(Arc<Head>, u64)>,
    /// Blocks, oldest first by start time.
    blocks: Arc<Vec<Arc<Block>>>,
}

impl State {
    /// The head, then the frozen heads, oldest first.
    fn heads(&self) -> impl Iterator<Item = &Head> {
        std::iter::once(&*self.head).chain(self.frozen.iter().map(|(h, _)| &**h))
    }
}

struct Inner {
    config: DiskStoreConfig,
    objects: Arc<dyn ObjectStore>,
    wal: wal::Wal,
    /// Writers hold it shared from WAL append to head insert; a cut holds
    /// it exclusively to rotate the WAL and swap the head as one step.
    gate: tokio::sync::RwLock<()>,
    state: RwLock<State>,
    /// One cut/retention pass at a time.
    maintenance: tokio::sync::Mutex<()>,
    /// One compaction at a time; separate from `maintenance` so a long
    /// merge never holds up cutting the head (which bounds its memory).
    compaction: tokio::sync::Mutex<()>,
    counters: Counters,
    next_block_id: AtomicU64,
    /// Blocks replaced or expired, deleted after a grace period so readers
    /// holding an older snapshot can finish.
    graveyard: parking_lot::Mutex<Vec<(std::time::Instant, ObjectPath)>>,
    wake: tokio::sync::Notify,
    /// Each block writer (a blocking-pool thread) holds a read guard until
    /// it is done, so [`DiskStore::abandon`] can wait for them.
    block_writes: Arc<tokio::sync::RwLock<()>>,
    /// Signalled after each head is written as a block (writers waiting
    /// for the head backlog to shrink).
    cut_done: tokio::sync::Notify,
}

/// The embedded persistent store. See the module docs for the design.
pub struct DiskStore {
    inner: Arc<Inner>,
    /// The background loops (cut and retention; compaction), aborted on
    /// close and drop.
    tasks: parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

fn io_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(std::io::Error::other(e.to_string()))
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Startup facts for logs and `clew storage`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Blocks listed and loaded.
    pub blocks: usize,
    /// Blocks skipped because their footer or index is unreadable.
    pub unreadable_blocks: Vec<String>,
    /// Blocks hidden because a compacted block replaces them.
    pub replaced_blocks: usize,
    /// WAL records replayed into the head.
    pub replayed_records: usize,
    /// Spans replayed into the head.
    pub replayed_spans: u64,
    /// Torn/corrupt WAL tails truncated: (segment, offset, bytes dropped).
    pub wal_truncations: Vec<(u64, u64, u64)>,
    /// Staging files of block uploads a crash interrupted, deleted.
    pub staging_files_removed: usize,
    /// Time taken to open, replay included.
    pub elapsed: Duration,
}

impl DiskStore {
    /// Opens (or creates) a store: loads block indexes, replays the WAL,
    /// starts the background maintenance task if configured.
    pub async fn open(config: DiskStoreConfig) -> Result<DiskStore, StoreError> {
        Ok(Self::open_with_report(config).await?.0)
    }

    /// [`DiskStore::open`] from synchronous code that runs inside a Tokio
    /// runtime (test factories); blocks the calling thread while opening.
    pub fn open_blocking(config: DiskStoreConfig) -> Result<DiskStore, StoreError> {
        futures::executor::block_on(Self::open(config))
    }

    /// Opens and reports what replay found.
    pub async fn open_with_report(
        config: DiskStoreConfig,
    ) -> Result<(DiskStore, OpenReport), StoreError> {
        let started = std::time::Instant::now();
        let mut report = OpenReport::default();
        let blocks_dir = config.data_dir.join(BLOCKS_PREFIX);
        std::fs::create_dir_all(&blocks_dir)?;
        // Nothing uploads yet: every staging file is a crash's leftover.
        report.staging_files_removed = upload::remove_staging_leftovers(&blocks_dir)?;
        if report.staging_files_removed > 0 {
            tracing::warn!(
                files = report.staging_files_removed,
                "deleted staging files of block uploads interrupted by a crash"
            );
        }
        let wal_dir = config.data_dir.join("wal");
        std::fs::create_dir_all(&wal_dir)?;
        let objects: Arc<dyn ObjectStore> = Arc::new(
            LocalFileSystem::new_with_prefix(&config.data_dir)
                .map_err(io_err)?
                .with_fsync(true),
        );
        let counters = Counters::default();
        let (blocks, replaced) = load_blocks(objects.as_ref(), &mut report).await?;
        for p in replaced {
            report.replaced_blocks += 1;
            if let Err(e) = object_store::ObjectStoreExt::delete(objects.as_ref(), &p).await {
                tracing::warn!(block = %p, error = %e, "could not delete replaced block");
            }
        }
        report.blocks = blocks.len();
        let watermark = blocks.iter().map(|b| b.index.source_seq).max().unwrap_or(0);
        let replay = wal::replay(&wal_dir, watermark)?;
        let head = Head::default();
        let mut last_seq = watermark;
        for (seq, offset, dropped) in &replay.truncated {
            tracing::warn!(
                segment = seq,
                offset,
                dropped_bytes = dropped,
                "WAL tail was torn or corrupt; truncated it (records after it were never acknowledged)"
            );
        }
        counters
            .replay_wal_truncations
            .store(replay.truncated.len() as u64, Ordering::Relaxed);
        report.wal_truncations = replay.truncated.clone();
        for rec in replay.records {
            last_seq = last_seq.max(rec.seq);
            match Batch::parse(rec.payload).and_then(|b| Ok((b.operations()?, b))) {
                Ok((ops, batch)) => {
                    report.replayed_records += 1;
                    report.replayed_spans += batch.span_count();
                    head.insert(batch, ops);
                }
                Err(e) => {
                    tracing::error!(segment = rec.seq, error = %e, "WAL record passed its checksum but does not decode; skipped");
                }
            }
        }
        for (seq, _) in wal::list_segments(&wal_dir)? {
            last_seq = last_seq.max(seq);
        }
        let wal = wal::Wal::start(&wal_dir, last_seq + 1, config.wal_sync)?;
        let max_id = blocks.iter().map(|b| b.id).max().unwrap_or(0);
        let inner = Arc::new(Inner {
            objects,
            wal,
            gate: tokio::sync::RwLock::new(()),
            state: RwLock::new(State {
                head: Arc::new(head),
                frozen: Vec::new(),
                blocks: Arc::new(blocks),
            }),
            maintenance: tokio::sync::Mutex::new(()),
            compaction: tokio::sync::Mutex::new(()),
            counters,
            next_block_id: AtomicU64::new(max_id.max(now_ns() / 1000)),
            graveyard: parking_lot::Mutex::new(Vec::new()),
            wake: tokio::sync::Notify::new(),
            block_writes: Arc::new(tokio::sync::RwLock::new(())),
            cut_done: tokio::sync::Notify::new(),
            config,
        });
        let mut tasks = Vec::new();
        if let Some(every) = inner.config.maintenance_interval {
            let compaction = Arc::downgrade(&inner);
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let Some(inner) = compaction.upgrade() else {
                        break;
                    };
                    let _c = inner.compaction.lock().await;
                    if let Err(e) = inner.compact_once().await {
                        tracing::error!(error = %e, "compaction failed; will retry");
                    }
                }
            }));
            let weak = Arc::downgrade(&inner);
            tasks.push(tokio::spawn(async move {
                loop {
                    let Some(inner) = weak.upgrade() else { break };
                    let _ = tokio::time::timeout(every, inner.wake.notified()).await;
                    inner.maintain().await;
                }
            }));
        }
        report.elapsed = started.elapsed();
        Ok((
            DiskStore {
                inner,
                tasks: parking_lot::Mutex::new(tasks),
            },
            report,
        ))
    }

    /// The store's configuration.
    pub fn config(&self) -> &DiskStoreConfig {
        &self.inner.config
    }

    /// Cuts the head into a block now (and retries any earlier cut that
    /// failed). Returns the number of blocks written.
    pub async fn flush(&self) -> Result<usize, StoreError> {
        let _m = self.inner.maintenance.lock().await;
        self.inner.cut().await
    }

    /// Runs one compaction step now; returns true if blocks were merged.
    pub async fn compact(&self) -> Result<bool, StoreError> {
        let _c = self.inner.compaction.lock().await;
        self.inner.compact_once().await
    }

    /// Applies retention now; returns the number of blocks deleted.
    pub async fn apply_retention(&self) -> Result<usize, StoreError> {
        let _m = self.inner.maintenance.lock().await;
        let n = self.inner.retention(now_ns()).await;
        self.inner.empty_graveyard(Duration::ZERO).await;
        Ok(n)
    }

    /// Stops background work, cuts the head into a block (so the next
    /// start replays nothing) and closes the WAL. Everything acknowledged
    /// is durable already; a failed cut is logged and left to replay.
    /// A cut or compaction already running is finished first (a long merge
    /// delays shutdown by its length).
    pub async fn close(&self) {
        // Locks first, then abort: a cut or merge aborted mid-write leaves
        // its block being written by a blocking thread while the frozen
        // head stays in the state, and the cut below would then write the
        // same spans again as a second block (seen as traces with every
        // span twice after a restart). Holding both locks, no cut or merge
        // is in flight, and an aborted loop is never polled again.
        let _c = self.inner.compaction.lock().await;
        let _m = self.inner.maintenance.lock().await;
        for t in self.tasks.lock().drain(..) {
            t.abort();
        }
        if let Err(e) = self.inner.cut().await {
            tracing::warn!(error = %e, "could not cut the head at shutdown; the WAL will be replayed");
        }
        self.inner.wal.close();
    }
}

impl DiskStore {
    /// Stops background work as a crash would, leaving the head to WAL
    /// replay (no cut, no clean WAL close); a block already being written
    /// is finished, so that once the store is dropped nothing of it runs
    /// or holds memory any more. For tests and benchmarks that
    /// restart a store inside one process as if after `kill -9` (a
    /// dropped store's blocking writer would otherwise go on beside its
    /// successor, holding a head the successor is replaying again).
    pub async fn abandon(self) {
        for t in self.tasks.lock().drain(..) {
            t.abort();
        }
        // Blocks being written when the loops stopped are finished (as if
        // the crash came just after): wait for their writers.
        let _ = self.inner.block_writes.write().await;
    }
}

impl Drop for DiskStore {
    fn drop(&mut self) {
        for t in self.tasks.lock().drain(..) {
            t.abort();
        }
    }
}

async fn load_blocks(
    objects: &dyn ObjectStore,
    report: &mut OpenReport,
) -> Result<(Vec<Arc<Block>>, Vec<ObjectPath>), StoreError> {
    let metas: Vec<object_store::ObjectMeta> = objects
        .list(Some(&ObjectPath::from(BLOCKS_PREFIX)))
        .try_collect()
        .await
        .map_err(io_err)?;
    let mut blocks = Vec::new();
    for meta in metas {
        if block::block_id(&meta.location).is_none() {
            continue;
        }
        match Block::open(objects, &meta).await {
            Ok(b) => blocks.push(Arc::new(b)),
            Err(e) => {
                tracing::error!(block = %meta.location, error = %e, "unreadable block skipped");
                report.unreadable_blocks.push(meta.location.to_string());
            }
        }
    }
    let replaced: std::collections::HashSet<u64> = blocks
        .iter()
        .flat_map(|b| b.index.replaces.iter().copied())
        .collect();
    let (keep, gone): (Vec<_>, Vec<_>) =
        blocks.into_iter().partition(|b| !replaced.contains(&b.id));
    let mut keep = keep;
    keep.sort_by_key(|b| (b.index.min_start, b.id));
    Ok((keep, gone.into_iter().map(|b| b.path.clone()).collect()))
}

/// Spans and bytes the heads (active and being cut) may hold before
/// writers wait, in multiples of `head_max_spans` and `head_max_bytes`.
const HEAD_BACKLOG_FACTOR: u64 = 3;
/// How long a writer waits for room before answering "unavailable".
const HEAD_BACKLOG_WAIT: Duration = Duration::from_secs(10);

impl Inner {
    /// Back-pressure: when blocks are written more slowly than spans
    /// arrive (a starved CPU, a slow object store), the head would grow
    /// without bound; writers wait for a cut instead, and after
    /// [`HEAD_BACKLOG_WAIT`] get a retryable error (a 503 to the client).
    /// Off when nothing cuts in the background (tests that cut by hand).
    async fn wait_for_head_room(&self) -> Result<(), StoreError> {
        if self.config.maintenance_interval.is_none() {
            return Ok(());
        }
        let limit = self
            .config
            .head_max_spans
            .saturating_mul(HEAD_BACKLOG_FACTOR);
        let byte_limit = self
            .config
            .head_max_bytes
            .saturating_mul(HEAD_BACKLOG_FACTOR);
        let deadline = tokio::time::Instant::now() + HEAD_BACKLOG_WAIT;
        loop {
            // Created before the check, so a cut finishing in between
            // still wakes this writer.
            let done = self.cut_done.notified();
            let (backlog, bytes) = {
                let st = self.state.read();
                (
                    st.heads().map(|h| h.span_count()).sum::<u64>(),
                    st.heads().map(|h| h.bytes()).sum::<u64>(),
                )
            };
            if backlog < limit && bytes < byte_limit {
                return Ok(());
            }
            self.wake.notify_one();
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                return Err(StoreError::Unavailable(format!(
                    "{backlog} spans wait to be written as blocks; try again"
                )));
            }
        }
    }

    fn snapshot(&self) -> State {
        self.state.read().clone()
    }

    fn block_failed(&self, b: &Block, e: &block::BlockError) {
        if e.is_gone() {
            return;
        }
        self.counters
            .corrupt_block_reads
            .fetch_add(1, Ordering::Relaxed);
        tracing::error!(block = %b.path, error = %e, "block read failed; skipped, serving the rest");
    }

    async fn trace(&self, id: TraceId) -> Vec<Span> {
        self.traces(&[id]).await.remove(&id).unwrap_or_default()
    }

    /// The whole traces of `ids` that have spans anywhere: blocks first,
    /// then the frozen heads, then the head (the order `trace` always
    /// gave). Each head batch is decoded once for all of them.
    async fn traces(&self, ids: &[TraceId]) -> HashMap<TraceId, Vec<Span>> {
        let st = self.snapshot();
        let mut out: HashMap<TraceId, Vec<Span>> = HashMap::new();
        for b in st.blocks.iter() {
            for &id in ids {
                match b.trace(self.objects.as_ref(), id).await {
                    Ok(s) if !s.is_empty() => out.entry(id).or_default().extend(s),
                    Ok(_) => {}
                    Err(e) => self.block_failed(b, &e),
                }
            }
        }
        for (h, _) in &st.frozen {
            h.get_many(ids, &mut out);
        }
        st.head.get_many(ids, &mut out);
        out
    }
}

#[async_trait]
impl TraceWriter for DiskStore {
    async fn write_spans(&self, spans: Vec<Span>) -> Result<(), StoreError> {
        if spans.is_empty() {
            return Ok(());
        }
        // The head keeps the record itself (compact, dictionary-coded
        // columns), not the spans: they and the request body they point
        // into are dropped here.
        let payload = Bytes::from(encode_batch(&group_by_trace(spans)));
        let unavailable =
            |e: std::io::Error| StoreError::Unavailable(format!("write-ahead log: {e}"));
        let inner = &self.inner;
        inner.wait_for_head_room().await?;
        let _gate = inner.gate.read().await;
        // The WAL thread writes and fsyncs while this task indexes the
        // batch for the head; the head sees it only once it is durable.
        let pending = inner.wal.submit(payload.clone()).map_err(unavailable)?;
        let indexed = Batch::parse(payload).and_then(|b| Ok((b.operations()?, b)));
        pending.durable().await.map_err(unavailable)?;
        // Cannot fail for bytes encode_batch just wrote; if it ever did,
        // the record is durable and replay will report it.
        let (ops, batch) = indexed.map_err(io_err)?;
        let head = inner.state.read().head.clone();
        head.insert(batch, ops);
        if head.span_count() >= inner.config.head_max_spans
            || head.bytes() >= inner.config.head_max_bytes
        {
            inner.wake.notify_one();
        }
        Ok(())
    }
}

#[async_trait]
impl TraceReader for DiskStore {
    async fn get_trace(&self, id: TraceId) -> Result<Option<Trace>, StoreError> {
        let spans = self.inner.trace(id).await;
        Ok((!spans.is_empty()).then(|| Trace {
            spans,
            warnings: Vec::new(),
        }))
    }

    async fn find_traces(&self, query: &TraceQuery) -> Result<Vec<Trace>, StoreError> {
        Ok(self.search_traces(query).await?.traces)
    }

    async fn search_traces(&self, query: &TraceQuery) -> Result<Searched, StoreError> {
        let (hits, complete) = self.inner.search(query, search::Want::Traces).await;
        let max_bytes = query.max_bytes.unwrap_or(usize::MAX);
        let traces = self
            .inner
            .hit_traces(hits, max_bytes)
            .await
            .into_iter()
            .map(|spans| Trace {
                spans,
                warnings: Vec::new(),
            })
            .collect();
        Ok(Searched { traces, complete })
    }

    async fn search_trace_summaries(
        &self,
        query: &TraceQuery,
    ) -> Result<SearchedSummaries, StoreError> {
        Ok(self.inner.search_summaries(query).await)
    }

    async fn services(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.inner.services().into_iter().collect())
    }

    async fn operations(
        &self,
        service: &str,
        span_kind: Option<&str>,
    ) -> Result<Vec<Operation>, StoreError> {
        Ok(self
            .inner
            .operations(service)
            .into_iter()
            .filter(|op| span_kind.is_none_or(|k| op.span_kind == k))
            .collect())
    }

    async fn dependencies(&self, start: u64, end: u64) -> Result<Vec<DependencyLink>, StoreError> {
        Ok(self.inner.dependencies(start, end).await)
    }

    fn stats(&self) -> StoreStats {
        let st = self.inner.snapshot();
        let (mut spans, mut traces) = (0, 0);
        for h in st.heads() {
            spans += h.span_count();
            traces += h.trace_count();
        }
        for b in st.blocks.iter() {
            spans += b.index.span_count;
            traces += b.index.trace_count.saturating_sub(b.index.shared_traces);
        }
        let block_bytes: u64 = st.blocks.iter().map(|b| b.size).sum();
        let head_bytes: u64 =
            st.head.bytes() + st.frozen.iter().map(|(h, _)| h.bytes()).sum::<u64>();
        StoreStats {
            spans,
            traces,
            // On disk (blocks + WAL) plus the head's records in memory.
            bytes: block_bytes + self.inner.wal.counters.bytes.load(Ordering::Relaxed) + head_bytes,
            evicted_spans: self
                .inner
                .counters
                .retention_deleted_spans
                .load(Ordering::Relaxed),
        }
    }

    fn persistence_stats(&self) -> Option<PersistenceStats> {
        let st = self.inner.snapshot();
        let c = &self.inner.counters;
        let w = &self.inner.wal.counters;
        let head_spans =
            st.head.span_count() + st.frozen.iter().map(|(h, _)| h.span_count()).sum::<u64>();
        Some(PersistenceStats {
            blocks: st.blocks.len() as u64,
            block_bytes: st.blocks.iter().map(|b| b.size).sum(),
            wal_bytes: w.bytes.load(Ordering::Relaxed),
            head_spans,
            blocks_cut: c.blocks_cut.load(Ordering::Relaxed),
            compactions: c.compactions.load(Ordering::Relaxed),
            retention_deleted_blocks: c.retention_deleted_blocks.load(Ordering::Relaxed),
            corrupt_block_reads: c.corrupt_block_reads.load(Ordering::Relaxed),
            wal_truncations: c.replay_wal_truncations.load(Ordering::Relaxed),
            wal_write_errors: w.write_errors.load(Ordering::Relaxed),
        })
    }
}

/// Where `clew` keeps its data unless told otherwise (as Prometheus uses `./data`).
pub fn default_data_dir() -> &'static Path {
    Path::new("./clew-data")
}
