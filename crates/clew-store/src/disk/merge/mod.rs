//! Compaction's merge, one page at a time.
//!
//! Every input block holds its traces ordered by (earliest start, ID), so
//! the merged block is a k-way merge of the inputs' pages: at any moment
//! it holds about one page per input plus the page being written, not
//! every input span (which put compaction's memory near 1 KB × the merged
//! span count). A trace stored in more than one input (its spans arrived
//! around a cut) is located in all of them first, then takes its place in
//! the order by its merged start, its parts concatenated in input order.
//!
//! Two ways to do it, writing the same bytes for the same inputs:
//! * [`raw`]: blocks of format v3 are merged from their pages' columns
//!   (`clew_segment`'s transcoding), without building a span — decoding
//!   and re-encoding every span cost about what the old cut did, which
//!   was 37 % of a disk-store server's CPU under full ingest;
//! * [`decoded`]: blocks of older formats are decoded into spans and
//!   encoded again.

mod decoded;
mod raw;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use clew_model::TraceId;
use clew_segment::{BlockIndex, BlockOptions, EncodedBlock};
use object_store::ObjectStore;
use object_store::path::Path;

use super::block::{Block, BlockError};

/// Merges `inputs` into one block stored at `path` as it is encoded, by a
/// blocking thread (see `upload.rs`).
pub(super) async fn merge(
    objects: &Arc<dyn ObjectStore>,
    inputs: &[Arc<Block>],
    opts: BlockOptions,
    path: Path,
    writing: tokio::sync::OwnedRwLockReadGuard<()>,
) -> Result<EncodedBlock, BlockError> {
    let shared = shared_traces(objects.as_ref(), inputs).await?;
    if inputs.iter().all(|b| transcodable(&b.index)) {
        raw::merge(objects, inputs, shared, opts, path, writing).await
    } else {
        decoded::merge(objects, inputs, &shared, opts, path, writing).await
    }
}

/// Traces stored in two or more of `inputs`.
async fn shared_traces(
    store: &dyn ObjectStore,
    inputs: &[Arc<Block>],
) -> Result<HashSet<TraceId>, BlockError> {
    let mut seen: HashMap<TraceId, u32> = HashMap::new();
    for b in inputs {
        for id in b.trace_ids(store).await?.iter() {
            *seen.entry(*id).or_default() += 1;
        }
    }
    Ok(seen
        .into_iter()
        .filter(|&(_, n)| n > 1)
        .map(|(id, _)| id)
        .collect())
}

/// Can this block's pages be transcoded? Format v3 (whose index has pair
/// runs per page) writes every page in the layout the writer reads.
fn transcodable(index: &BlockIndex) -> bool {
    index.pages.iter().all(|p| p.pair_runs.is_some())
}

/// Pages of `b` that may hold one of `ids`, in page order.
fn pages_holding(b: &Block, ids: &HashSet<TraceId>) -> Vec<usize> {
    let mut pages: Vec<usize> = ids.iter().flat_map(|&id| b.index.pages_for(id)).collect();
    pages.sort_unstable();
    pages.dedup();
    pages
}
