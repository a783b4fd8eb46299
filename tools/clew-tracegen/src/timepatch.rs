//! Re-stamping pre-encoded payloads with the current time, so a run of
//! minutes sends spans spread over those minutes as a real client does
//! (Jaeger's tracegen stamps `time.Now()`), not millions of spans sharing
//! the instant the pool was built. A store's time pruning — which block,
//! page or chunk can hold the newest traces — is only exercised by the
//! former; with one instant every search must read everything.
//!
//! Like trace IDs ([`crate::patch`]), timestamps are overwritten in place,
//! which works because a shifted value keeps its encoded length:
//!
//! * thrift binary (`startTime`, µs) is 8 bytes big-endian; OTLP
//!   (`start_time_unix_nano`, `end_time_unix_nano`) and Zipkin proto3
//!   (`timestamp`, µs) are `fixed64`, 8 bytes little-endian;
//! * thrift compact: µs since 1970 zigzag to `[2^49, 2^56)` until the year
//!   3111, always an 8-byte varint;
//! * Zipkin JSON: µs in decimal have 16 digits from 2001 to 2286.
//!
//! A value whose shifted encoding would not keep its width is left as it
//! was (never the case for the current time).

use std::io::Write;

/// How a timestamp appears in a payload, with its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeForm {
    /// Thrift compact i64 microseconds (zigzag varint).
    CompactMicros,
    /// Thrift binary i64 microseconds, big-endian.
    BigEndianMicros,
    /// Protobuf `fixed64` nanoseconds (OTLP).
    Fixed64Nanos,
    /// Protobuf `fixed64` microseconds (Zipkin proto3).
    Fixed64Micros,
    /// Decimal microseconds after a `:` (Zipkin JSON `"timestamp":`).
    DecimalMicros,
}

impl TimeForm {
    /// Nanoseconds per unit of this form.
    fn unit_ns(self) -> u64 {
        match self {
            TimeForm::Fixed64Nanos => 1,
            _ => 1_000,
        }
    }

    /// Does this form carry span ends as well as starts (OTLP)?
    pub fn has_end(self) -> bool {
        self == TimeForm::Fixed64Nanos
    }

    /// The value encoded at `payload[i..]` and its width, if the bytes
    /// there can be one (a decimal only right after a `:`).
    fn read(self, payload: &[u8], i: usize) -> Option<(u64, usize)> {
        let eight = |p: &[u8]| -> Option<[u8; 8]> { p.get(i..i + 8)?.try_into().ok() };
        match self {
            TimeForm::BigEndianMicros => Some((u64::from_be_bytes(eight(payload)?), 8)),
            TimeForm::Fixed64Nanos | TimeForm::Fixed64Micros => {
                Some((u64::from_le_bytes(eight(payload)?), 8))
            }
            TimeForm::CompactMicros => {
                let mut v = 0u64;
                for (n, &b) in payload.get(i..)?.iter().take(10).enumerate() {
                    v |= u64::from(b & 0x7f) << (7 * n);
                    if b & 0x80 == 0 {
                        let signed = ((v >> 1) as i64) ^ -((v & 1) as i64);
                        return Some((signed as u64, n + 1));
                    }
                }
                None
            }
            TimeForm::DecimalMicros => {
                if i == 0 || payload[i - 1] != b':' {
                    return None;
                }
                let digits = payload[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let text = std::str::from_utf8(&payload[i..i + digits]).ok()?;
                Some((text.parse().ok()?, digits))
            }
        }
    }

    /// The bytes of `value` (in this form's unit).
    pub fn encode(self, value: u64) -> Vec<u8> {
        let mut buf = [0u8; 20];
        let n = self.encode_into(value, &mut buf);
        buf[..n].to_vec()
    }

    /// Writes `value` into `buf`, returning its width (no allocation: this
    /// runs for every span of every payload sent).
    fn encode_into(self, value: u64, buf: &mut [u8; 20]) -> usize {
        match self {
            TimeForm::CompactMicros => {
                let mut varint = [0u8; 10];
                let n = crate::patch::zigzag_varint(value as i64, &mut varint);
                buf[..n].copy_from_slice(&varint[..n]);
                n
            }
            TimeForm::BigEndianMicros => {
                buf[..8].copy_from_slice(&value.to_be_bytes());
                8
            }
            TimeForm::Fixed64Nanos | TimeForm::Fixed64Micros => {
                buf[..8].copy_from_slice(&value.to_le_bytes());
                8
            }
            TimeForm::DecimalMicros => {
                // u64::MAX has 20 digits: always fits.
                let mut cursor = std::io::Cursor::new(&mut buf[..]);
                let _ = write!(cursor, "{value}");
                cursor.position() as usize
            }
        }
    }
}

/// Where the timestamps of one payload sit, with their original values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimePatch {
    form: TimeForm,
    /// (offset, original value in the form's unit, encoded width).
    at: Vec<(usize, u64, usize)>,
}

