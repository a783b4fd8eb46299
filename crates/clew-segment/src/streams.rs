//! Opening a page's streams, in either page layout.
//!
//! * v1 pages (format version 1): the streams are stored raw inside the
//!   page, which is compressed as one zstd frame; the `traces` stream holds
//!   `id, span count, start` per trace.
//! * v2 pages (page flag [`FLAG_V2`], format version 2): each stream is
//!   compressed on its own (`0` = raw, `1` = `var raw_len` + zstd frame),
//!   so a reader decompresses only the columns it reads and each column
//!   gets its own entropy tables; trace IDs, span counts and start deltas
//!   are three streams; tag keys, string values and other values are three
//!   streams (see `TableBuilder::put_tags_v2`).
//! * v3 pages (page flag [`FLAG_V3`], format version 3, blocks only): v2
//!   plus a stream of each trace's attribute pair IDs, so a tag search
//!   tests a trace with a few integer compares, without its tag columns.

use std::borrow::Cow;

use clew_model::TraceId;

use crate::SegmentError;
use crate::codec::{Cursor, Sink};
use crate::page::{FLAG_MICROS, S_TRACES, STREAMS};

/// Page flag: the v2 layout.
pub(crate) const FLAG_V2: u64 = 2;
/// v2: span count per trace.
pub(crate) const S_TRACE_SPANS: usize = 14;
/// v2: trace start minus the previous trace's start (zigzag, in `unit`).
pub(crate) const S_TRACE_STARTS: usize = 15;
/// v2: string index of each string-valued span tag (see `put_tags_v2`).
pub(crate) const S_TAG_STRINGS: usize = 16;
/// Streams in a v2 page.
pub(crate) const STREAMS_V2: usize = 17;
/// Page flag: the v3 layout (v2 plus the streams below; block pages only,
/// WAL records keep the v2 layout).
pub(crate) const FLAG_V3: u64 = 4;
/// v3: per trace, the pair IDs (see `Tables::pair_id`) of every
/// string-valued attribute its spans carry, as runs.
pub(crate) const S_TRACE_PAIRS: usize = 17;
/// v3: the bytes of span tags' strings written in place (value type 9
/// in stream 13 holds only their length), so walking the tag columns
/// never decompresses them.
pub(crate) const S_INLINE_TAGS: usize = 18;
/// Streams in a v3 page.
pub(crate) const STREAMS_V3: usize = 19;

/// A page's streams, each decompressed the first time it is read (v2), so
/// a search that rejects a page from its tag columns never pays for the
/// others, and one that goes on to build spans decompresses nothing twice.
pub(crate) struct Streams<'a> {
    pub(crate) unit: u64,
    pub(crate) trace_count: usize,
    pub(crate) v2: bool,
    pub(crate) v3: bool,
    blobs: Vec<&'a [u8]>,
    bufs: Vec<std::cell::OnceCell<Cow<'a, [u8]>>>,
}

fn unstore(blob: &[u8]) -> Result<Cow<'_, [u8]>, SegmentError> {
    let mut c = Cursor::new(blob, "page stream");
    match c.u8()? {
        0 => Ok(Cow::Borrowed(&blob[1..])),
        1 => {
            let raw_len = c.var()? as usize;
            let data = &blob[c.position()..];
            if raw_len > data.len().saturating_mul(1024).max(1 << 16) {
                return Err(SegmentError::Corrupt("stream length"));
            }
            let out = crate::codec::zstd_decompress(data, raw_len)
                .map_err(|e| SegmentError::Decompress(e.to_string()))?;
            if out.len() != raw_len {
                return Err(SegmentError::Corrupt("stream length"));
            }
            Ok(Cow::Owned(out))
        }
        _ => Err(SegmentError::Corrupt("stream marker")),
    }
}

/// Appends one v2 stream: zstd at `level` when that is smaller, else raw.
pub(crate) fn store(out: &mut Vec<u8>, raw: &[u8], level: Option<i32>) {
    if let Some(level) = level
        && raw.len() > 64
        && let Ok(c) = crate::codec::zstd_compress(raw, level)
        && c.len() + 4 < raw.len()
    {
        let mut head = Vec::with_capacity(12);
        head.put_u8(1);
        head.put_var(raw.len() as u64);
        out.put_var((head.len() + c.len()) as u64);
        out.put_bytes(&head);
        out.put_bytes(&c);
        return;
    }
    out.put_var(raw.len() as u64 + 1);
    out.put_u8(0);
    out.put_bytes(raw);
}

