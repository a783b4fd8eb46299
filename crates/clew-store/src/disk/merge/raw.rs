//! Merging blocks of format v3 from their pages' columns, without
//! building spans (`clew_segment`'s transcoding, as the head's cut does).
//!
//! The writer's thread drives the merge itself: each input's pages are
//! handed to the block writer as sources, one at a time, and released
//! once their traces are pushed (the writer drops a source when the page
//! holding its last trace is written), so memory stays at about one
//! decompressed page per input, as the decoded merge holds one decoded
//! page. The next page of each input is fetched while the current one is
//! written. A trace stored in several inputs is written from all of its
//! pages at once: the ones its inputs are not reading at that moment are
//! opened for it alone (and read again when their input gets there).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use clew_model::TraceId;
use clew_segment::{BlockOptions, EncodedBlock, RawTrace, Tables};
use object_store::ObjectStore;
use object_store::path::Path;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use super::pages_holding;
use crate::disk::block::{Block, BlockError};
use crate::disk::upload::StreamingBlock;

/// A trace stored in several inputs: its merged order key and its parts
/// `(input, page, position in the page)`, in input order.
struct SharedTrace {
    key: (u64, TraceId),
    parts: Vec<(usize, usize, u32)>,
}

/// Merges `inputs` (all of format v3; `shared`: traces in two or more of
/// them) into one block stored at `path`.
pub(super) async fn merge(
    objects: &Arc<dyn ObjectStore>,
    inputs: &[Arc<Block>],
    shared: HashSet<TraceId>,
    opts: BlockOptions,
    path: Path,
    writing: tokio::sync::OwnedRwLockReadGuard<()>,
) -> Result<EncodedBlock, BlockError> {
    let store = objects.as_ref();
    let mut tables = Vec::with_capacity(inputs.len());
    for b in inputs {
        tables.push(b.tables(store).await?);
    }
    let shared_order = shared_parts(store, inputs, &shared).await?;
    let plan = Plan {
        objects: objects.clone(),
        handle: Handle::current(),
        inputs: inputs.to_vec(),
        tables,
        shared,
        shared_order,
    };
    // The writer's closure can only say whether every trace went in; why
    // not comes back through here.
    let failure: Arc<parking_lot::Mutex<Option<BlockError>>> = Arc::default();
    let failed = failure.clone();
    let written =
        crate::disk::upload::write_block(objects.clone(), path, opts, writing, move |w| match plan
            .run(w)
        {
            Ok(()) => true,
            Err(e) => {
                *failed.lock() = Some(e);
                false
            }
        })
        .await;
    let failure = failure.lock().take();
    match (written, failure) {
        (Ok(block), _) => Ok(block),
        (Err(_), Some(e)) => Err(e),
        (Err(e), None) => Err(BlockError::Store(e)),
    }
}

/// Locates every part of the shared traces from the pages' trace headers
/// (no column read), and orders them by merged key, last first.
async fn shared_parts(
    store: &dyn ObjectStore,
    inputs: &[Arc<Block>],
    shared: &HashSet<TraceId>,
) -> Result<Vec<SharedTrace>, BlockError> {
    let mut found: HashMap<TraceId, SharedTrace> = HashMap::new();
    for (i, b) in inputs.iter().enumerate() {
        for p in pages_holding(b, shared) {
            let stored = b.page_stored(store, p).await?;
            let heads = clew_segment::read_page_trace_starts(&b.index.pages[p], &stored)?;
            for (pos, (id, start)) in heads.into_iter().enumerate() {
                if !shared.contains(&id) {
                    continue;
                }
                let t = found.entry(id).or_insert(SharedTrace {
                    key: (start, id),
                    parts: Vec::new(),
                });
                t.key.0 = t.key.0.min(start);
                t.parts.push((i, p, pos as u32));
            }
        }
    }
    let mut out: Vec<SharedTrace> = found.into_values().collect();
    out.sort_by_key(|t| std::cmp::Reverse(t.key));
    Ok(out)
}

/// Everything the writer's thread needs to merge.
struct Plan {
    objects: Arc<dyn ObjectStore>,
    handle: Handle,
    inputs: Vec<Arc<Block>>,
    tables: Vec<Arc<Tables>>,
    shared: HashSet<TraceId>,
    /// Shared traces not written yet, the next one last.
    shared_order: Vec<SharedTrace>,
}

/// A page's stored bytes on their way.
type Fetch = JoinHandle<Result<Bytes, BlockError>>;

/// One input: where its reading has got to.
struct InputPages {
    block: Arc<Block>,
    /// Its tables' number in the writer.
    dict: u32,
    next_page: usize,
    /// The fetch of page `next_page`, started while the one before is
    /// written.
    fetch: Option<Fetch>,
    /// The page being read, `(page, source)`, while traces of it are
    /// still to be pushed.
    current: Option<(usize, u32)>,
    /// Its traces not pushed yet (shared ones left out).
    buf: VecDeque<RawTrace>,
}

