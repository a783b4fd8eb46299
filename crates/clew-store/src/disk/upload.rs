//! Storing a block while it is encoded.
//!
//! A block's pages come first in its file and never change once written,
//! so the writer hands each few MiB of finished pages to a multipart
//! upload (`ObjectStore::put_multipart`: a staging file renamed into place
//! on a local disk, parts of a multipart upload on S3) instead of keeping
//! the whole block in memory until it is stored — a merged block of
//! high-entropy spans is ≈ 190 MB. Memory per block being written is then
//! bounded by [`PART_BYTES`] × ([`PARTS_IN_FLIGHT`] + 1) plus about
//! [`HAND_OVER_BYTES`] and one page,
//! whatever the block's size.
//!
//! It runs on a blocking-pool thread (encoding is CPU work) and waits for
//! the upload through the runtime's handle, so a slow store slows the
//! encoder down rather than letting finished parts pile up.

use std::path::Path as FsPath;
use std::sync::Arc;

use clew_segment::{BlockOptions, BlockWriter, EncodedBlock, RawTrace, SegmentError, TraceSpans};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};

/// Bytes per uploaded part (S3 wants at least 5 MiB for all but the last).
const PART_BYTES: usize = 8 << 20;
/// Bytes of finished pages the writer holds before handing them over.
const HAND_OVER_BYTES: usize = 1 << 20;
/// Parts uploading at once while the encoder goes on.
const PARTS_IN_FLIGHT: usize = 1;

/// Where traces go while a block is written: into a [`BlockWriter`] whose
/// finished pages are uploaded as they accumulate.
pub(super) struct StreamingBlock {
    writer: BlockWriter,
    upload: WriteMultipart,
    handle: tokio::runtime::Handle,
    /// The first upload error; once set, nothing more is uploaded and
    /// [`StreamingBlock::finish`] reports it.
    failed: Option<object_store::Error>,
}

impl StreamingBlock {
    /// Starts the upload of a block to `path`. Call from a blocking-pool
    /// thread of the runtime `handle` belongs to.
    pub(super) fn start(
        objects: &Arc<dyn ObjectStore>,
        handle: tokio::runtime::Handle,
        path: &Path,
        opts: BlockOptions,
    ) -> Result<StreamingBlock, object_store::Error> {
        let upload = handle.block_on(objects.put_multipart(path))?;
        Ok(StreamingBlock {
            writer: BlockWriter::new(opts),
            upload: WriteMultipart::new_with_chunk_size(upload, PART_BYTES),
            handle,
            failed: None,
        })
    }

    /// Adds one whole trace (in the order [`BlockWriter::push`] wants).
    pub(super) fn push(&mut self, t: TraceSpans) {
        self.writer.push(t);
        self.hand_over();
    }

    /// The block writer, for its sources and trace descriptions
    /// ([`BlockWriter::add_source`], [`BlockWriter::add_page_source`],
    /// [`BlockWriter::raw_trace`], …). Traces go in through
    /// [`StreamingBlock::push`] and [`StreamingBlock::push_raw`], which
    /// hand finished pages to the upload.
    pub(super) fn writer(&mut self) -> &mut BlockWriter {
        &mut self.writer
    }

    /// Adds one whole trace read from the sources ([`BlockWriter::push_raw`]).
    pub(super) fn push_raw(&mut self, t: RawTrace) -> Result<(), SegmentError> {
        self.writer.push_raw(t)?;
        self.hand_over();
        Ok(())
    }

    fn hand_over(&mut self) {
        // Finished pages are copied into the upload's part buffer every
        // MiB or so and the writer's buffer freed: handing the writer's
        // Vec over whole would keep each (doubled) allocation alive until
        // the last part slicing it is stored.
        if self.writer.pending_bytes() >= HAND_OVER_BYTES && self.failed.is_none() {
            let bytes = self.writer.take_bytes();
            self.upload.write(&bytes);
            drop(bytes);
            if let Err(e) = self
                .handle
                .block_on(self.upload.wait_for_capacity(PARTS_IN_FLIGHT))
            {
                self.failed = Some(e);
            }
        }
    }

    /// Gives up: the upload's staging object is removed, nothing is stored.
    pub(super) fn abort(self) {
        let _ = self.handle.block_on(self.upload.abort());
    }

