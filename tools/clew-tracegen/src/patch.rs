//! Re-stamping pre-encoded payloads with fresh trace IDs, so the generator
//! can send millions of distinct traces while encoding only a small pool.
//!
//! Payloads are encoded once with a sentinel in the high half of every trace
//! ID (spans and references alike). Before each send, the sentinel's bytes
//! are overwritten with the current round's value. That works because the
//! value keeps its encoded length in every [`IdForm`]:
//!
//! * thrift binary `traceIdHigh`, and the 16-byte `trace_id` fields of OTLP
//!   and Zipkin proto3 (high half first, big-endian): always 8 bytes;
//! * thrift compact: every value in `[2^62, 2^63)` zigzags to a number in
//!   `[2^63, 2^64)`, which is always a 10-byte varint;
//! * Zipkin JSON `"traceId"`: 32 lowercase hex digits when the high half is
//!   not zero, so the high half is always the first 16 digits. The patcher
//!   overwrites those digits in place, so no bigger pool is needed.

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

/// How the high half of a trace ID appears in a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdForm {
    /// 8 bytes, big-endian: thrift binary i64, and the first half of the
    /// 16-byte proto3 `trace_id` of OTLP and Zipkin.
    BigEndian,
    /// Thrift compact: zigzag varint of the i64.
    ZigzagVarint,
    /// 16 lowercase hex digits, the start of Zipkin JSON's 32-digit `traceId`.
    Hex,
}

/// The bytes `high` occupies in `form` (8 for big-endian, 10 for the varint,
/// 16 for hex, given a value from [`round_high`] or [`SENTINEL_HIGH`]).
pub fn encode_high(high: u64, form: IdForm) -> Vec<u8> {
    match form {
        IdForm::BigEndian => high.to_be_bytes().to_vec(),
        IdForm::Hex => format!("{high:016x}").into_bytes(),
        IdForm::ZigzagVarint => {
            let mut buf = [0u8; 10];
            let n = zigzag_varint(high as i64, &mut buf);
            buf[..n].to_vec()
        }
    }
}

/// Writes `v` as thrift compact writes an i64 (zigzag, then a varint of
/// at most 10 bytes) into `buf`; returns the width.
pub fn zigzag_varint(v: i64, buf: &mut [u8; 10]) -> usize {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    let mut n = 0;
    while z >= 0x80 {
        buf[n] = (z as u8) | 0x80;
        z >>= 7;
        n += 1;
    }
    buf[n] = z as u8;
    n + 1
}

/// Where the sentinel sits in one payload, and how to overwrite it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdPatch {
    form: IdForm,
    offsets: Vec<usize>,
    width: usize,
}

impl IdPatch {
    /// Finds every sentinel in `payload`.
    pub fn locate(payload: &[u8], form: IdForm) -> Self {
        let needle = encode_high(SENTINEL_HIGH, form);
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
            form,
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
        let bytes = encode_high(high, self.form);
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
        for (p, width) in [
            (IdForm::ZigzagVarint, 10),
            (IdForm::BigEndian, 8),
            (IdForm::Hex, 16),
        ] {
            let w = encode_high(SENTINEL_HIGH, p).len();
            assert_eq!(w, width, "{p:?}");
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
        let p = IdForm::ZigzagVarint;
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

    #[test]
    fn hex_form_is_the_high_half_of_a_zipkin_trace_id() {
        let id = clew_model::TraceId::new(SENTINEL_HIGH, 0x0102_0304_0506_0708);
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        let sentinel = encode_high(SENTINEL_HIGH, IdForm::Hex);
        assert_eq!(text.as_bytes()[..16], sentinel[..]);
        let mut json = format!(r#"{{"traceId":"{text}","id":"0000000000000001"}}"#).into_bytes();
        let patch = IdPatch::locate(&json, IdForm::Hex);
        assert_eq!(patch.count(), 1);
        patch.apply(&mut json, round_high(1, 2));
        let want = clew_model::TraceId::new(round_high(1, 2), 0x0102_0304_0506_0708);
        assert_eq!(
            String::from_utf8(json).expect("utf8"),
            format!(r#"{{"traceId":"{want}","id":"0000000000000001"}}"#)
        );
    }
}
