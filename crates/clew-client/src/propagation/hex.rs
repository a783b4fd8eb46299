//! Strict hex parsing of IDs inside headers.

use clew_model::{SpanId, TraceId};

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends exactly 16 lowercase hex digits (faster than `format!`, which
/// matters on the inject path).
pub(crate) fn push_u64(out: &mut String, v: u64) {
    for shift in (0..16).rev() {
        out.push(char::from(DIGITS[((v >> (shift * 4)) & 0xf) as usize]));
    }
}

/// Appends a trace ID: 32 digits, or 16 when `short_if_64bit` and the high
/// half is zero (Jaeger's and B3's form).
pub(crate) fn push_trace_id(out: &mut String, t: TraceId, short_if_64bit: bool) {
    if !(short_if_64bit && t.high == 0) {
        push_u64(out, t.high);
    }
    push_u64(out, t.low);
}

/// Appends a byte in minimal lowercase hex (`1`, `3`, `ff`).
pub(crate) fn push_u8_min(out: &mut String, v: u8) {
    if v >= 16 {
        out.push(char::from(DIGITS[usize::from(v >> 4)]));
    }
    out.push(char::from(DIGITS[usize::from(v & 0xf)]));
}

/// 1–32 hex digits, left-padded (old clients dropped leading zeros).
pub(crate) fn trace_id(s: &str) -> Option<TraceId> {
    // Checked before splitting: a split inside a multi-byte character panics.
    if s.len() > 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if s.len() > 16 {
        let (hi, lo) = s.split_at(s.len() - 16);
        Some(TraceId::new(parse_u64(hi)?, parse_u64(lo)?))
    } else {
        Some(TraceId::new(0, parse_u64(s)?))
    }
}

/// 1–16 hex digits.
pub(crate) fn span_id(s: &str) -> Option<SpanId> {
    parse_u64(s).map(SpanId)
}

/// Exactly `n` lowercase-or-uppercase hex digits (W3C, B3 fixed widths).
pub(crate) fn exact(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_hex_matches_format() {
        let mut s = String::new();
        push_trace_id(&mut s, TraceId::new(0, 0xabc), true);
        assert_eq!(s, format!("{:016x}", 0xabc));
        s.clear();
        push_trace_id(&mut s, TraceId::new(1, 2), true);
        assert_eq!(s, TraceId::new(1, 2).to_hex32());
        s.clear();
        push_u8_min(&mut s, 3);
        push_u8_min(&mut s, 0xfe);
        assert_eq!(s, "3fe");
    }

    #[test]
    fn ids_parse_strictly() {
        assert_eq!(trace_id("abc"), Some(TraceId::new(0, 0xabc)));
        assert_eq!(
            trace_id("1".repeat(32).as_str()).map(|t| t.high),
            Some(0x1111_1111_1111_1111)
        );
        assert_eq!(trace_id(""), None);
        assert_eq!(trace_id("+1"), None);
        assert_eq!(trace_id(&"1".repeat(33)), None);
        assert_eq!(trace_id("ééééééééé"), None, "non-ASCII must not panic");
        assert_eq!(span_id("0000000000000001"), Some(SpanId(1)));
        assert_eq!(span_id("g"), None);
        assert!(exact("00ff", 4));
        assert!(!exact("00f", 4));
    }
}
