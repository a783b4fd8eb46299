//! One immutable block as the store sees it: its name, size and index,
//! read through [`ObjectStore`] by byte ranges only.
//!
//! Names are `blocks/<min start ns, 20 digits>-<max start ns>-<id, 16 hex>.blk`
//! so a listing alone (of a directory or a bucket prefix) finds every block
//! and its time range; the index says the rest.

use std::sync::Arc;

use clew_model::{Span, TraceId};
use clew_segment::{BlockIndex, Footer, SegmentError, Tables, TraceSpans};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

/// Where blocks live under the store's root.
pub(crate) const BLOCKS_PREFIX: &str = "blocks";
const BLOCK_SUFFIX: &str = ".blk";

/// Why a block could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BlockError {
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("block format: {0}")]
    Format(#[from] SegmentError),
}

impl BlockError {
    /// The block was deleted (by retention or compaction) under a reader.
    pub(crate) fn is_gone(&self) -> bool {
        matches!(
            self,
            BlockError::Store(object_store::Error::NotFound { .. })
        )
    }
}

/// The object path of a block.
pub(crate) fn block_path(index: &BlockIndex, id: u64) -> Path {
    block_path_for(index.min_start, index.max_start, id)
}

/// The object path of a block whose spans start in `[min_start, max_start]`
/// (known before it is written, so it can be uploaded as it is encoded).
pub(crate) fn block_path_for(min_start: u64, max_start: u64, id: u64) -> Path {
    Path::from(format!(
        "{BLOCKS_PREFIX}/{min_start:020}-{max_start:020}-{id:016x}{BLOCK_SUFFIX}"
    ))
}

/// The block ID in a block's file name, if the name is a block's.
pub(crate) fn block_id(path: &Path) -> Option<u64> {
    let name = path.filename()?.strip_suffix(BLOCK_SUFFIX)?;
    let hex = name.rsplit('-').next()?;
    u64::from_str_radix(hex, 16).ok()
}

/// A listed block with its index loaded.
pub(crate) struct Block {
    pub(crate) id: u64,
    pub(crate) path: Path,
    pub(crate) size: u64,
    pub(crate) index: BlockIndex,
    tables: tokio::sync::OnceCell<Arc<Tables>>,
    trace_ids: tokio::sync::OnceCell<Arc<Vec<TraceId>>>,
}

impl Block {
    /// A block just written (its index is already known).
    pub(crate) fn new(id: u64, path: Path, size: u64, index: BlockIndex) -> Block {
        Block {
            id,
            path,
            size,
            index,
            tables: tokio::sync::OnceCell::new(),
            trace_ids: tokio::sync::OnceCell::new(),
        }
    }

    /// Reads the footer and index of a listed block.
    pub(crate) async fn open(
        store: &dyn ObjectStore,
        meta: &ObjectMeta,
    ) -> Result<Block, BlockError> {
        let id = block_id(&meta.location).ok_or(SegmentError::BadMagic("block name"))?;
        let footer_bytes = store
            .get_range(&meta.location, Footer::range(meta.size)?)
            .await?;
        let footer = Footer::decode(&footer_bytes)?;
        if footer.index.range().end > meta.size {
            return Err(SegmentError::Truncated("index outside the file").into());
        }
        let index_bytes = store
            .get_range(&meta.location, footer.index.range())
            .await?;
        let index = clew_segment::read_index(&footer, &index_bytes)?;
        let block = Block::new(id, meta.location.clone(), meta.size, index);
        // Loaded now, not by the first read: a trace-by-ID lookup that had
        // to fetch and decode them was the slow tail of that query. A
        // failure here is left for the first read to report.
        if let Ok(tables) = block.tables(store).await {
            // Their lookups are built off the opening path (restart time).
            tokio::task::spawn_blocking(move || tables.prepare_lookups());
        }
        Ok(block)
    }

    /// Decodes the tables from the stored tables section of a block just
    /// written, so its first read neither fetches nor decodes them (see
    /// [`Block::open`]).
    pub(crate) fn prime_tables(&self, stored: &[u8]) {
        if let Ok(t) = clew_segment::read_tables(&self.index, stored) {
            t.prepare_lookups();
            let _ = self.tables.set(Arc::new(t));
        }
    }

    pub(crate) async fn tables(&self, store: &dyn ObjectStore) -> Result<Arc<Tables>, BlockError> {
        self.tables
            .get_or_try_init(|| async {
                let bytes = store
                    .get_range(&self.path, self.index.tables.range())
                    .await?;
                Ok::<_, BlockError>(Arc::new(clew_segment::read_tables(&self.index, &bytes)?))
            })
            .await
            .cloned()
    }

