//! protobuf `Timestamp` / `Duration` ↔ the model's nanoseconds.
//!
//! The model keeps unsigned Unix nanoseconds; protobuf times are signed
//! seconds plus nanos. Converting back can fail (a time before 1970, a
//! negative duration, a value past year 2554) and callers decide what a
//! failure means — the span decoder clamps to 0 and leaves a warning.

use prost_types::{Duration, Timestamp};

const NS_PER_S: u64 = 1_000_000_000;

/// Unix nanoseconds as a `Timestamp`.
pub fn timestamp_from_ns(ns: u64) -> Timestamp {
    let (seconds, nanos) = split(ns);
    Timestamp { seconds, nanos }
}

/// Nanoseconds as a `Duration`.
pub fn duration_from_ns(ns: u64) -> Duration {
    let (seconds, nanos) = split(ns);
    Duration { seconds, nanos }
}

/// A `Timestamp` as Unix nanoseconds; `None` if it is before 1970, has
/// out-of-range nanos, or does not fit in a u64.
pub fn timestamp_to_ns(t: &Timestamp) -> Option<u64> {
    join(t.seconds, t.nanos)
}

/// A `Duration` as nanoseconds; `None` if negative or too large.
pub fn duration_to_ns(d: &Duration) -> Option<u64> {
    join(d.seconds, d.nanos)
}

fn split(ns: u64) -> (i64, i32) {
    // u64::MAX / 1e9 and any remainder < 1e9 both fit their targets.
    let seconds = i64::try_from(ns / NS_PER_S).unwrap_or(i64::MAX);
    let nanos = i32::try_from(ns % NS_PER_S).unwrap_or(0);
    (seconds, nanos)
}

fn join(seconds: i64, nanos: i32) -> Option<u64> {
    let seconds = u64::try_from(seconds).ok()?;
    let nanos = u64::try_from(nanos).ok().filter(|n| *n < NS_PER_S)?;
    seconds.checked_mul(NS_PER_S)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_nanoseconds_into_seconds_and_nanos() {
        let t = timestamp_from_ns(1_700_000_000_123_456_789);
        assert_eq!((t.seconds, t.nanos), (1_700_000_000, 123_456_789));
        assert_eq!(timestamp_to_ns(&t), Some(1_700_000_000_123_456_789));
        let d = duration_from_ns(1_500);
        assert_eq!((d.seconds, d.nanos), (0, 1_500));
        assert_eq!(duration_to_ns(&d), Some(1_500));
    }

    #[test]
    fn refuses_negative_and_overflowing_times() {
        let before_1970 = Timestamp {
            seconds: -1,
            nanos: 0,
        };
        assert_eq!(timestamp_to_ns(&before_1970), None);
        let bad_nanos = Duration {
            seconds: 1,
            nanos: 1_000_000_000,
        };
        assert_eq!(duration_to_ns(&bad_nanos), None);
        let negative_nanos = Duration {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(duration_to_ns(&negative_nanos), None);
        let too_far = Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert_eq!(timestamp_to_ns(&too_far), None);
    }

    #[test]
    fn the_largest_model_time_round_trips() {
        assert_eq!(
            timestamp_to_ns(&timestamp_from_ns(u64::MAX)),
            Some(u64::MAX)
        );
    }
}
