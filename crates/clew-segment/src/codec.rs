//! Byte-level primitives: an appending sink and a bounds-checked cursor.
//!
//! Every read checks the bytes that remain, so a corrupt or hostile block
//! yields [`SegmentError`], never a panic or a huge allocation.

use crate::SegmentError;

/// Appends little-endian fixed-width integers and LEB128 varints.
pub(crate) trait Sink {
    fn put_u8(&mut self, v: u8);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put_var(&mut self, v: u64);
    fn put_bytes(&mut self, b: &[u8]);
    /// A varint length followed by the bytes.
    fn put_blob(&mut self, b: &[u8]) {
        self.put_var(b.len() as u64);
        self.put_bytes(b);
    }
    fn put_zigzag(&mut self, v: i64) {
        self.put_var(((v << 1) ^ (v >> 63)) as u64);
    }
}

impl Sink for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_var(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.push(v as u8);
    }
    fn put_bytes(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

/// Reads what a [`Sink`] wrote, checking every length against what remains.
#[derive(Clone, Copy)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Cursor { buf, pos: 0, what }
    }

    /// A cursor over `buf` already at `pos` (a position an earlier
    /// cursor over the same bytes reached).
    pub(crate) fn at(buf: &'a [u8], pos: usize, what: &'static str) -> Self {
        Cursor {
            buf,
            pos: pos.min(buf.len()),
            what,
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], SegmentError> {
        if n > self.remaining() {
            return Err(SegmentError::Truncated(self.what));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// The next byte, without consuming it.
    pub(crate) fn clone_peek_u8(&self) -> Result<u8, SegmentError> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or(SegmentError::Truncated(self.what))
    }

    pub(crate) fn u8(&mut self) -> Result<u8, SegmentError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, SegmentError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, SegmentError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// The hottest read of every decode and transcode. Most varints of a
    /// page are one or two bytes (dictionary indexes, counts, small
    /// deltas): those take a branch each, inlined at the call site; the
    /// general loop is out of line.
    #[inline]
    pub(crate) fn var(&mut self) -> Result<u64, SegmentError> {
        if let Some(&[a, b]) = self.buf.get(self.pos..).and_then(<[u8]>::first_chunk) {
            if a < 0x80 {
                self.pos += 1;
                return Ok(u64::from(a));
            }
            if b < 0x80 {
                self.pos += 2;
                return Ok(u64::from(a & 0x7f) | u64::from(b) << 7);
            }
        }
        self.var_long()
    }

    #[inline(never)]
    fn var_long(&mut self) -> Result<u64, SegmentError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let mut out = 0u64;
        for (i, &b) in rest.iter().take(10).enumerate() {
            out |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.pos += i + 1;
                return Ok(out);
            }
        }
        if rest.len() < 10 {
            Err(SegmentError::Truncated(self.what))
        } else {
            Err(SegmentError::Corrupt(self.what))
        }
    }

    /// Skips `n` varints (counting the bytes that end one), for readers
    /// passing over spans they do not build.
    pub(crate) fn skip_vars(&mut self, n: u64) -> Result<(), SegmentError> {
        if n == 0 {
            return Ok(());
        }
        let mut left = n;
        let rest = &self.buf[self.pos..];
        // Eight bytes at a time while the varints they end are all skipped
        // (a byte ends a varint when its top bit is clear).
        let mut at = 0;
        while let Some(word) = rest.get(at..at + 8) {
            let w = u64::from_le_bytes([
                word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
            ]);
            let ends = u64::from((!w & 0x8080_8080_8080_8080).count_ones());
            if ends >= left {
                break;
            }
            left -= ends;
            at += 8;
        }
        for (i, &b) in rest[at..].iter().enumerate() {
            if b < 0x80 {
                left -= 1;
                if left == 0 {
                    self.pos += at + i + 1;
                    return Ok(());
                }
            }
        }
        Err(SegmentError::Truncated(self.what))
    }

    /// Skips `n` lists of varints, each `var count` then count varints;
    /// answers how many varints the lists held.
    pub(crate) fn skip_counted(&mut self, n: u64) -> Result<u64, SegmentError> {
        let rest = &self.buf[self.pos..];
        let mut at = 0usize;
        let mut total = 0u64;
        for _ in 0..n {
            // The count (one byte unless a span has 128 tags or more).
            let mut count = 0u64;
            let mut shift = 0;
            loop {
                let b = *rest.get(at).ok_or(SegmentError::Truncated(self.what))?;
                at += 1;
                if shift < 64 {
                    count |= u64::from(b & 0x7f) << shift;
                }
                shift += 7;
                if b < 0x80 {
                    break;
                }
                if shift > 63 {
                    return Err(SegmentError::Corrupt(self.what));
                }
            }
            total = total.saturating_add(count);
            let mut left = count;
            while left > 0 {
                let b = *rest.get(at).ok_or(SegmentError::Truncated(self.what))?;
                at += 1;
                if b < 0x80 {
                    left -= 1;
                }
            }
        }
        self.pos += at;
        Ok(total)
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// A varint that must fit `usize` and is used as a count of items each
    /// taking at least `min_item_bytes` of the remaining input, so a lying
    /// count cannot make the caller reserve more than the input can hold.
    pub(crate) fn count(&mut self, min_item_bytes: usize) -> Result<usize, SegmentError> {
        let n = self.var()?;
        let max = self.remaining() / min_item_bytes.max(1);
        if n > max as u64 {
            return Err(SegmentError::Corrupt(self.what));
        }
        Ok(n as usize)
    }

    pub(crate) fn zigzag(&mut self) -> Result<i64, SegmentError> {
        let v = self.var()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    pub(crate) fn blob(&mut self) -> Result<&'a [u8], SegmentError> {
        let n = self.var()?;
        if n > self.remaining() as u64 {
            return Err(SegmentError::Truncated(self.what));
        }
        self.take(n as usize)
    }
}

