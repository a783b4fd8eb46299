//! A per-thread table of attribute keys, shared as `&'static str`.
//!
//! Every `Str` sliced from a request body costs an atomic reference-count
//! increment (and a decrement when dropped), and locked instructions stall
//! the pipeline: for a span with a dozen attributes they were about half of
//! the decoder's time. Attribute keys repeat endlessly (semantic conventions,
//! a service's own fixed set), so the decoder looks keys up here and hands
//! out `Str::from_static` values, whose clone and drop are plain copies.
//!
//! The interned keys are leaked on purpose, so the table is bounded: at most
//! [`MAX_KEYS`] keys of at most [`MAX_KEY_LEN`] bytes per thread (≈ 450 KiB
//! per ingest thread at worst: 256 KiB of keys, 192 KiB of table slots). Past that, keys are sliced from the body as
//! before, so a client sending random keys costs speed, never memory.

use std::cell::RefCell;

use clew_model::Str;

/// Most distinct keys one thread interns.
pub(crate) const MAX_KEYS: usize = 4096;
/// Longest key interned.
pub(crate) const MAX_KEY_LEN: usize = 64;

/// FxHash's multiplier: one multiply per 8 bytes mixes well enough for a
/// table whose keys are compared in full anyway.
const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Slots in a fresh table; it doubles while more than half full.
const FIRST_CAPACITY: usize = 64;

/// Little-endian `u64` at `at`; callers guarantee `at + 8 <= b.len()`.
#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Little-endian `u32` at `at`; callers guarantee `at + 4 <= b.len()`.
#[inline(always)]
fn half(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u64::from(u32::from_le_bytes(w))
}

/// Hashes a key a word at a time: short keys (most are 4–16 bytes) are
/// read as two overlapping loads instead of byte by byte, which is what
/// made `std`'s `Hasher::write` path cost ~140 instructions a lookup.
#[inline(always)]
fn hash(b: &[u8]) -> u64 {
    let n = b.len();
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let h = (n as u64).wrapping_mul(K);
    if n >= 8 {
        let mut h = h;
        let mut i = 0;
        while i + 8 < n {
            h = mix(h, word(b, i));
            i += 8;
        }
        mix(h, word(b, n - 8))
    } else if n >= 4 {
        mix(h, half(b, 0) | (half(b, n - 4) << 32))
    } else if n > 0 {
        mix(
            h,
            u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16,
        )
    } else {
        h
    }
}

/// Byte equality with the same overlapping loads for keys up to 16 bytes,
/// avoiding a `memcmp` call per hit.
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8)
    } else if (4..8).contains(&n) {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        a == b
    }
}

/// An interned key and its hash.
#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    key: &'static str,
}

/// The per-thread key table: open addressing with linear probing, at most
/// half full, so a hit costs a hash, one or two slot reads and a compare.
#[derive(Default)]
pub(crate) struct KeyTable {
    slots: Vec<Option<Entry>>,
    len: usize,
}

impl KeyTable {
    /// The interned key for `bytes`, interning it if there is room.
    /// `None` when the key is not UTF-8 or the table cannot take it; the
    /// caller then slices the body (and reports invalid UTF-8 itself).
    #[inline(always)]
    pub(crate) fn get(&mut self, bytes: &[u8]) -> Option<Str> {
        if bytes.is_empty() {
            return Some(Str::new());
        }
        let h = hash(bytes);
        if let Some(e) = self.find(h, bytes) {
            return Some(Str::from_static(e));
        }
        self.insert(h, bytes).map(Str::from_static)
    }

    /// The first slot to probe: the hash's top bits, the only ones every
    /// input byte reaches through the multiply (keys differing in their
    /// last bytes, `attr_01` / `attr_02`, agree in all the low bits).
    #[inline(always)]
    fn home(&self, h: u64) -> usize {
        // `slots.len()` is a power of two ≥ FIRST_CAPACITY when called.
        let bits = self.slots.len().trailing_zeros();
        (h >> (64 - bits)) as usize
    }

    #[inline(always)]
    fn find(&self, h: u64, bytes: &[u8]) -> Option<&'static str> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = self.home(h);
        loop {
            match self.slots.get(i) {
                Some(Some(e)) if e.hash == h && same(e.key.as_bytes(), bytes) => {
                    return Some(e.key);
                }
                Some(Some(_)) => i = (i + 1) & mask,
                _ => return None,
            }
        }
    }

    #[cold]
    fn insert(&mut self, h: u64, bytes: &[u8]) -> Option<&'static str> {
        if bytes.len() > MAX_KEY_LEN || self.len >= MAX_KEYS {
            return None;
        }
        let s: &'static str = Box::leak(std::str::from_utf8(bytes).ok()?.into());
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.place(Entry { hash: h, key: s });
        self.len += 1;
        Some(s)
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(FIRST_CAPACITY);
        let old = std::mem::replace(&mut self.slots, vec![None; cap]);
        for e in old.into_iter().flatten() {
            self.place(e);
        }
    }

    /// Puts `e` in the first free slot of its probe sequence; the table is
    /// at most half full, so there is one.
    fn place(&mut self, e: Entry) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(e.hash);
        while let Some(Some(_)) = self.slots.get(i) {
            i = (i + 1) & mask;
        }
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = Some(e);
        }
    }
}

thread_local! {
    pub(crate) static KEYS: RefCell<KeyTable> = RefCell::new(KeyTable::default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_up_to_the_bound() {
        let mut t = KeyTable::default();
        let a = t.get(b"http.method").expect("interned");
        assert_eq!(&*a, "http.method");
        let again = t.get(b"http.method").expect("interned");
        assert_eq!(
            a.as_bytes().as_ptr(),
            again.as_bytes().as_ptr(),
            "shared, not copied"
        );
        assert!(t.get(&[b'k'; MAX_KEY_LEN + 1]).is_none());
        assert!(t.get(&[0xff]).is_none());
        for i in 0..MAX_KEYS {
            t.get(format!("k{i}").as_bytes());
        }
        assert_eq!(t.len, MAX_KEYS);
        assert!(t.get(b"one-too-many").is_none());
        // "http.method" took one of the places.
        for i in 0..MAX_KEYS - 1 {
            let k = format!("k{i}");
            assert_eq!(
                t.get(k.as_bytes()).as_deref(),
                Some(k.as_str()),
                "still found"
            );
        }
    }

    #[test]
    fn keys_of_every_length_are_told_apart() {
        // Keys differing in one byte at every position, lengths 1..=40,
        // cover each load pattern of `hash` and `same`.
        let mut t = KeyTable::default();
        let mut all = Vec::new();
        for n in 1..=40usize {
            for at in 0..n {
                let mut k = vec![b'a'; n];
                k[at] = b'b';
                all.push(k);
            }
            all.push(vec![b'a'; n]);
        }
        for k in &all {
            assert_eq!(t.get(k).as_deref().map(str::as_bytes), Some(&k[..]));
        }
        for k in &all {
            let got = t.get(k).expect("interned");
            assert_eq!(got.as_bytes(), &k[..]);
        }
        assert_eq!(t.len, all.len());
        assert_eq!(t.get(b"").as_deref(), Some(""));
    }
}
