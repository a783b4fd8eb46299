//! Strict hex parsing of IDs inside headers.

use clew_model::{SpanId, TraceId};

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
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