/// CRC-32 (IEEE) of a section, as stored beside it.
pub(crate) fn crc(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

thread_local! {
    /// One zstd context per thread and level, reused: a block is many small
    /// frames (one per page stream), and making a context per frame cost
    /// more than compressing some of them.
    static COMPRESSOR: std::cell::RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// zstd-compresses `raw` at `level` with this thread's context.
pub(crate) fn zstd_compress(raw: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.as_ref().is_none_or(|(l, _)| *l != level) {
            *c = Some((level, zstd::bulk::Compressor::new(level)?));
        }
        match c.as_mut() {
            Some((_, z)) => z.compress(raw),
            None => zstd::bulk::compress(raw, level),
        }
    })
}

/// Decompresses one zstd frame of at most `capacity` bytes with this
/// thread's context.
pub(crate) fn zstd_decompress(data: &[u8], capacity: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(zstd::bulk::Decompressor::new()?);
        }
        match d.as_mut() {
            Some(z) => z.decompress(data, capacity),
            None => zstd::bulk::decompress(data, capacity),
        }
    })
}

/// Compresses a section with zstd.
pub(crate) fn compress(raw: &[u8], level: i32) -> Vec<u8> {
    // Compressing an in-memory buffer into a Vec cannot fail for I/O reasons;
    // fall back to storing nothing would lose data, so keep the raw bytes
    // behind a marker instead.
    match zstd_compress(raw, level) {
        Ok(c) => {
            let mut out = Vec::with_capacity(c.len() + 1);
            out.push(1);
            out.extend_from_slice(&c);
            out
        }
        Err(_) => {
            let mut out = Vec::with_capacity(raw.len() + 1);
            out.push(0);
            out.extend_from_slice(raw);
            out
        }
    }
}

