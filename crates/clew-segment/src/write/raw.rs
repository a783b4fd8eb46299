//! The block writer's transcoding side: traces read from encoded columns
//! (WAL batches for the head's cut, pages of other blocks for compaction)
//! and written without building spans (see the `transcode` module).

use std::sync::Arc;

use clew_model::TraceId;

use super::{BlockWriter, EncodedBlock, add_operation, add_span_times};
use crate::SegmentError;
use crate::index::PageRef;
use crate::tables::Tables;
use crate::transcode::{Dictionary, RawTrace, SharedBatch, Source, TablesRef, Transcoder};

impl BlockWriter {
    /// Adds a WAL batch to read traces from with
    /// [`BlockWriter::push_raw`], which writes them without building their
    /// spans (see the `transcode` module); answers its number.
    pub fn add_source(&mut self, batch: SharedBatch) -> Result<u32, SegmentError> {
        let dict = self.dicts.len() as u32;
        let source = Source::open_batch(&batch, dict)?;
        self.dicts.push(Dictionary::new(TablesRef::Batch(batch)));
        Ok(self.push_source(source))
    }

    /// Adds the tables of a block whose pages will be sources
    /// ([`BlockWriter::add_page_source`]); answers their number. One per
    /// input block: its pages share the map from its indexes to this
    /// block's, filled once.
    pub fn add_block_tables(&mut self, tables: Arc<Tables>) -> u32 {
        self.dicts.push(Dictionary::new(TablesRef::Block(tables)));
        self.dicts.len() as u32 - 1
    }

    /// Adds one page of a block to read traces from with
    /// [`BlockWriter::push_raw`] (compaction): `stored` is its section as
    /// [`PageRef::section`] locates it (checked and decompressed here, and
    /// held until [`BlockWriter::release_source`]), `tables` the number
    /// [`BlockWriter::add_block_tables`] gave its block's tables. Only
    /// pages of format v3 can be read so ([`PageRef::pair_runs`] is set);
    /// others are an error, and are written from their decoded spans.
    pub fn add_page_source(
        &mut self,
        tables: u32,
        page: &PageRef,
        stored: &[u8],
    ) -> Result<u32, SegmentError> {
        if tables as usize >= self.dicts.len() {
            return Err(SegmentError::Corrupt("block tables number"));
        }
        let raw = crate::read::section(&page.section, stored, "page")?;
        let source = Source::open_page(&raw, tables)?;
        Ok(self.push_source(source))
    }

    fn push_source(&mut self, source: Source) -> u32 {
        self.sources.push(Some(source));
        self.sources.len() as u32 - 1
    }

    /// Drops source `source` once no trace pushed from it waits for its
    /// page any more, so a writer fed page by page (compaction) holds the
    /// pages it reads now, not every page it has read. Its number is not
    /// reused; traces added after this must not read it.
    pub fn release_source(&mut self, source: u32) {
        if self.pending_raw.iter().any(|t| t.reads(source)) {
            self.retiring.push(source);
        } else if let Some(slot) = self.sources.get_mut(source as usize) {
            *slot = None;
        }
    }

    /// Sources added and not dropped yet (a released one is dropped once
    /// the page of the last trace pushed from it is written).
    pub fn held_sources(&self) -> usize {
        self.sources.iter().filter(|s| s.is_some()).count()
    }

    /// The traces of source `source`, in its order (their positions are
    /// what [`BlockWriter::raw_trace`] takes); none once released.
    pub fn source_traces(&self, source: u32) -> impl Iterator<Item = TraceId> + '_ {
        self.sources
            .get(source as usize)
            .and_then(Option::as_ref)
            .map(|s| s.traces())
            .unwrap_or_default()
            .iter()
            .map(|t| t.id)
    }

    /// Trace `id` as the parts of sources holding its spans: `(source,
    /// position in source_traces)`, in the order a reader would
    /// concatenate them.
    pub fn raw_trace(&self, id: TraceId, parts: Vec<(u32, u32)>) -> Result<RawTrace, SegmentError> {
        crate::transcode::raw_trace(&self.sources, id, parts)
    }

    /// Adds one whole trace read from the sources; the same rules and the
    /// same bytes as [`BlockWriter::push`] with its decoded spans. After an
    /// error the block is incomplete: [`BlockWriter::failed`] says so.
    pub fn push_raw(&mut self, mut t: RawTrace) -> Result<(), SegmentError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if t.spans() == 0 {
            return Ok(());
        }
        if !self.pending.is_empty() {
            self.flush_page();
        }
        let mut tc = Transcoder {
            sources: &self.sources,
            dicts: &mut self.dicts,
            tables: &mut self.tables,
        };
        let idx = &mut self.index;
        let (services, ops) = (&mut self.services, &mut self.ops);
        let mut new_bytes = 0;
        let read = tc.facts(&mut t, &mut |f| {
            add_span_times(idx, f.start, f.end);
            new_bytes += f.new_bytes;
            if let Some((svc, name, kind)) = f.new_op {
                add_operation(services, ops, &svc, &name, &kind);
            }
        });
        if let Err(e) = read {
            self.failed = Some(e.clone());
            return Err(e);
        }
        let (id, spans) = (t.id(), t.spans() as usize);
        self.pending_raw.push(t);
        self.queued(id, spans, new_bytes);
        match &self.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The error that made the block incomplete, if one did (only
    /// [`BlockWriter::push_raw`] can fail).
    pub fn failed(&self) -> Option<&SegmentError> {
        self.failed.as_ref()
    }

    /// [`BlockWriter::finish`] for a writer fed with
    /// [`BlockWriter::push_raw`]: the last page is encoded here too, and if
    /// it (or any earlier one) could not be read the error comes back
    /// instead of a block missing its traces.
    pub fn try_finish(mut self) -> Result<EncodedBlock, SegmentError> {
        self.flush_page();
        match self.failed.take() {
            Some(e) => Err(e),
            None => Ok(self.finish()),
        }
    }

    /// [`BlockWriter::flush_page`] for traces pushed raw.
    pub(super) fn flush_raw_page(&mut self) {
        let run = std::mem::take(&mut self.pending_raw);
        let mut tc = Transcoder {
            sources: &self.sources,
            dicts: &mut self.dicts,
            tables: &mut self.tables,
        };
        let page = tc.encode_page(&run, Some(self.opts.zstd_level));
        for s in std::mem::take(&mut self.retiring) {
            if let Some(slot) = self.sources.get_mut(s as usize) {
                *slot = None;
            }
        }
        match page {
            Ok(raw) => {
                let ids: Vec<TraceId> = run.iter().map(|t| t.id()).collect();
                let min_start = run.iter().map(|t| t.start()).min().unwrap_or(0);
                let max_start = run.iter().map(|t| t.max_start()).max().unwrap_or(0);
                self.add_page(&raw, &ids, min_start, max_start);
            }
            Err(e) => {
                self.failed.get_or_insert(e);
                self.pending_spans = 0;
                self.pending_new_bytes = 0;
            }
        }
    }
}
