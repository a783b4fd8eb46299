//! Wall-clock time for span timestamps, read from the CPU's time-stamp counter.
//!
//! `SystemTime::now()` costs ~20 ns per call here (a vDSO `clock_gettime`),
//! and a span reads the clock twice. `fastant` reads the TSC instead (a few
//! ns) and converts cycles to Unix nanoseconds against one anchor taken at
//! first use, so spans stay within the hot-path budget. Explicit start and
//! finish times given by the user bypass this and are used as is.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

static ANCHOR: OnceLock<fastant::Anchor> = OnceLock::new();

/// Now, as Unix nanoseconds.
#[inline]
pub(crate) fn now_unix_nanos() -> u64 {
    let anchor = ANCHOR.get_or_init(fastant::Anchor::new);
    fastant::Instant::now().as_unix_nanos(anchor)
}

/// The clock's raw reading: spans collected thread-locally keep it and the
/// reporter's thread converts it ([`to_unix_nanos`]), so the calling thread
/// does not pay the conversion (a float multiply and a few branches).
#[inline]
pub(crate) fn now_raw() -> fastant::Instant {
    fastant::Instant::now()
}

/// A raw reading as Unix nanoseconds.
pub(crate) fn to_unix_nanos(at: fastant::Instant) -> u64 {
    at.as_unix_nanos(ANCHOR.get_or_init(fastant::Anchor::new))
}

/// A `SystemTime` as Unix nanoseconds (0 for times before 1970, which no
/// trace format can represent).
pub(crate) fn system_time_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsc_clock_agrees_with_system_time() {
        let sys = system_time_nanos(SystemTime::now());
        let tsc = now_unix_nanos();
        let diff = sys.abs_diff(tsc);
        assert!(diff < 50_000_000, "clocks differ by {diff} ns");
    }

    #[test]
    fn times_before_epoch_clamp_to_zero() {
        let before = UNIX_EPOCH - std::time::Duration::from_secs(5);
        assert_eq!(system_time_nanos(before), 0);
    }
}
