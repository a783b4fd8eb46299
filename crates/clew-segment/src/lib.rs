//! Clew's on-disk block format, sans-I/O.
//!
//! A *block* is an immutable file holding whole traces, written once and
//! read by byte ranges, so the same bytes serve from a local directory or
//! an object store. Its layout (docs/storage-format.md has every byte):
//!
//! ```text
//! "CLEWBLK\0" | page 0 | page 1 | … | tables | index | footer (36 bytes)
//! ```
//!
//! * **Pages** hold runs of whole traces in start order, each span split
//!   into columns (span IDs, parent-as-index, start deltas, durations,
//!   process, operation, tag keys / string values / other values, logs,
//!   references…), each column zstd-compressed on its own (format v2), so
//!   a search decompresses only the columns it reads; format v3 adds each
//!   trace's attribute pair IDs as a small column of its own (a tag search
//!   compares integers, not tag columns) and writes strings seen once in a
//!   page in the page, not in the block's dictionary.
//! * **Tables** hold every distinct string and process of the block once;
//!   columns refer to them by index.
//! * The **index** lists time range, services, operations with span kinds,
//!   attribute keys, a Bloom filter of `key=value` pairs, a trace table
//!   (trace-ID hash → page), and where each page and the tables are, with
//!   their CRCs; per page (v3) the pair IDs its traces carry and a filter
//!   of the pairs whose value it holds in place.
//! * The **footer** names the format version and where the index is.
//!
//! A reader fetches the footer, then the index, decides from the index
//! whether the block can match, and only then fetches tables and pages.
//!
//! ```
//! use clew_segment::{BlockOptions, TraceSpans, decode_block, write_block};
//! use clew_model::{Process, Span, SpanId, TraceId};
//! use std::sync::Arc;
//! let p = Arc::new(Process::new("frontend"));
//! let span = Span::new(TraceId::new(0, 1), SpanId(1), "GET /", p);
//! let block = write_block(
//!     vec![TraceSpans { id: span.trace_id, spans: vec![span.clone()] }],
//!     &BlockOptions::default(),
//! );
//! let back = decode_block(&block.bytes).expect("valid block");
//! assert_eq!(back.traces[0].spans, vec![span]);
//! ```

mod batch;
mod candidates;
mod codec;
mod deps;
mod error;
mod filter;
mod index;
mod page;
mod pair_rows;
mod read;
mod streams;
mod strings;
mod summary;
mod tables;
mod transcode;
mod values;
mod write;

pub use batch::{Batch, BatchTrace, decode_batch, encode_batch};
pub use deps::{DepSpan, TraceDeps};
pub use error::SegmentError;
pub use filter::{BloomFilter, tag_hash, trace_hash};
pub use index::{
    BLOCK_MAGIC, BlockIndex, FOOTER_LEN, FOOTER_MAGIC, FORMAT_VERSION, Footer, IndexedOperation,
    PageRef, SectionRef,
};
pub use page::{SpanFilter, TraceSpans, group_by_trace};
pub use read::{
    DecodedBlock, decode_block, page_may_hold_tags, page_stream_sizes, read_index, read_page,
    read_page_dependency_spans, read_page_filtered, read_page_summaries, read_page_trace_ids,
    read_page_trace_starts, read_tables,
};
pub use summary::{PageTraceSummary, ServiceCounts};
pub use tables::Tables;
pub use transcode::{RawTrace, SharedBatch};
pub use write::{BlockOptions, BlockWriter, EncodedBlock, write_block};
