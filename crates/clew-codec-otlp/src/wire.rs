//! Protobuf wire-format primitives over a borrowed buffer.
//!
//! Just enough of the encoding for the zero-copy decoder: keys, varints,
//! fixed-width numbers, length-delimited slices and skipping. Behaviour on
//! malformed input follows prost's (10-byte varint limit, field 0 refused,
//! wire-type mismatches on known fields refused, groups skipped), so the two
//! decoders accept the same payloads.

use crate::error::OtlpError;

/// A malformed-protobuf error: where and what. `Copy` and without drop glue
/// (unlike [`OtlpError`], which holds `String`s and boxed errors), so the
/// decoding loops that pass it through every `?` carry no cleanup code; it
/// becomes [`OtlpError::Wire`] at the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WireError {
    /// Offset in the body.
    pub at: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl From<WireError> for OtlpError {
    fn from(e: WireError) -> Self {
        OtlpError::Wire {
            at: e.at,
            reason: e.reason,
        }
    }
}

/// How many nested messages prost decodes before refusing (its default
/// recursion limit); the zero-copy decoder applies the same limit.
pub(crate) const RECURSION_LIMIT: u32 = 100;

/// Protobuf wire types, numbered as on the wire (so converting the low three
/// bits of a key is a range check, not a jump table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum WireType {
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

impl WireType {
    #[inline(always)]
    fn from_bits(bits: u64) -> Option<WireType> {
        Some(match bits {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::Fixed32,
            _ => return None,
        })
    }
}

/// A cursor over one message's bytes. `origin` is the message's offset in
/// the whole body, for error positions.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    origin: usize,
}

fn err(at: usize, reason: &'static str) -> WireError {
    WireError { at, reason }
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], origin: usize) -> Self {
        Reader {
            buf,
            pos: 0,
            origin,
        }
    }

    /// Offset of the cursor in the whole body.
    pub(crate) fn at(&self) -> usize {
        self.origin + self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The next field's number and wire type. Field numbers below 16 (all
    /// of OTLP's) make one-byte keys, decoded here without the varint loop.
    #[inline(always)]
    pub(crate) fn key(&mut self) -> Result<(u32, WireType), WireError> {
        if let Some(&b) = self.buf.get(self.pos)
            && (8..0x80).contains(&b)
            && let Some(wire) = WireType::from_bits(u64::from(b & 7))
        {
            self.pos += 1;
            return Ok((u32::from(b >> 3), wire));
        }
        self.key_slow()
    }

    #[inline(never)]
    fn key_slow(&mut self) -> Result<(u32, WireType), WireError> {
        let at = self.at();
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return Err(err(at, "invalid key value"));
        }
        let Some(wire) = WireType::from_bits(key & 7) else {
            return Err(err(at, "invalid wire type"));
        };
        let field = (key >> 3) as u32;
        if field == 0 {
            return Err(err(at, "invalid field number 0"));
        }
        Ok((field, wire))
    }

    /// Most varints in OTLP (keys, lengths, small counts) fit in one byte.
    #[inline(always)]
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        match self.buf.get(self.pos) {
            Some(&b) if b < 0x80 => {
                self.pos += 1;
                Ok(u64::from(b))
            }
            _ => self.varint_slow(),
        }
    }

    #[inline(never)]
    fn varint_slow(&mut self) -> Result<u64, WireError> {
        let at = self.at();
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(err(at, "truncated varint"));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(err(at, "varint overflows 64 bits"));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(err(at, "varint overflows 64 bits"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let Some(end) = end else {
            return Err(err(self.at(), "field runs past the end of its message"));
        };
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    #[inline]
    pub(crate) fn fixed64(&mut self) -> Result<u64, WireError> {
        let s = self.take(8)?;
        let mut b = [0u8; 8];
        b.copy_from_slice(s);
        Ok(u64::from_le_bytes(b))
    }

    #[inline]
    pub(crate) fn fixed32(&mut self) -> Result<u32, WireError> {
        let s = self.take(4)?;
        let mut b = [0u8; 4];
        b.copy_from_slice(s);
        Ok(u32::from_le_bytes(b))
    }

    /// A length-delimited field's bytes.
    #[inline(always)]
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| err(self.at(), "length too large"))?;
        self.take(len)
    }

    /// Reads a field that must have wire type `want`, as prost insists.
    #[inline]
    pub(crate) fn expect(&self, got: WireType, want: WireType) -> Result<(), WireError> {
        if got == want {
            Ok(())
        } else {
            Err(err(self.at(), "wire type does not match the field's type"))
        }
    }

    /// Skips the value of an unknown field.
    pub(crate) fn skip(&mut self, wire: WireType, field: u32, depth: u32) -> Result<(), WireError> {
        match wire {
            WireType::Varint => {
                self.varint()?;
            }
            WireType::Fixed64 => {
                self.take(8)?;
            }
            WireType::Fixed32 => {
                self.take(4)?;
            }
            WireType::Len => {
                self.bytes()?;
            }
            WireType::StartGroup => {
                if depth == 0 {
                    return Err(err(self.at(), "recursion limit reached"));
                }
                loop {
                    let (f, w) = self.key()?;
                    if w == WireType::EndGroup {
                        if f != field {
                            return Err(err(self.at(), "unexpected end group tag"));
                        }
                        break;
                    }
                    self.skip(w, f, depth - 1)?;
                }
            }
            WireType::EndGroup => return Err(err(self.at(), "unexpected end group tag")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_follow_protobuf_limits() {
        assert_eq!(Reader::new(&[0x96, 0x01], 0).varint().ok(), Some(150));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Reader::new(&max, 0).varint().ok(), Some(u64::MAX));
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(Reader::new(&over, 0).varint().is_err());
        assert!(Reader::new(&[0x80], 0).varint().is_err());
    }

    #[test]
    fn lengths_past_the_end_are_refused() {
        let mut r = Reader::new(&[0x05, 1, 2], 7);
        match r.bytes() {
            Err(WireError { at, .. }) => assert_eq!(at, 8),
            other => panic!("expected a wire error, got {other:?}"),
        }
    }

    #[test]
    fn groups_are_skipped_and_field_zero_refused() {
        // field 1 start group, field 2 varint 5, field 1 end group, then field 3 varint.
        let mut r = Reader::new(&[0x0b, 0x10, 0x05, 0x0c, 0x18, 0x01], 0);
        let (f, w) = r.key().expect("key");
        r.skip(w, f, RECURSION_LIMIT).expect("skips the group");
        assert_eq!(r.key().ok(), Some((3, WireType::Varint)));
        assert!(Reader::new(&[0x00], 0).key().is_err());
    }
}