    /// Writes the rest (last page, tables, index, footer) and completes the
    /// upload; on any error the upload is aborted (its staging object
    /// removed) and the error returned. The returned block's `bytes` are
    /// only the file's tail (tables, index, footer and maybe a last page).
    pub(super) fn finish(mut self) -> Result<EncodedBlock, object_store::Error> {
        if let Some(e) = self.failed.take() {
            let _ = self.handle.block_on(self.upload.abort());
            return Err(e);
        }
        let tail = match self.writer.try_finish() {
            Ok(tail) => tail,
            Err(e) => {
                let _ = self.handle.block_on(self.upload.abort());
                return Err(unreadable(e));
            }
        };
        // The upload gets its own copy of the tail; `tail.bytes` stays for
        // the caller, which decodes the tables from it (a few KB to MB).
        self.upload.write(&tail.bytes);
        // On an error the upload is dropped, which removes its staging
        // object (a local file; S3 expires incomplete uploads by policy).
        self.handle.block_on(self.upload.finish())?;
        Ok(tail)
    }
}

/// A source the writer could not read (a head batch, a compaction input's
/// page): the block is not stored.
fn unreadable(e: SegmentError) -> object_store::Error {
    object_store::Error::Generic {
        store: "block writer",
        source: format!("a source of the block could not be read: {e}").into(),
    }
}

/// Encodes a block on a blocking-pool thread, `fill` handing it the
/// traces, and stores it at `path` as it goes (see [`StreamingBlock`]).
/// `fill` answers whether it handed over every trace: if not (its feeder
/// failed or was cancelled), the upload is aborted — a merged block
/// missing part of its inputs must never be published, since it names
/// them in `replaces`.
/// `writing` is held until the thread is done (see `DiskStore::abandon`).
pub(super) async fn write_block<F>(
    objects: Arc<dyn ObjectStore>,
    path: Path,
    opts: BlockOptions,
    writing: tokio::sync::OwnedRwLockReadGuard<()>,
    fill: F,
) -> Result<EncodedBlock, object_store::Error>
where
    F: FnOnce(&mut StreamingBlock) -> bool + Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let _writing = writing;
        let mut block = StreamingBlock::start(&objects, handle, &path, opts)?;
        if fill(&mut block) {
            block.finish()
        } else {
            block.abort();
            Err(object_store::Error::Generic {
                store: "block writer",
                source: "the traces of the block stopped coming; not stored".into(),
            })
        }
    })
    .await
    .map_err(|e| object_store::Error::Generic {
        store: "block writer",
        source: Box::new(e),
    })?
}

/// Is `name` a staging file of a multipart upload to a local directory
/// (`object_store`'s `LocalFileSystem` writes `<name>#<n>`, `n` all digits,
/// and renames it into place on completion)?
fn is_staging_name(name: &str) -> bool {
    name.rsplit_once('#')
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Deletes staging files left in `dir` by uploads a crash interrupted;
/// answers how many. An aborted or failed upload removes its own, but after
/// `kill -9` mid-block nothing does, and the object store's listing skips
/// them, so without this each crash during a cut would leave up to a
/// whole block's bytes behind for good. Call only while no upload runs
/// (when the store opens): a live upload's staging file looks the same.
pub(super) fn remove_staging_leftovers(dir: &FsPath) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if !name.to_str().is_some_and(is_staging_name) || !entry.file_type()?.is_file() {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names_are_told_from_blocks() {
        assert!(is_staging_name("0001-0002-00ff.blk#1"));
        assert!(is_staging_name("0001-0002-00ff.blk#12345"));
        assert!(!is_staging_name("0001-0002-00ff.blk"));
        assert!(!is_staging_name("0001-0002-00ff.blk#"));
        assert!(!is_staging_name("0001-0002-00ff.blk#1a"));
    }

    #[test]
    fn leftovers_are_deleted_and_blocks_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let block = dir.path().join("0001-0002-00ff.blk");
        let staged = dir.path().join("0001-0002-00ff.blk#3");
        std::fs::write(&block, b"block").expect("write");
        std::fs::write(&staged, b"half a block").expect("write");
        assert_eq!(remove_staging_leftovers(dir.path()).expect("scan"), 1);
        assert!(block.exists());
        assert!(!staged.exists());
        assert_eq!(remove_staging_leftovers(dir.path()).expect("scan"), 0);
    }
}
