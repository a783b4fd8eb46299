//! Re-stamping pre-encoded payloads with fresh trace IDs, so the generator
//! can send millions of distinct traces while encoding only a small pool.
//!
//! Payloads are encoded once with a sentinel in every `traceIdHigh` (spans
//! and references alike). Before each send, the sentinel's bytes are
//! overwritten with the current round's value. That works because the value
//! keeps its encoded length: in the binary protocol an i64 is always 8 bytes,
//! and in the compact protocol every value in `[2^62, 2^63)` zigzags to a
//! number in `[2^63, 2^64)`, which is always a 10-byte varint.

use clew_codec_jaeger::Protocol;

/// `traceIdHigh` written into templates; found again by its bytes.
pub const SENTINEL_HIGH: u64 = 0x5A5A_5A5A_5A5A_5A5A;
/// Lowest value with a fixed-length encoding (bit 62 set, bit 63 clear).
const FIXED_LEN_BASE: u64 = 1 << 62;
/// Room for the round number below the worker number.
const ROUND_BITS: u32 = 40;

/// The `traceIdHigh` of worker `worker` in round `round`: distinct for every
/// pair (up to 2^22 workers and 2^40 rounds), always fixed-length on the wire.
pub fn round_high(worker: usize, round: u64) -> u64 {
    let worker_bits = ((worker as u64) << ROUND_BITS) & !FIXED_LEN_BASE & !(1 << 63);
    FIXED_LEN_BASE | worker_bits | (round & ((1 << ROUND_BITS) - 1))
}

/// The bytes `high` occupies in `protocol` (8 for binary, 10 for compact,
/// given a value from [`round_high`] or [`SENTINEL_HIGH`]).
pub fn encode_high(high: u64, protocol: Protocol) -> Vec<u8> {
    match protocol {
        Protocol::Binary => high.to_be_bytes().to_vec(),
        Protocol::Compact => {
            let signed = high as i64;
            let mut v = ((signed << 1) ^ (signed >> 63)) as u64;
            let mut out = Vec::with_capacity(10);
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
            out
        }
    }
}

/// Where the sentinel sits in one payload, and how to overwrite it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdPatch {
    protocol: Protocol,
    offsets: Vec<usize>,
    width: usize,
}

impl IdPatch {
    /// Finds every sentinel in `payload`.
    pub fn locate(payload: &[u8], protocol: Protocol) -> Self {
        let needle = encode_high(SENTINEL_HIGH, protocol);
        let mut offsets = Vec::new();
        let mut i = 0;
        while i + needle.len() <= payload.len() {
            if payload[i..i + needle.len()] == needle[..] {
                offsets.push(i);
                i += needle.len();
            } else {
                i += 1;
            }
        }
        IdPatch {
            protocol,
            offsets,
            width: needle.len(),
        }
    }

    /// How many trace IDs will be rewritten.
    pub fn count(&self) -> usize {
        self.offsets.len()
    }

    /// Writes `high` over every located ID. `high` must come from
    /// [`round_high`] so its encoding has the sentinel's width.
    pub fn apply(&self, payload: &mut [u8], high: u64) {
        let bytes = encode_high(high, self.protocol);
        debug_assert_eq!(bytes.len(), self.width, "round_high keeps a fixed width");
        if bytes.len() != self.width {
            return;
        }
        for &at in &self.offsets {
            if let Some(dst) = payload.get_mut(at..at + self.width) {
                dst.copy_from_slice(&bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_round_value_has_the_sentinels_width() {
        for p in [Protocol::Compact, Protocol::Binary] {
            let w = encode_high(SENTINEL_HIGH, p).len();
            assert_eq!(w, if p == Protocol::Compact { 10 } else { 8 });
            for (worker, round) in [
                (0, 0),
                (1, 1),
                (4_000_000, (1 << 40) - 1),
                (usize::MAX, u64::MAX),
            ] {
                assert_eq!(encode_high(round_high(worker, round), p).len(), w);
            }
        }
    }

    #[test]
    fn round_values_are_distinct_per_worker_and_round() {
        let mut seen = std::collections::HashSet::new();
        for worker in 0..8 {
            for round in 0..100 {
                assert!(seen.insert(round_high(worker, round)));
            }
        }
        assert!(!seen.contains(&SENTINEL_HIGH));
    }

    #[test]
    fn apply_rewrites_only_the_located_bytes() {
        let p = Protocol::Compact;
        let sentinel = encode_high(SENTINEL_HIGH, p);
        let mut payload = b"head".to_vec();
        payload.extend_from_slice(&sentinel);
        payload.extend_from_slice(b"mid");
        payload.extend_from_slice(&sentinel);
        payload.extend_from_slice(b"tail");
        let patch = IdPatch::locate(&payload, p);
        assert_eq!(patch.count(), 2);
        let high = round_high(3, 7);
        patch.apply(&mut payload, high);
        let new = encode_high(high, p);
        assert_eq!(&payload[..4], b"head");
        assert_eq!(&payload[4..14], &new[..]);
        assert_eq!(&payload[14..17], b"mid");
        assert_eq!(&payload[17..27], &new[..]);
        assert_eq!(&payload[27..], b"tail");
    }
}
