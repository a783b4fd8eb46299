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

/// How new trace IDs are made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TraceIdKind {
    /// 64 random bits (Jaeger clients' default); the high half is zero.
    #[default]
    Random64,
    /// 128 random bits.
    Random128,
    /// AWS X-Ray's form: 128 bits whose first 32 are the start time in
    /// Unix seconds and the other 96 random (`Root=1-{8 hex time}-{24 hex}`).
    /// The X-Ray service rejects trace IDs whose time is far from now.
    XRay,
}

/// A new trace ID of this kind.
#[inline]
pub(crate) fn new_trace_id(kind: TraceIdKind) -> TraceId {
    let high = match kind {
        TraceIdKind::Random64 => 0,
        TraceIdKind::Random128 => fastrand::u64(..),
        TraceIdKind::XRay => xray_high(),
    };
    TraceId::new(high, random_nonzero())
}

/// Epoch seconds in the top 32 bits, random below. Out of line: X-Ray IDs
/// are opt-in and read the clock.
#[inline(never)]
fn xray_high() -> u64 {
    let secs = crate::clock::now_unix_nanos() / 1_000_000_000;
    // u32 seconds last until 2106, as X-Ray's 8 hex digits do.
    (secs & 0xffff_ffff) << 32 | u64::from(fastrand::u32(..))
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
            assert_eq!(new_trace_id(TraceIdKind::Random64).high, 0);
            assert_ne!(new_trace_id(TraceIdKind::Random64).low, 0);
        }
        assert!((0..100).any(|_| new_trace_id(TraceIdKind::Random128).high != 0));
    }

    #[test]
    fn xray_ids_start_with_the_time() {
        let now = crate::clock::system_time_nanos(std::time::SystemTime::now()) / 1_000_000_000;
        let t = new_trace_id(TraceIdKind::XRay);
        let secs = t.high >> 32;
        assert!(secs.abs_diff(now) <= 2, "{secs} vs {now}");
        assert_ne!(t.low, 0);
        // Different traces in the same second still differ in the random bits.
        let u = new_trace_id(TraceIdKind::XRay);
        assert_ne!((t.high & 0xffff_ffff, t.low), (u.high & 0xffff_ffff, u.low));
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
    }
}
