//! Background work: cutting the head into blocks, compaction, retention.
//!
//! Every step writes the new state before it forgets the old: a block is
//! listed before the WAL segments it covers are deleted, a merged block is
//! listed (and names the blocks it `replaces`) before they are unlisted,
//! and unlisted blocks are deleted only after a grace period so readers
//! working from an older snapshot can finish. A crash between any two steps
//! leaves either duplicates that the next open resolves (replay watermark,
//! `replaces`) or nothing to do.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clew_model::TraceId;
use clew_segment::{BlockOptions, EncodedBlock};
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;

use super::block::{Block, block_path, block_path_for};
use super::head::Head;
use super::{Inner, io_err, now_ns};
use crate::StoreError;

/// How long unlisted blocks stay on disk for readers of older snapshots.
const GRACE: Duration = Duration::from_secs(30);

impl Inner {
    /// One pass of everything due; errors are logged, not returned (the
    /// next pass retries).
    pub(super) async fn maintain(&self) {
        let _m = self.maintenance.lock().await;
        let head = self.state.read().head.clone();
        let frozen_pending = !self.state.read().frozen.is_empty();
        let due = head.span_count() >= self.config.head_max_spans
            || head.bytes() >= self.config.head_max_bytes
            || (head.span_count() > 0 && head.created.elapsed() >= self.config.head_max_age);
        if (due || frozen_pending)
            && let Err(e) = self.cut().await
        {
            tracing::error!(error = %e, "cutting the head into a block failed; will retry");
        }
        self.retention(now_ns()).await;
        self.empty_graveyard(GRACE).await;
    }