impl TimePatch {
    /// Finds every occurrence of the `times` (Unix nanoseconds) in
    /// `payload`, in one pass: at each offset the bytes are read as this
    /// form's value and looked up (a search per distinct time made pool
    /// building slow enough, unoptimised, to stall the tests' receivers).
    pub fn locate(payload: &[u8], form: TimeForm, times: impl IntoIterator<Item = u64>) -> Self {
        let values: std::collections::HashSet<u64> =
            times.into_iter().map(|t| t / form.unit_ns()).collect();
        let (Some(&min), Some(&max)) = (values.iter().min(), values.iter().max()) else {
            return TimePatch {
                form,
                at: Vec::new(),
            };
        };
        let mut at = Vec::new();
        let mut i = 0;
        while i < payload.len() {
            match form.read(payload, i) {
                Some((v, width)) if (min..=max).contains(&v) && values.contains(&v) => {
                    at.push((i, v, width));
                    i += width;
                }
                _ => i += 1,
            }
        }
        TimePatch { form, at }
    }

    /// How many timestamps will be rewritten.
    pub fn count(&self) -> usize {
        self.at.len()
    }

    /// Rewrites every located timestamp as its original value plus
    /// `shift_ns`.
    pub fn apply(&self, payload: &mut [u8], shift_ns: u64) {
        let shift = shift_ns / self.form.unit_ns();
        let mut buf = [0u8; 20];
        for &(offset, value, width) in &self.at {
            let n = self.form.encode_into(value.saturating_add(shift), &mut buf);
            if n == width
                && let Some(dst) = payload.get_mut(offset..offset + width)
            {
                dst.copy_from_slice(&buf[..n]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_NS: u64 = 1_796_269_604_871_220_000;

    #[test]
    fn current_times_keep_their_width_for_centuries() {
        for form in [
            TimeForm::CompactMicros,
            TimeForm::BigEndianMicros,
            TimeForm::Fixed64Nanos,
            TimeForm::Fixed64Micros,
            TimeForm::DecimalMicros,
        ] {
            let w = form.encode(NOW_NS / form.unit_ns()).len();
            // A year of nanoseconds, times 200.
            let later = NOW_NS + 200 * 365 * 86_400 * 1_000_000_000;
            let v = if form == TimeForm::Fixed64Nanos {
                NOW_NS * 2
            } else {
                later / form.unit_ns()
            };
            assert_eq!(form.encode(v).len(), w, "{form:?}");
        }
        assert_eq!(TimeForm::CompactMicros.encode(NOW_NS / 1000).len(), 8);
    }

    #[test]
    fn shifts_every_located_time_and_nothing_else() {
        let form = TimeForm::DecimalMicros;
        let a = NOW_NS / 1000;
        let json = format!(
            r#"[{{"id":"{a}","timestamp":{a},"duration":5}},{{"timestamp":{},"x":1{a}}}]"#,
            a + 7
        );
        let mut bytes = json.into_bytes();
        let patch = TimePatch::locate(&bytes, form, [NOW_NS, NOW_NS + 7_000]);
        assert_eq!(patch.count(), 2, "only whole values after a colon");
        patch.apply(&mut bytes, 3_000_000);
        let want = format!(
            r#"[{{"id":"{a}","timestamp":{},"duration":5}},{{"timestamp":{},"x":1{a}}}]"#,
            a + 3_000,
            a + 3_007
        );
        assert_eq!(String::from_utf8(bytes).expect("utf8"), want);
    }

    #[test]
    fn compact_varints_are_rewritten_in_place() {
        let form = TimeForm::CompactMicros;
        let v = NOW_NS / 1000;
        let mut bytes = b"ab".to_vec();
        bytes.extend(form.encode(v));
        bytes.extend(b"cd");
        let patch = TimePatch::locate(&bytes, form, [NOW_NS]);
        assert_eq!(patch.count(), 1);
        patch.apply(&mut bytes, 60_000_000_000);
        let mut want = b"ab".to_vec();
        want.extend(form.encode(v + 60_000_000));
        want.extend(b"cd");
        assert_eq!(bytes, want);
    }
}