    /// Decodes page `i`; only traces `want` accepts are built.
    pub(crate) async fn page(
        &self,
        store: &dyn ObjectStore,
        i: usize,
        want: &(dyn Fn(TraceId) -> bool + Sync),
    ) -> Result<Vec<TraceSpans>, BlockError> {
        let Some(page) = self.index.pages.get(i) else {
            return Ok(Vec::new());
        };
        let tables = self.tables(store).await?;
        let bytes = store.get_range(&self.path, page.section.range()).await?;
        Ok(clew_segment::read_page(page, &bytes, &tables, want)?)
    }

    /// What the service graph needs of every span of page `i`, from four
    /// of its columns (a v1 page is decoded whole instead).
    pub(crate) async fn page_dependency_spans(
        &self,
        store: &dyn ObjectStore,
        i: usize,
    ) -> Result<Vec<clew_segment::TraceDeps>, BlockError> {
        let Some(page) = self.index.pages.get(i) else {
            return Ok(Vec::new());
        };
        let tables = self.tables(store).await?;
        let bytes = store.get_range(&self.path, page.section.range()).await?;
        if let Some(deps) = clew_segment::read_page_dependency_spans(page, &bytes, &tables)? {
            return Ok(deps);
        }
        Ok(clew_segment::read_page(page, &bytes, &tables, &|_| true)?
            .iter()
            .map(clew_segment::TraceDeps::of)
            .collect())
    }

    /// The stored bytes of page `i` (compaction hands them to a block
    /// writer, which checks and reads them itself).
    pub(crate) async fn page_stored(
        &self,
        store: &dyn ObjectStore,
        i: usize,
    ) -> Result<bytes::Bytes, BlockError> {
        let page = self
            .index
            .pages
            .get(i)
            .ok_or(SegmentError::Corrupt("page number"))?;
        Ok(store.get_range(&self.path, page.section.range()).await?)
    }

    /// The stored bytes of several pages, in one request (one round trip
    /// to the object store, one blocking-pool hop for a local directory).
    pub(crate) async fn page_bytes(
        &self,
        store: &dyn ObjectStore,
        pages: &[usize],
    ) -> Result<Vec<bytes::Bytes>, BlockError> {
        let ranges = pages
            .iter()
            .map(|&i| {
                self.index
                    .pages
                    .get(i)
                    .map(|p| p.section.range())
                    .ok_or(SegmentError::Corrupt("page number"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(store.get_ranges(&self.path, &ranges).await?)
    }

    /// Decodes the traces of page `i` (its bytes read by
    /// [`Block::page_bytes`]) with a span passing `filter`.
    pub(crate) async fn page_filtered(
        &self,
        store: &dyn ObjectStore,
        i: usize,
        bytes: &[u8],
        filter: &clew_segment::SpanFilter<'_>,
    ) -> Result<Vec<TraceSpans>, BlockError> {
        let Some(page) = self.index.pages.get(i) else {
            return Ok(Vec::new());
        };
        let tables = self.tables(store).await?;
        Ok(clew_segment::read_page_filtered(
            page, bytes, &tables, filter,
        )?)
    }

    /// Summaries, from the columns of page `i` (its bytes read by
    /// [`Block::page_bytes`]), of the traces with a span passing `filter`
    /// (`None` for a v1 page).
    pub(crate) async fn page_summaries(
        &self,
        store: &dyn ObjectStore,
        i: usize,
        bytes: &[u8],
        filter: &clew_segment::SpanFilter<'_>,
    ) -> Result<Option<Vec<clew_segment::PageTraceSummary>>, BlockError> {
        let Some(page) = self.index.pages.get(i) else {
            return Ok(Some(Vec::new()));
        };
        let tables = self.tables(store).await?;
        Ok(clew_segment::read_page_summaries(
            page, bytes, &tables, filter,
        )?)
    }

    /// The spans of one trace in this block (empty when it has none).
    pub(crate) async fn trace(
        &self,
        store: &dyn ObjectStore,
        id: TraceId,
    ) -> Result<Vec<Span>, BlockError> {
        // The trace table (hash → page) answers for v1 and v2 blocks alike.
        let pages = self.index.pages_for(id);
        let mut out = Vec::new();
        for i in pages {
            for t in self.page(store, i, &|t| t == id).await? {
                out.extend(t.spans);
            }
        }
        Ok(out)
    }

    /// The block's trace IDs (read once, then cached).
    pub(crate) async fn trace_ids(
        &self,
        store: &dyn ObjectStore,
    ) -> Result<Arc<Vec<TraceId>>, BlockError> {
        self.trace_ids
            .get_or_try_init(|| async {
                let mut ids = Vec::with_capacity(self.index.trace_count as usize);
                for p in &self.index.pages {
                    let bytes = store.get_range(&self.path, p.section.range()).await?;
                    ids.extend(clew_segment::read_page_trace_ids(p, &bytes)?);
                }
                Ok::<_, BlockError>(Arc::new(ids))
            })
            .await
            .cloned()
    }
}