    fn next_id(&self) -> u64 {
        let now = now_ns() / 1000;
        let prev = self
            .next_block_id
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.max(now) + 1)
            })
            .unwrap_or(now);
        prev.max(now) + 1
    }

    /// A new block's ID and the path it is uploaded to while it is
    /// encoded (its spans' start range is known beforehand).
    pub(super) fn new_block_path(&self, min_start: u64, max_start: u64) -> (u64, ObjectPath) {
        let id = self.next_id();
        (id, block_path_for(min_start, max_start, id))
    }

    /// The [`Block`] for a block just stored at `path` (renamed if the
    /// range its name promised is not the one its index holds).
    pub(super) async fn stored_block(
        &self,
        id: u64,
        path: ObjectPath,
        encoded: EncodedBlock,
    ) -> Result<Arc<Block>, StoreError> {
        let mut path = path;
        let named = block_path(&encoded.index, id);
        if named != path {
            tracing::warn!(block = %path, to = %named, "block's time range differs from its name; renaming");
            self.objects.rename(&path, &named).await.map_err(io_err)?;
            path = named;
        }
        let size = encoded.file_len();
        let tables = encoded.tables_bytes().map(<[u8]>::to_vec);
        let block = Block::new(id, path, size, encoded.index);
        if let Some(t) = tables {
            block.prime_tables(&t);
        }
        Ok(Arc::new(block))
    }

    fn options(&self, level: u32, source_seq: u64, replaces: Vec<u64>) -> BlockOptions {
        BlockOptions {
            page_spans: self.config.page_spans,
            zstd_level: self.config.zstd_level,
            level,
            source_seq,
            replaces,
            known_traces: None,
        }
    }

    /// Trace IDs of the few most recent blocks (other than `except`), so a
    /// new block can count traces it shares with them: a trace whose spans
    /// arrive minutes apart lands in neighbouring blocks, not distant ones.
    async fn recent_trace_ids(&self, except: &[u64]) -> Arc<HashSet<TraceId>> {
        const RECENT: usize = 4;
        let mut blocks: Vec<Arc<Block>> = self
            .state
            .read()
            .blocks
            .iter()
            .filter(|b| !except.contains(&b.id))
            .cloned()
            .collect();
        blocks.sort_by_key(|b| std::cmp::Reverse(b.index.max_start));
        let mut out = HashSet::new();
        for b in blocks.iter().take(RECENT) {
            match b.trace_ids(self.objects.as_ref()).await {
                Ok(ids) => out.extend(ids.iter().copied()),
                Err(e) => self.block_failed(b, &e),
            }
        }
        Arc::new(out)
    }

    fn insert_block(blocks: &[Arc<Block>], add: Arc<Block>) -> Arc<Vec<Arc<Block>>> {
        let mut v: Vec<Arc<Block>> = blocks.to_vec();
        v.push(add);
        v.sort_by_key(|b| (b.index.min_start, b.id));
        Arc::new(v)
    }

    /// Freezes the active head (rotating the WAL at the same instant) and
    /// writes every frozen head, oldest first, as a block.
    pub(super) async fn cut(&self) -> Result<usize, StoreError> {
        {
            let _gate = self.gate.write().await;
            let active = self.state.read().head.clone();
            if active.span_count() > 0 {
                let next = self.wal.rotate().await?;
                let mut st = self.state.write();
                let old = std::mem::replace(&mut st.head, Arc::new(Head::default()));
                st.frozen.push((old, next - 1));
            }
        }
        let frozen: Vec<(Arc<Head>, u64)> = self.state.read().frozen.clone();
        let mut written = 0;
        // In order, stopping at the first failure: deleting WAL segments up
        // to a later head's watermark would drop an earlier unwritten head.
        for (head, upto) in frozen {
            if let Some((min, max)) = head.start_range() {
                let mut opts = self.options(0, upto, Vec::new());
                if !self.is_small(head.span_count()) {
                    // Compaction will never rewrite this block, so it is
                    // written as a merged block is, once (each span
                    // transcoded once, not at the cut and again at
                    // compaction).
                    opts.zstd_level = self.config.compaction_zstd_level;
                    opts.page_spans = self.config.compaction_page_spans;
                }
                opts.known_traces = Some(self.recent_trace_ids(&[]).await);
                let writing = head.clone();
                let chunk = opts.page_spans;
                let (id, path) = self.new_block_path(min, max);
                let encoded = super::upload::write_block(
                    self.objects.clone(),
                    path.clone(),
                    opts,
                    self.block_writes.clone().read_owned().await,
                    move |w| writing.write_into(w, chunk),
                )
                .await
                .map_err(io_err)?;
                let block = self.stored_block(id, path, encoded).await?;
                let mut st = self.state.write();
                st.blocks = Self::insert_block(&st.blocks, block);
                st.frozen.retain(|(h, _)| !Arc::ptr_eq(h, &head));
                written += 1;
                self.counters.blocks_cut.fetch_add(1, Ordering::Relaxed);
                self.cut_done.notify_waiters();
            } else {
                self.state
                    .write()
                    .frozen
                    .retain(|(h, _)| !Arc::ptr_eq(h, &head));
            }
            self.wal.delete_through(upto)?;
        }
        Ok(written)
    }

    /// Does a block of this many spans count as small, i.e. may
    /// compaction merge it? The cut asks too: a head too big to be small
    /// is written once as a final block.
    fn is_small(&self, spans: u64) -> bool {
        spans < self.config.compaction_max_spans / 2
    }

    /// Merges one run of small, time-adjacent blocks, if there is one.
    pub(super) async fn compact_once(&self) -> Result<bool, StoreError> {
        let blocks = self.state.read().blocks.clone();
        let max = self.config.compaction_max_spans;
        let mut run: Vec<Arc<Block>> = Vec::new();
        let mut chosen: Option<Vec<Arc<Block>>> = None;
        let mut total = 0;
        for b in blocks.iter() {
            let small = self.is_small(b.index.span_count);
            // Tiered: only blocks of one level merge, so a merged block is
            // not rewritten every time one more small block is cut beside it.
            let other_level = run.first().is_some_and(|f| f.index.level != b.index.level);
            if !small || other_level || total + b.index.span_count > max {
                if run.len() >= self.config.compaction_min_blocks.max(2) {
                    chosen = Some(std::mem::take(&mut run));
                    break;
                }
                run.clear();
                total = 0;
                if !small {
                    continue;
                }
            }
            total += b.index.span_count;
            run.push(b.clone());
        }
        let chosen = match chosen {
            Some(c) => c,
            None if run.len() >= self.config.compaction_min_blocks.max(2) => run,
            None => return Ok(false),
        };
        // Reading every page's trace IDs checks every page's CRC: an
        // unreadable block stays as it is (and is skipped by reads).
        let mut inputs = Vec::new();
        for b in &chosen {
            match b.trace_ids(self.objects.as_ref()).await {
                Ok(_) => inputs.push(b.clone()),
                Err(e) => {
                    tracing::error!(block = %b.path, error = %e, "not compacting an unreadable block")
                }
            }
        }
        if inputs.len() < 2 {
            return Ok(false);
        }
        let level = inputs.iter().map(|b| b.index.level).max().unwrap_or(0) + 1;
        let seq = inputs.iter().map(|b| b.index.source_seq).max().unwrap_or(0);
        let ids: Vec<u64> = inputs.iter().map(|b| b.id).collect();
        let mut opts = self.options(level, seq, ids.clone());
        opts.zstd_level = self.config.compaction_zstd_level;
        opts.page_spans = self.config.compaction_page_spans;
        opts.known_traces = Some(self.recent_trace_ids(&ids).await);
        let min = inputs.iter().map(|b| b.index.min_start).min().unwrap_or(0);
        let max = inputs.iter().map(|b| b.index.max_start).max().unwrap_or(0);
        let (id, path) = self.new_block_path(min, max);
        let writing = self.block_writes.clone().read_owned().await;
        let encoded = super::merge::merge(&self.objects, &inputs, opts, path.clone(), writing)
            .await
            .map_err(io_err)?;
        let merged = self.stored_block(id, path, encoded).await?;
        {
            let mut st = self.state.write();
            let mut v: Vec<Arc<Block>> = st
                .blocks
                .iter()
                .filter(|b| !inputs.iter().any(|i| i.id == b.id))
                .cloned()
                .collect();
            v.push(merged);
            v.sort_by_key(|b| (b.index.min_start, b.id));
            st.blocks = Arc::new(v);
        }
        let now = Instant::now();
        self.graveyard
            .lock()
            .extend(inputs.iter().map(|b| (now, b.path.clone())));
        self.counters.compactions.fetch_add(1, Ordering::Relaxed);
        Ok(true)
    }

    /// Unlists whole blocks past the age or size limit; returns how many.
    pub(super) async fn retention(&self, now: u64) -> usize {
        let mut doomed: Vec<Arc<Block>> = Vec::new();
        {
            let mut st = self.state.write();
            let mut keep: Vec<Arc<Block>> = st.blocks.iter().cloned().collect();
            if let Some(age) = self.config.retention {
                let cutoff = now.saturating_sub(age.as_nanos() as u64);
                let (old, young): (Vec<_>, Vec<_>) =
                    keep.into_iter().partition(|b| b.index.max_end < cutoff);
                doomed.extend(old);
                keep = young;
            }
            if let Some(max) = self.config.max_bytes {
                let mut total: u64 = keep.iter().map(|b| b.size).sum();
                keep.sort_by_key(|b| (b.index.max_start, b.id));
                while total > max && !keep.is_empty() {
                    let b = keep.remove(0);
                    total -= b.size;
                    doomed.push(b);
                }
                keep.sort_by_key(|b| (b.index.min_start, b.id));
            }
            if doomed.is_empty() {
                return 0;
            }
            st.blocks = Arc::new(keep);
        }
        let now_i = Instant::now();
        let mut grave = self.graveyard.lock();
        for b in &doomed {
            tracing::info!(block = %b.path, spans = b.index.span_count, "retention deletes block");
            self.counters
                .retention_deleted_spans
                .fetch_add(b.index.span_count, Ordering::Relaxed);
            grave.push((now_i, b.path.clone()));
        }
        self.counters
            .retention_deleted_blocks
            .fetch_add(doomed.len() as u64, Ordering::Relaxed);
        doomed.len()
    }

    /// Deletes unlisted blocks older than `grace`.
    pub(super) async fn empty_graveyard(&self, grace: Duration) {
        let due: Vec<_> = {
            let mut g = self.graveyard.lock();
            let (due, wait): (Vec<_>, Vec<_>) =
                g.drain(..).partition(|(t, _)| t.elapsed() >= grace);
            *g = wait;
            due
        };
        for (_, path) in due {
            if let Err(e) = self.objects.delete(&path).await {
                tracing::warn!(block = %path, error = %e, "could not delete unlisted block");
            }
        }
    }
}