impl Plan {
    /// Runs the k-way merge on the writer's thread (blocking on reads).
    fn run(mut self, w: &mut StreamingBlock) -> Result<(), BlockError> {
        let mut inputs: Vec<InputPages> = self
            .inputs
            .iter()
            .zip(&self.tables)
            .map(|(b, t)| InputPages {
                block: b.clone(),
                dict: w.writer().add_block_tables(t.clone()),
                next_page: 0,
                fetch: None,
                current: None,
                buf: VecDeque::new(),
            })
            .collect();
        loop {
            for input in inputs.iter_mut() {
                self.fill(input, w)?;
            }
            let best = inputs
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.buf.front().map(|t| ((t.start(), t.id()), i)))
                .min();
            let from_shared = self.shared_order.last().map(|t| t.key);
            match (best, from_shared) {
                (Some((k, i)), Some(s)) if k < s => self.push_next(&mut inputs[i], w)?,
                (_, Some(_)) => {
                    if let Some(t) = self.shared_order.pop() {
                        self.push_shared(t, &inputs, w)?;
                    }
                }
                (Some((_, i)), None) => self.push_next(&mut inputs[i], w)?,
                (None, None) => return Ok(()),
            }
        }
    }

    /// Starts fetching page `p` of `block`.
    fn start_fetch(&self, block: &Arc<Block>, p: usize) -> Fetch {
        let (objects, block) = (self.objects.clone(), block.clone());
        self.handle
            .spawn(async move { block.page_stored(objects.as_ref(), p).await })
    }

    /// Waits for a fetch.
    fn wait(&self, fetch: Fetch) -> Result<Bytes, BlockError> {
        self.handle.block_on(fetch).map_err(|e| {
            BlockError::Store(object_store::Error::Generic {
                store: "compaction",
                source: Box::new(e),
            })
        })?
    }

    /// Opens the input's next page(s) until it has a trace to push or no
    /// page is left; releases the page it has finished.
    fn fill(&self, input: &mut InputPages, w: &mut StreamingBlock) -> Result<(), BlockError> {
        let pages = &input.block.index.pages;
        while input.buf.is_empty() && input.next_page < pages.len() {
            if let Some((_, src)) = input.current.take() {
                w.writer().release_source(src);
            }
            let p = input.next_page;
            let fetch = match input.fetch.take() {
                Some(f) => f,
                None => self.start_fetch(&input.block, p),
            };
            let stored = self.wait(fetch)?;
            input.next_page += 1;
            if input.next_page < pages.len() {
                input.fetch = Some(self.start_fetch(&input.block, input.next_page));
            }
            let src = w.writer().add_page_source(input.dict, &pages[p], &stored)?;
            let ids: Vec<TraceId> = w.writer().source_traces(src).collect();
            for (pos, id) in ids.into_iter().enumerate() {
                if !self.shared.contains(&id) {
                    input
                        .buf
                        .push_back(w.writer().raw_trace(id, vec![(src, pos as u32)])?);
                }
            }
            input.current = Some((p, src));
        }
        if input.buf.is_empty()
            && let Some((_, src)) = input.current.take()
        {
            w.writer().release_source(src);
        }
        Ok(())
    }

    /// Pushes the input's next trace.
    fn push_next(&self, input: &mut InputPages, w: &mut StreamingBlock) -> Result<(), BlockError> {
        if let Some(t) = input.buf.pop_front() {
            w.push_raw(t)?;
        }
        if input.buf.is_empty()
            && let Some((_, src)) = input.current.take()
        {
            w.writer().release_source(src);
        }
        Ok(())
    }

    /// Pushes a shared trace from all its parts' pages.
    fn push_shared(
        &self,
        t: SharedTrace,
        inputs: &[InputPages],
        w: &mut StreamingBlock,
    ) -> Result<(), BlockError> {
        let mut parts = Vec::with_capacity(t.parts.len());
        let mut opened = Vec::new();
        for (i, p, pos) in t.parts {
            let input = &inputs[i];
            let src = match input.current {
                Some((page, src)) if page == p => src,
                _ => {
                    let stored = self.wait(self.start_fetch(&input.block, p))?;
                    let src = w.writer().add_page_source(
                        input.dict,
                        &input.block.index.pages[p],
                        &stored,
                    )?;
                    opened.push(src);
                    src
                }
            };
            parts.push((src, pos));
        }
        let trace = w.writer().raw_trace(t.key.1, parts)?;
        w.push_raw(trace)?;
        for src in opened {
            w.writer().release_source(src);
        }
        Ok(())
    }
}
