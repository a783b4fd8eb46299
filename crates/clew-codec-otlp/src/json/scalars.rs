//! OTLP/JSON scalar encodings: hex IDs, base64 bytes, 64-bit integers as
//! strings, enums as integers (names accepted on input), and nulls read as
//! defaults.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Reads `null` as the type's default (senders write `null` for empty fields).
pub(super) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A number as JSON writes it: a number, a decimal string (the form the
/// spec requires for 64-bit integers), or the `{"low", "high"}` 32-bit halves
/// older OpenTelemetry JS exporters wrote for 64-bit times.
#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    U(u64),
    I(i64),
    F(f64),
    S(String),
    L { low: i64, high: i64 },
}

impl Num {
    fn long(low: i64, high: i64) -> u64 {
        (u64::from(high as u32) << 32) | u64::from(low as u32)
    }
}

/// Trace and span IDs: hex text (case-insensitive) ↔ bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Hex(pub Vec<u8>);

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: String = nullable(d)?;
        hex::decode(s.trim())
            .map(Hex)
            .map_err(|e| D::Error::custom(format!("ID {s:?} is not hex: {e}")))
    }
}

/// `bytesValue`: base64 text ↔ bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct B64(pub Vec<u8>);

impl Serialize for B64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for B64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: String = nullable(d)?;
        BASE64
            .decode(s.as_bytes())
            .map(B64)
            .map_err(|e| D::Error::custom(format!("bytesValue is not base64: {e}")))
    }
}

/// `fixed64` / `uint64` (times): written as a decimal string.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct U64(pub u64);

impl Serialize for U64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for U64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<Num>::deserialize(d)? {
            None => Ok(U64(0)),
            Some(Num::U(v)) => Ok(U64(v)),
            Some(Num::I(v)) => u64::try_from(v).map(U64).map_err(D::Error::custom),
            Some(Num::F(f)) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(U64(f as u64)),
            Some(Num::S(s)) => s.trim().parse().map(U64).map_err(D::Error::custom),
            Some(Num::L { low, high }) => Ok(U64(Num::long(low, high))),
            Some(Num::F(f)) => Err(D::Error::custom(format!("{f} is not an unsigned integer"))),
        }
    }
}

/// `int64` (`intValue`): written as a decimal string.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct I64(pub i64);

impl Serialize for I64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for I64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Num::deserialize(d)? {
            Num::I(v) => Ok(I64(v)),
            Num::U(v) => i64::try_from(v).map(I64).map_err(D::Error::custom),
            Num::F(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(I64(f as i64)),
            Num::S(s) => s.trim().parse().map(I64).map_err(D::Error::custom),
            Num::L { low, high } => Ok(I64(Num::long(low, high) as i64)),
            Num::F(f) => Err(D::Error::custom(format!("{f} is not an integer"))),
        }
    }
}

/// `uint32` counts and flags: a number (strings accepted).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct U32(pub u32);

impl Serialize for U32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for U32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let U64(v) = U64::deserialize(d)?;
        u32::try_from(v).map(U32).map_err(D::Error::custom)
    }
}

/// `double`: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct F64(pub f64);

impl Serialize for F64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            s.serialize_str("NaN")
        } else if v.is_infinite() {
            s.serialize_str(if v > 0.0 { "Infinity" } else { "-Infinity" })
        } else {
            s.serialize_f64(v)
        }
    }
}

impl<'de> Deserialize<'de> for F64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Num::deserialize(d)? {
            Num::F(f) => Ok(F64(f)),
            Num::I(v) => Ok(F64(v as f64)),
            Num::U(v) => Ok(F64(v as f64)),
            Num::S(s) => match s.as_str() {
                "NaN" => Ok(F64(f64::NAN)),
                "Infinity" => Ok(F64(f64::INFINITY)),
                "-Infinity" => Ok(F64(f64::NEG_INFINITY)),
                other => other.parse().map(F64).map_err(D::Error::custom),
            },
            Num::L { .. } => Err(D::Error::custom("a double cannot be a {low, high} pair")),
        }
    }
}

/// An enum: an integer on output; an integer or its proto name on input.
/// `N` selects the name table.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Enum<const N: u8>(pub i32);

/// [`Enum`] table for `Span.SpanKind`.
pub(super) const SPAN_KIND: u8 = 0;
/// [`Enum`] table for `Status.StatusCode`.
pub(super) const STATUS_CODE: u8 = 1;

const SPAN_KIND_NAMES: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const STATUS_CODE_NAMES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

impl<const N: u8> Serialize for Enum<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.0)
    }
}

impl<'de, const N: u8> Deserialize<'de> for Enum<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names: &[&str] = if N == SPAN_KIND {
            &SPAN_KIND_NAMES
        } else {
            &STATUS_CODE_NAMES
        };
        match Option::<Num>::deserialize(d)? {
            None => Ok(Enum(0)),
            Some(Num::S(s)) => match names.iter().position(|n| *n == s) {
                Some(i) => Ok(Enum(i as i32)),
                None => s
                    .parse()
                    .map(Enum)
                    .map_err(|_| D::Error::custom(format!("unknown enum value {s:?}"))),
            },
            Some(Num::U(v)) => i32::try_from(v).map(Enum).map_err(D::Error::custom),
            Some(Num::I(v)) => i32::try_from(v).map(Enum).map_err(D::Error::custom),
            Some(Num::F(f)) => Err(D::Error::custom(format!("{f} is not an enum value"))),
            Some(Num::L { .. }) => Err(D::Error::custom("an enum cannot be a {low, high} pair")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_accept_strings_numbers_and_js_long_pairs() {
        let t = |j: &str| serde_json::from_str::<U64>(j).map(|v| v.0).ok();
        assert_eq!(
            t(r#""1544712660000000000""#),
            Some(1_544_712_660_000_000_000)
        );
        assert_eq!(t("1544712660000000000"), Some(1_544_712_660_000_000_000));
        // 1544712660000000000 = 0x156febfa_e3594800 as signed 32-bit halves.
        assert_eq!(
            t(r#"{"low": -480688128, "high": 359656442}"#),
            Some(1_544_712_660_000_000_000)
        );
        assert_eq!(t("null"), Some(0));
        assert_eq!(t("-1"), None);
        assert_eq!(
            serde_json::to_string(&U64(7)).ok().as_deref(),
            Some(r#""7""#)
        );
    }
}
