//! Bloom filters for "can this block hold trace X / tag k=v?".
//!
//! Hashes are defined here, byte for byte, not taken from `std` (whose
//! hasher may change between Rust releases): a filter written today must
//! answer the same tomorrow.

use clew_model::TraceId;

use crate::SegmentError;
use crate::codec::{Cursor, Sink};

/// Bits per inserted item (≈ 1 % false positives with 7 probes).
const BITS_PER_ITEM: usize = 10;
const PROBES: u32 = 7;

/// A fixed, documented 64-bit mixer (splitmix64's finaliser).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The filter hash of a trace ID.
pub fn trace_hash(id: TraceId) -> u64 {
    mix(id.high ^ mix(id.low ^ 0x9e37_79b9_7f4a_7c15))
}

/// The filter hash of a `key=value` tag pair (value in its text form).
pub fn tag_hash(key: &str, value: &str) -> u64 {
    // FNV-1a over key, a separator no UTF-8 text contains, and value.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key
        .bytes()
        .chain(std::iter::once(0xff))
        .chain(value.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// A Bloom filter over 64-bit hashes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BloomFilter {
    words: Vec<u64>,
}

impl BloomFilter {
    /// A filter sized for `items` insertions.
    pub fn with_capacity(items: usize) -> Self {
        let bits = (items.max(1) * BITS_PER_ITEM).max(64);
        BloomFilter {
            words: vec![0; bits.div_ceil(64)],
        }
    }

    fn probes(&self, hash: u64) -> impl Iterator<Item = usize> + '_ {
        let bits = (self.words.len() * 64) as u64;
        let h1 = hash & 0xffff_ffff;
        let h2 = (hash >> 32) | 1;
        (0..u64::from(PROBES)).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) % bits) as usize)
    }

    /// Adds a hash.
    pub fn insert(&mut self, hash: u64) {
        if self.words.is_empty() {
            return;
        }
        let probes: Vec<usize> = self.probes(hash).collect();
        for bit in probes {
            self.words[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// False when the hash was certainly never inserted. An empty (absent)
    /// filter answers true: it rules nothing out.
    pub fn may_contain(&self, hash: u64) -> bool {
        if self.words.is_empty() {
            return true;
        }
        self.probes(hash)
            .all(|bit| self.words[bit / 64] & (1 << (bit % 64)) != 0)
    }

    /// Size in bytes when stored.
    pub fn stored_len(&self) -> usize {
        self.words.len() * 8
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_var(self.words.len() as u64);
        for w in &self.words {
            out.put_u64(*w);
        }
    }

    pub(crate) fn decode(c: &mut Cursor<'_>) -> Result<Self, SegmentError> {
        let n = c.count(8)?;
        let mut words = Vec::with_capacity(n);
        for _ in 0..n {
            words.push(c.u64()?);
        }
        Ok(BloomFilter { words })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_items_are_found_and_few_others() {
        let mut f = BloomFilter::with_capacity(1000);
        for i in 0..1000 {
            f.insert(trace_hash(TraceId::new(0, i)));
        }
        assert!((0..1000).all(|i| f.may_contain(trace_hash(TraceId::new(0, i)))));
        let false_pos = (1000..11000)
            .filter(|&i| f.may_contain(trace_hash(TraceId::new(0, i))))
            .count();
        assert!(false_pos < 300, "{false_pos} false positives of 10000");
    }

    #[test]
    fn hashes_are_stable() {
        // Written into blocks: changing these values breaks old blocks.
        assert_eq!(trace_hash(TraceId::new(0, 1)), 0x4450_18e3_0581_0b78);
        assert_eq!(tag_hash("k", "v"), 0x66ca_5e6b_5a89_a203);
    }
}
