//! Merging blocks by decoding their pages into spans (blocks of format
//! v1 and v2, whose pages the transcoder does not read).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use clew_model::TraceId;
use clew_segment::{BlockOptions, EncodedBlock, TraceSpans};
use object_store::ObjectStore;
use object_store::path::Path;

use super::pages_holding;
use crate::disk::block::{Block, BlockError};

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

/// Merges `inputs` (`shared`: traces in two or more of them) into one
/// block stored at `path`; the async side reads and decodes pages and
/// hands traces over a small bounded channel to the writer's thread.
pub(super) async fn merge(
    objects: &Arc<dyn ObjectStore>,
    inputs: &[Arc<Block>],
    shared: &HashSet<TraceId>,
    opts: BlockOptions,
    path: Path,
    writing: tokio::sync::OwnedRwLockReadGuard<()>,
) -> Result<EncodedBlock, BlockError> {
    let store = objects.as_ref();
    // Traces in two or more inputs, read whole up front.
    let mut merged: HashMap<TraceId, TraceSpans> = HashMap::new();
    for b in inputs {
        for i in pages_holding(b, shared) {
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
    let writer = crate::disk::upload::write_block(objects.clone(), path, opts, writing, move |w| {
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
            c.fill(store, shared).await?;
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
