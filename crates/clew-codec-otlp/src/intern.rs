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
//! [`MAX_KEYS`] keys of at most [`MAX_KEY_LEN`] bytes per thread (≈ 256 KiB
//! per ingest thread at worst). Past that, keys are sliced from the body as
//! before, so a client sending random keys costs speed, never memory.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use clew_model::Str;

/// Most distinct keys one thread interns.
pub(crate) const MAX_KEYS: usize = 4096;
/// Longest key interned.
pub(crate) const MAX_KEY_LEN: usize = 64;

/// A small multiply-rotate hash (FxHash's), much faster than SipHash on
/// short keys; the table is per-thread and bounded, so HashDoS can only fill
/// it, which the bound already allows.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The per-thread key table.
#[derive(Default)]
pub(crate) struct KeyTable {
    keys: HashMap<&'static [u8], &'static str, BuildHasherDefault<FxHasher>>,
}

impl KeyTable {
    /// The interned key for `bytes`, interning it if there is room.
    /// `None` when the key is not UTF-8 or the table cannot take it; the
    /// caller then slices the body (and reports invalid UTF-8 itself).
    #[inline]
    pub(crate) fn get(&mut self, bytes: &[u8]) -> Option<Str> {
        if let Some(s) = self.keys.get(bytes) {
            return Some(Str::from_static(s));
        }
        if bytes.len() > MAX_KEY_LEN || self.keys.len() >= MAX_KEYS {
            return None;
        }
        let s: &'static str = Box::leak(std::str::from_utf8(bytes).ok()?.into());
        self.keys.insert(s.as_bytes(), s);
        Some(Str::from_static(s))
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
        assert_eq!(t.keys.len(), MAX_KEYS);
        assert!(t.get(b"one-too-many").is_none());
    }
}
