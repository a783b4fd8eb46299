//! Trace and span identifiers and their canonical hex text form.

use std::fmt;
use std::str::FromStr;

/// A 128-bit trace ID, stored as the two halves Jaeger's thrift IDL uses.
///
/// 64-bit IDs (still sent by many Jaeger and Zipkin clients) have `high == 0`.
/// Ordering is by `(high, low)`, i.e. by the 16 big-endian bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId {
    /// Upper 64 bits (0 for 64-bit IDs).
    pub high: u64,
    /// Lower 64 bits.
    pub low: u64,
}

/// A 64-bit span ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(pub u64);

/// Why a textual or binary ID was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdParseError {
    /// Empty input.
    Empty,
    /// More hex digits than the ID has room for.
    TooLong(usize),
    /// A character outside `[0-9a-fA-F]`.
    NotHex,
    /// A byte form with a length other than 8 (or 16 for trace IDs).
    BadLength(usize),
}

impl fmt::Display for IdParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdParseError::Empty => f.write_str("empty ID"),
            IdParseError::TooLong(n) => write!(f, "ID has {n} hex digits, too many"),
            IdParseError::NotHex => f.write_str("ID is not hexadecimal"),
            IdParseError::BadLength(n) => write!(f, "ID has {n} bytes, expected 8 or 16"),
        }
    }
}

impl std::error::Error for IdParseError {}

fn parse_hex_u64(s: &str) -> Result<u64, IdParseError> {
    if s.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(s, 16).map_err(|_| IdParseError::NotHex)
}

fn check_hex(s: &str, max: usize) -> Result<(), IdParseError> {
    if s.is_empty() {
        return Err(IdParseError::Empty);
    }
    if s.len() > max {
        return Err(IdParseError::TooLong(s.len()));
    }
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IdParseError::NotHex);
    }
    Ok(())
}

impl TraceId {
    /// Builds a trace ID from its halves.
    pub const fn new(high: u64, low: u64) -> Self {
        TraceId { high, low }
    }

    /// True for the all-zero ID, which every format treats as invalid.
    pub const fn is_zero(&self) -> bool {
        self.high == 0 && self.low == 0
    }

    /// The 16 big-endian bytes used by protobuf formats (api_v2, OTLP).
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.high.to_be_bytes());
        out[8..].copy_from_slice(&self.low.to_be_bytes());
        out
    }

    /// Reads 16 big-endian bytes, or 8 bytes as a 64-bit ID.
    pub fn from_bytes(b: &[u8]) -> Result<Self, IdParseError> {
        match b.len() {
            16 => {
                let mut hi = [0u8; 8];
                let mut lo = [0u8; 8];
                hi.copy_from_slice(&b[..8]);
                lo.copy_from_slice(&b[8..]);
                Ok(TraceId::new(u64::from_be_bytes(hi), u64::from_be_bytes(lo)))
            }
            8 => {
                let mut lo = [0u8; 8];
                lo.copy_from_slice(b);
                Ok(TraceId::new(0, u64::from_be_bytes(lo)))
            }
            n => Err(IdParseError::BadLength(n)),
        }
    }

    /// As one `u128` (high bits first).
    pub const fn as_u128(&self) -> u128 {
        ((self.high as u128) << 64) | self.low as u128
    }

    /// Always 32 lowercase hex digits (OTLP / W3C form).
    pub fn to_hex32(&self) -> String {
        format!("{:016x}{:016x}", self.high, self.low)
    }
}

impl From<u128> for TraceId {
    fn from(v: u128) -> Self {
        TraceId::new((v >> 64) as u64, v as u64)
    }
}

/// Jaeger's text form: 16 hex digits when the high half is zero, else 32.
impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.high == 0 {
            write!(f, "{:016x}", self.low)
        } else {
            write!(f, "{:016x}{:016x}", self.high, self.low)
        }
    }
}

/// Accepts 1–32 hex digits; shorter strings are left-padded with zeros, as
/// old clients dropped leading zeros.
impl FromStr for TraceId {
    type Err = IdParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check_hex(s, 32)?;
        if s.len() > 16 {
            let (hi, lo) = s.split_at(s.len() - 16);
            Ok(TraceId::new(parse_hex_u64(hi)?, parse_hex_u64(lo)?))
        } else {
            Ok(TraceId::new(0, parse_hex_u64(s)?))
        }
    }
}

impl SpanId {
    /// True for the all-zero ID (means "no span" in every format).
    pub const fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// The 8 big-endian bytes used by protobuf formats.
    pub fn to_bytes(&self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// Reads exactly 8 big-endian bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, IdParseError> {
        let arr: [u8; 8] = b.try_into().map_err(|_| IdParseError::BadLength(b.len()))?;
        Ok(SpanId(u64::from_be_bytes(arr)))
    }
}

/// Always 16 lowercase hex digits.
impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for SpanId {
    type Err = IdParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check_hex(s, 16)?;
        Ok(SpanId(parse_hex_u64(s)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trace_id_text_forms() {
        assert_eq!(TraceId::new(0, 0xabc).to_string(), "0000000000000abc");
        assert_eq!(
            TraceId::new(1, 2).to_string(),
            "00000000000000010000000000000002"
        );
        assert_eq!("abc".parse::<TraceId>(), Ok(TraceId::new(0, 0xabc)));
        assert_eq!(
            "1ffffffffffffffff".parse::<TraceId>(),
            Ok(TraceId::new(1, u64::MAX))
        );
        assert!("".parse::<TraceId>().is_err());
        assert!("xyz".parse::<TraceId>().is_err());
        assert!("+1".parse::<TraceId>().is_err());
        assert_eq!(
            "0".repeat(33).parse::<TraceId>(),
            Err(IdParseError::TooLong(33))
        );
    }

    #[test]
    fn span_id_bytes() {
        assert_eq!(SpanId::from_bytes(&SpanId(7).to_bytes()), Ok(SpanId(7)));
        assert!(SpanId::from_bytes(&[1, 2]).is_err());
        assert_eq!(
            TraceId::from_bytes(&[0, 0, 0, 0, 0, 0, 0, 9]),
            Ok(TraceId::new(0, 9))
        );
    }

    proptest! {
        #[test]
        fn trace_id_round_trips(high: u64, low: u64) {
            let id = TraceId::new(high, low);
            prop_assert_eq!(id.to_string().parse::<TraceId>(), Ok(id));
            prop_assert_eq!(TraceId::from_bytes(&id.to_bytes()), Ok(id));
            prop_assert_eq!(TraceId::from(id.as_u128()), id);
        }

        #[test]
        fn span_id_round_trips(v: u64) {
            prop_assert_eq!(SpanId(v).to_string().parse::<SpanId>(), Ok(SpanId(v)));
        }
    }
}
