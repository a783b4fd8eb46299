//! A self-contained encoding of one batch of spans: the payload of a WAL
//! record. Same columns and value encoding as a block page, with the
//! batch's own string/process tables in front, uncompressed (the WAL is
//! written once and read only on restart, so ingest CPU matters more).

use bytes::Bytes;

use crate::SegmentError;
use crate::codec::{Cursor, Sink};
use crate::page::{self, TraceSpans};
use crate::tables::{TableBuilder, Tables};

/// Encodes traces (spans grouped by trace, see [`crate::group_by_trace`]).
pub fn encode_batch(traces: &[TraceSpans]) -> Vec<u8> {
    let mut tables = TableBuilder::default();
    let refs: Vec<&TraceSpans> = traces.iter().collect();
    let page = page::encode(&refs, &mut tables);
    let t = tables.encode();
    let mut out = Vec::with_capacity(t.len() + page.len() + 10);
    out.put_blob(&t);
    out.put_bytes(&page);
    out
}

/// Decodes what [`encode_batch`] wrote. The spans' strings are slices of
/// `bytes`, so they keep that (compact) buffer alive, nothing else.
pub fn decode_batch(bytes: Bytes) -> Result<Vec<TraceSpans>, SegmentError> {
    let mut c = Cursor::new(&bytes, "batch");
    let t = c.blob()?;
    let start = c.position() - t.len();
    let tables = Tables::decode(bytes.slice(start..start + t.len()))?;
    let page = &bytes[c.position()..];
    page::decode(page, &tables, &|_| true)
}
