//! A decoded tables section's strings: where each one lies in the
//! section's bytes, not a `Str` per string.
//!
//! The store's head keeps the tables of every WAL batch it holds, and a
//! high-entropy batch has thousands of one-off strings (SQL with literals,
//! URLs with IDs): a 32-byte `Str` each was ≈ 130 bytes per span of head
//! memory; two `u32`s each is a quarter of that. A `Str` is made when a
//! string is read — inline for short text, sharing the section's buffer
//! for long — which costs what cloning a stored `Str` did.

use bytes::Bytes;
use clew_model::Str;

/// Strings of a tables section, by index.
#[derive(Debug, Clone, Default)]
pub(crate) struct StringTable {
    raw: Bytes,
    /// `(start, end)` of each string in `raw`, checked as UTF-8 when the
    /// section was decoded.
    spans: Vec<(u32, u32)>,
}

impl StringTable {
    /// Strings at `spans` of `raw` (each already checked as UTF-8).
    pub(crate) fn new(raw: Bytes, spans: Vec<(u32, u32)>) -> StringTable {
        StringTable { raw, spans }
    }

    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// String `i` as text.
    pub(crate) fn text(&self, i: usize) -> Option<&str> {
        let &(a, b) = self.spans.get(i)?;
        std::str::from_utf8(self.raw.get(a as usize..b as usize)?).ok()
    }

    /// String `i`.
    pub(crate) fn get(&self, i: usize) -> Option<Str> {
        let &(a, b) = self.spans.get(i)?;
        Str::from_part_of(&self.raw, self.raw.get(a as usize..b as usize)?).ok()
    }

    /// Every string as text, in index order.
    pub(crate) fn texts(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.spans.len()).map(|i| self.text(i).unwrap_or(""))
    }
}
