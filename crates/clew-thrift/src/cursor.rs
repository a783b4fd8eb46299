//! Bounds-checked access to the input shared by both protocol readers.

use crate::error::{Result, ThriftError};
use crate::types::TType;

/// A position in a borrowed buffer. Every read checks bounds and reports the
/// offset on failure; nothing here allocates.
#[derive(Clone, Debug)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let rem = self.remaining();
        if n > rem {
            return Err(ThriftError::Eof {
                at: self.pos,
                needed: n - rem,
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    #[inline]
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    #[inline]
    pub(crate) fn byte(&mut self) -> Result<u8> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(ThriftError::Eof {
                at: self.pos,
                needed: 1,
            }),
        }
    }

    /// An unsigned LEB128 varint of at most `max_bytes` bytes.
    #[inline]
    pub(crate) fn varint(&mut self, max_bytes: usize) -> Result<u64> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..max_bytes {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ThriftError::VarintOverflow { at: start })
    }

    /// Checks that `count` elements of at least `min_each` bytes can still
    /// follow, so callers may reserve `count` slots without trusting input.
    #[inline]
    pub(crate) fn check_count(&self, at: usize, count: u64, min_each: usize) -> Result<usize> {
        let rem = self.remaining();
        let need = count.saturating_mul(min_each as u64);
        if need > rem as u64 {
            return Err(ThriftError::SizeLimit {
                at,
                declared: count,
                remaining: rem,
            });
        }
        // `count <= rem` here (min_each >= 1), so it fits in usize.
        Ok(count as usize)
    }
}

/// The fewest bytes one value of `t` can take in the compact protocol.
pub(crate) fn compact_min_size(t: TType) -> usize {
    match t {
        TType::Double => 8,
        TType::Uuid => 16,
        _ => 1,
    }
}

/// The fewest bytes one value of `t` can take in the binary protocol.
pub(crate) fn binary_min_size(t: TType) -> usize {
    match t {
        TType::Stop | TType::Bool | TType::I8 | TType::Struct => 1,
        TType::I16 => 2,
        TType::I32 | TType::Binary => 4,
        TType::I64 | TType::Double => 8,
        TType::List | TType::Set => 5,
        TType::Map => 6,
        TType::Uuid => 16,
    }
}
