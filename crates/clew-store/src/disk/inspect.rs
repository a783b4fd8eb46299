//! Read-only views of a data directory for `clew storage inspect|verify`:
//! what blocks and WAL segments it holds, and whether every checksum holds.
//! Nothing here writes, truncates or deletes.

use std::path::Path;

use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use super::block::{BLOCKS_PREFIX, Block, block_id};
use super::io_err;
use super::wal::{list_segments, scan_segment};
use crate::StoreError;

/// One block as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// Object path under the data directory.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Index facts, or why the footer/index could not be read.
    pub index: Result<BlockSummary, String>,
}

/// What a block's index says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockSummary {
    /// Compaction level.
    pub level: u32,
    /// Spans.
    pub spans: u64,
    /// Traces.
    pub traces: u64,
    /// Earliest / latest span start, Unix ns.
    pub min_start: u64,
    /// Latest span start, Unix ns.
    pub max_start: u64,
    /// Services.
    pub services: usize,
    /// Pages.
    pub pages: usize,
    /// Blocks it replaces (compaction output not yet cleaned up after).
    pub replaces: usize,
}

/// One WAL segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalSegmentInfo {
    /// Sequence number.
    pub seq: u64,
    /// Bytes.
    pub size: u64,
    /// Whole records.
    pub records: usize,
    /// Bytes after the last whole record (a torn tail replay will cut).
    pub torn_bytes: u64,
}

/// A data directory's contents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataDirReport {
    /// Blocks, oldest first.
    pub blocks: Vec<BlockInfo>,
    /// WAL segments, in order.
    pub wal: Vec<WalSegmentInfo>,
    /// Problems `verify` found (empty for `inspect`, which reads indexes only).
    pub errors: Vec<String>,
}

fn objects(dir: &Path) -> Result<LocalFileSystem, StoreError> {
    LocalFileSystem::new_with_prefix(dir).map_err(io_err)
}

/// Lists blocks (reading their footers and indexes) and WAL segments.
pub async fn inspect_dir(dir: &Path) -> Result<DataDirReport, StoreError> {
    scan(dir, false).await
}

/// [`inspect_dir`], then reads every section of every block and checks its
/// CRC and decoding; problems are listed in [`DataDirReport::errors`].
pub async fn verify_dir(dir: &Path) -> Result<DataDirReport, StoreError> {
    scan(dir, true).await
}

async fn scan(dir: &Path, deep: bool) -> Result<DataDirReport, StoreError> {
    if !dir.is_dir() {
        return Err(StoreError::InvalidQuery(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let mut report = DataDirReport::default();
    if dir.join(BLOCKS_PREFIX).is_dir() {
        let store = objects(dir)?;
        let mut metas: Vec<object_store::ObjectMeta> = store
            .list(Some(&ObjectPath::from(BLOCKS_PREFIX)))
            .try_collect()
            .await
            .map_err(io_err)?;
        metas.retain(|m| block_id(&m.location).is_some());
        metas.sort_by(|a, b| a.location.cmp(&b.location));
        for meta in metas {
            let index = match Block::open(&store, &meta).await {
                Ok(b) => {
                    if deep {
                        match store.get(&meta.location).await {
                            Ok(r) => match r.bytes().await {
                                Ok(bytes) => {
                                    if let Err(e) = clew_segment::decode_block(&bytes) {
                                        report.errors.push(format!("{}: {e}", meta.location));
                                    }
                                }
                                Err(e) => report.errors.push(format!("{}: {e}", meta.location)),
                            },
                            Err(e) => report.errors.push(format!("{}: {e}", meta.location)),
                        }
                    }
                    let i = &b.index;
                    Ok(BlockSummary {
                        level: i.level,
                        spans: i.span_count,
                        traces: i.trace_count,
                        min_start: i.min_start,
                        max_start: i.max_start,
                        services: i.services.len(),
                        pages: i.pages.len(),
                        replaces: i.replaces.len(),
                    })
                }
                Err(e) => {
                    if deep {
                        report.errors.push(format!("{}: {e}", meta.location));
                    }
                    Err(e.to_string())
                }
            };
            report.blocks.push(BlockInfo {
                path: meta.location.to_string(),
                size: meta.size,
                index,
            });
        }
    }
    let wal_dir = dir.join("wal");
    if wal_dir.is_dir() {
        for (seq, path) in list_segments(&wal_dir)? {
            let s = scan_segment(&path)?;
            let torn = s.file_len - s.valid_len;
            if deep && (torn > 0 || s.bad_header) {
                report.errors.push(format!(
                    "wal segment {seq:016x}: {torn} bytes after the last whole record (replay truncates them)"
                ));
            }
            report.wal.push(WalSegmentInfo {
                seq,
                size: s.file_len,
                records: s.records.len(),
                torn_bytes: torn,
            });
        }
    }
    Ok(report)
}
