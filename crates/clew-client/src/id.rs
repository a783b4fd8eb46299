//! Random trace and span IDs.
//!
//! IDs come from a per-thread wyrand generator (`fastrand`), which costs about
//! a nanosecond and needs no lock; Jaeger only asks that IDs be random enough
//! not to collide, not that they be unpredictable.

use clew_model::{SpanId, TraceId};

/// A non-zero random 64-bit value (zero means "absent" in every format).
#[inline]
pub(crate) fn random_nonzero() -> u64 {
    loop {
        let v = fastrand::u64(..);
        if v != 0 {
            return v;
        }
    }
}

/// A new span ID.
#[inline]
pub(crate) fn new_span_id() -> SpanId {
    SpanId(random_nonzero())
}

/// A new trace ID; 128-bit when asked, else with a zero high half.
#[inline]
pub(crate) fn new_trace_id(bits128: bool) -> TraceId {
    let high = if bits128 { fastrand::u64(..) } else { 0 };
    TraceId::new(high, random_nonzero())
}

/// A random version-4 UUID in its canonical text form (for `client-uuid`).
pub(crate) fn uuid_v4() -> String {
    let hi = fastrand::u64(..);
    let lo = fastrand::u64(..);
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_nonzero_and_sized_as_asked() {
        for _ in 0..1000 {
            assert!(!new_span_id().is_zero());
            assert_eq!(new_trace_id(false).high, 0);
            assert_ne!(new_trace_id(false).low, 0);
        }
        assert!((0..100).any(|_| new_trace_id(true).high != 0));
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
    }
}