impl<'a> Streams<'a> {
    /// Reads the page header and finds each stream (nothing decompressed).
    pub(crate) fn open(raw: &'a [u8]) -> Result<Streams<'a>, SegmentError> {
        let mut c = Cursor::new(raw, "page");
        let flags = c.var()?;
        let unit = if flags & FLAG_MICROS != 0 { 1000 } else { 1 };
        let v2 = flags & FLAG_V2 != 0;
        let v3 = v2 && flags & FLAG_V3 != 0;
        let trace_count = c.count(if v2 { 1 } else { 17 })?;
        let streams = c.var()? as usize;
        let known = if v3 {
            STREAMS_V3
        } else if v2 {
            STREAMS_V2
        } else {
            STREAMS
        };
        if streams < known {
            return Err(SegmentError::Corrupt("page stream count"));
        }
        let mut blobs = Vec::with_capacity(known);
        for i in 0..streams {
            let b = c.blob()?;
            if i < known {
                blobs.push(b);
            }
        }
        Ok(Streams {
            unit,
            trace_count,
            v2,
            v3,
            bufs: (0..blobs.len())
                .map(|_| std::cell::OnceCell::new())
                .collect(),
            blobs,
        })
    }

    /// Where each stream's bytes lie in `page` (the bytes this was opened
    /// on), for a v2 page whose streams are all stored raw (a WAL batch);
    /// `None` otherwise.
    pub(crate) fn raw_ranges(&self, page: &[u8]) -> Option<Vec<std::ops::Range<usize>>> {
        if !self.v2 {
            return None;
        }
        let base = page.as_ptr() as usize;
        self.blobs
            .iter()
            .map(|b| {
                let at = (b.as_ptr() as usize).checked_sub(base)?;
                (b.first() == Some(&0) && at + b.len() <= page.len())
                    .then_some(at + 1..at + b.len())
            })
            .collect()
    }

    /// Every stream decompressed into a buffer of its own (a block page a
    /// block writer transcodes: it reads every column of every trace, so
    /// nothing is left to decompress lazily).
    pub(crate) fn into_columns(self) -> Result<Vec<Vec<u8>>, SegmentError> {
        self.blobs
            .iter()
            .map(|&b| {
                Ok(if self.v2 {
                    unstore(b)?.into_owned()
                } else {
                    b.to_vec()
                })
            })
            .collect()
    }

    /// Stored bytes of each stream (compressed size for v2 pages).
    pub(crate) fn stored_sizes(&self) -> Vec<usize> {
        self.blobs.iter().map(|b| b.len()).collect()
    }

    /// Stream `i`, decompressed on first use.
    pub(crate) fn stream(&self, i: usize) -> Result<&[u8], SegmentError> {
        let (Some(cell), Some(&blob)) = (self.bufs.get(i), self.blobs.get(i)) else {
            return Ok(&[]);
        };
        if cell.get().is_none() {
            let _ = cell.set(if self.v2 {
                unstore(blob)?
            } else {
                Cow::Borrowed(blob)
            });
        }
        Ok(cell.get().map_or(&[][..], |b| &b[..]))
    }

    /// One cursor per stream; streams `wanted` rejects are left empty.
    pub(crate) fn cursors(
        &self,
        wanted: &dyn Fn(usize) -> bool,
    ) -> Result<Vec<Cursor<'_>>, SegmentError> {
        (0..self.blobs.len())
            .map(|i| {
                let b = if wanted(i) { self.stream(i)? } else { &[][..] };
                Ok(Cursor::new(b, "page stream"))
            })
            .collect()
    }

    /// Reads trace headers in order.
    pub(crate) fn heads(&self) -> TraceHeads {
        TraceHeads {
            v2: self.v2,
            unit: self.unit,
            prev: 0,
        }
    }
}

/// Reads `(trace ID, span count, trace start)` one trace at a time.
pub(crate) struct TraceHeads {
    v2: bool,
    unit: u64,
    prev: u64,
}

impl TraceHeads {
    pub(crate) fn next(
        &mut self,
        st: &mut [Cursor<'_>],
    ) -> Result<(TraceId, u64, u64), SegmentError> {
        let t = &mut st[S_TRACES];
        let id = TraceId::new(t.u64()?, t.u64()?);
        if self.v2 {
            let n = st[S_TRACE_SPANS].var()?;
            let d = st[S_TRACE_STARTS].zigzag()?;
            self.prev = self.prev.wrapping_add(d as u64);
            Ok((id, n, self.prev.saturating_mul(self.unit)))
        } else {
            let n = t.var()?;
            let start = t.var()?.saturating_mul(self.unit);
            Ok((id, n, start))
        }
    }
}