/// Undoes [`compress`]; `raw_len` (from the index) bounds the output.
pub(crate) fn decompress(stored: &[u8], raw_len: usize) -> Result<Vec<u8>, SegmentError> {
    match stored.split_first() {
        Some((0, raw)) => Ok(raw.to_vec()),
        Some((1, c)) => {
            // A ratio cap stops a corrupt raw_len from asking for gigabytes.
            if raw_len > c.len().saturating_mul(1024).max(1 << 16) {
                return Err(SegmentError::Corrupt("section length"));
            }
            let out =
                zstd_decompress(c, raw_len).map_err(|e| SegmentError::Decompress(e.to_string()))?;
            if out.len() != raw_len {
                return Err(SegmentError::Corrupt("section length"));
            }
            Ok(out)
        }
        _ => Err(SegmentError::Corrupt("compression marker")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_round_trip() {
        let mut b = Vec::new();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            b.put_var(v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            b.put_zigzag(v);
        }
        let mut c = Cursor::new(&b, "test");
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(c.var().ok(), Some(v));
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(c.zigzag().ok(), Some(v));
        }
        assert!(c.is_empty());
    }

    /// Every length, each one last in its buffer too (where the two-byte
    /// fast path cannot look ahead), and cut short by one byte.
    #[test]
    fn varints_of_every_length_read_back_and_truncation_is_an_error() {
        for bits in 0..64 {
            for v in [1u64 << bits, (1u64 << bits) - 1, u64::MAX >> (63 - bits)] {
                let mut b = Vec::new();
                b.put_var(v);
                let mut c = Cursor::new(&b, "test");
                assert_eq!(c.var().ok(), Some(v), "{v} alone");
                assert!(c.is_empty());
                let mut two = b.clone();
                two.push(5);
                let mut c = Cursor::new(&two, "test");
                assert_eq!(c.var().ok(), Some(v), "{v} then a byte");
                assert_eq!(c.var().ok(), Some(5));
                let short = &b[..b.len() - 1];
                assert!(Cursor::new(short, "test").var().is_err(), "{v} cut short");
            }
        }
        let overlong = [0x80u8; 11];
        assert!(matches!(
            Cursor::new(&overlong, "test").var(),
            Err(SegmentError::Corrupt(_))
        ));
    }

    #[test]
    fn skipping_varints_lands_where_reading_them_does() {
        let mut b = Vec::new();
        for v in [0u64, 300, 1 << 40, 5, 127, 128] {
            b.put_var(v);
        }
        let mut c = Cursor::new(&b, "test");
        c.skip_vars(3).expect("three varints");
        assert_eq!(c.var().ok(), Some(5));
        c.skip_vars(0).expect("nothing");
        c.skip_vars(2).expect("two varints");
        assert!(c.is_empty());
        assert!(c.skip_vars(1).is_err());
        // Long runs (the word-at-a-time path), every split point.
        let vals: Vec<u64> = (0..200u64).map(|i| (i * 7919) % (1 << (i % 30))).collect();
        let mut b = Vec::new();
        for &v in &vals {
            b.put_var(v);
        }
        for (k, &v) in vals.iter().enumerate() {
            let mut c = Cursor::new(&b, "test");
            c.skip_vars(k as u64).expect("skip");
            assert_eq!(c.var().ok(), Some(v));
        }
    }

    #[test]
    fn skipping_counted_lists_lands_where_reading_them_does() {
        let mut b = Vec::new();
        for n in [3u64, 0, 1, 200] {
            b.put_var(n);
            for i in 0..n {
                b.put_var(i * 1000);
            }
        }
        b.put_var(77);
        let mut c = Cursor::new(&b, "test");
        assert_eq!(c.skip_counted(4).ok(), Some(204));
        assert_eq!(c.var().ok(), Some(77));
        assert!(Cursor::new(&b[..5], "test").skip_counted(2).is_err());
    }

    #[test]
    fn a_lying_count_is_rejected() {
        let mut b = Vec::new();
        b.put_var(1_000_000);
        b.put_u8(0);
        assert!(Cursor::new(&b, "t").count(1).is_err());
    }
}
