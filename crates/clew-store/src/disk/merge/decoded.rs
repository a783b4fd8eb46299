//! Compaction's merge, one page at a time.
//!
//! Every input block holds its traces ordered by (earliest start, ID), so
//! the merged block is a k-way merge of the inputs' pages: at any moment
//! it holds one decoded page per input plus the page being written, not
//! every input span (which put compaction's memory near 1 KB × the merged
//! span count). A trace stored in more than one input (its spans arrived
//! around a cut) is read from all of them first and merged, then takes its
//! place in the order by its merged start.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use clew_model::TraceId;
use clew_segment::{BlockOptions, EncodedBlock, TraceSpans};
use object_store::ObjectStore;
use object_store::path::Path;

use super::block::{Block, BlockError};

fn key(t: &TraceSpans) -> (u64, TraceId) {
    (
        t.spans.iter().map(|s| s.start_time).min().unwrap_or(0),
        t.id,
    )
}

/// One input's next traces.
struct Input {
    block: Arc<Block>,
    next_page: usize,
    buf: VecDeque<TraceSpans>,
}

impl Input {
    /// Refills from the next page(s) until a trace is buffered or the
    /// block is done.
    async fn fill(
        &mut self,
        store: &dyn ObjectStore,
        shared: &HashSet<TraceId>,
    ) -> Result<(), BlockError> {
        while self.buf.is_empty() && self.next_page < self.block.index.pages.len() {
            let page = self
                .block
                .page(store, self.next_page, &|id| !shared.contains(&id))
                .await?;
            self.next_page += 1;
            self.buf.extend(page);
        }
        Ok(())
    }
}

/// Merges `inputs` into one block stored at `path` as it is encoded, by a
/// blocking thread (see `upload.rs`); the async side only reads pages and
/// hands traces over a small bounded channel.
pub(super) async fn merge(
    objects: &Arc<dyn ObjectStore>,
    inputs: &[Arc<Block>],
    opts: BlockOptions,
    path: Path,
    writing: tokio::sync::OwnedRwLockReadGuard<()>,
) -> Result<EncodedBlock, BlockError> {
    let store = objects.as_ref();
    // Traces in two or more inputs, read whole up front.
    let mut seen: HashMap<TraceId, u32> = HashMap::new();
    for b in inputs {
        for id in b.trace_ids(store).await?.iter() {
            *seen.entry(*id).or_default() += 1;
        }
    }
    let shared: HashSet<TraceId> = seen
        .into_iter()
        .filter(|&(_, n)| n > 1)
        .map(|(id, _)| id)
        .collect();
    let mut merged: HashMap<TraceId, TraceSpans> = HashMap::new();
    for b in inputs {
        let mut pages: Vec<usize> = shared
            .iter()
            .flat_map(|&id| b.index.pages_for(id))
            .collect();
        pages.sort_unstable();
        pages.dedup();
        for i in pages {
            for t in b.page(store, i, &|id| shared.contains(&id)).await? {
                match merged.get_mut(&t.id) {
                    Some(m) => m.spans.extend(t.spans),
                    None => {
                        merged.insert(t.id, t);
                    }
                }
            }
        }
    }
    let mut shared_sorted: Vec<TraceSpans> = merged.into_values().collect();
    shared_sorted.sort_by_key(|t| std::cmp::Reverse(key(t)));

    // `None` ends the feed: a channel closed without it (a read failed,
    // the compaction was cancelled) makes the writer abort its upload.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Option<Vec<TraceSpans>>>(2);
    let writer = super::upload::write_block(objects.clone(), path, opts, writing, move |w| {
        while let Some(chunk) = rx.blocking_recv() {
            let Some(chunk) = chunk else { return true };
            for t in chunk {
                w.push(t);
            }
        }
        false
    });
    // Driven beside the reads below (not spawned: it borrows nothing, but
    // its result is wanted here).
    let writer = tokio::spawn(writer);
    let mut cursors: Vec<Input> = inputs
        .iter()
        .map(|b| Input {
            block: b.clone(),
            next_page: 0,
            buf: VecDeque::new(),
        })
        .collect();
    let mut chunk: Vec<TraceSpans> = Vec::with_capacity(256);
    let mut chunk_spans = 0;
    loop {
        for c in cursors.iter_mut() {
            c.fill(store, &shared).await?;
        }
        let best = cursors
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.buf.front().map(|t| (key(t), i)))
            .min();
        let from_shared = shared_sorted.last().map(key);
        let next = match (best, from_shared) {
            (Some((k, i)), Some(s)) if k < s => cursors[i].buf.pop_front(),
            (_, Some(_)) => shared_sorted.pop(),
            (Some((_, i)), None) => cursors[i].buf.pop_front(),
            (None, None) => None,
        };
        let Some(t) = next else { break };
        chunk_spans += t.spans.len();
        chunk.push(t);
        if chunk_spans >= 1024 {
            chunk_spans = 0;
            if tx.send(Some(std::mem::take(&mut chunk))).await.is_err() {
                break;
            }
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(Some(chunk)).await;
    }
    let _ = tx.send(None).await;
    drop(tx);
    writer
        .await
        .map_err(|e| object_store::Error::Generic {
            store: "compaction",
            source: Box::new(e),
        })?
        .map_err(BlockError::Store)
}
