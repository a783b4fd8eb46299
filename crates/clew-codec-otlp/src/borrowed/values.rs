//! Attribute values: `KeyValue`, `AnyValue` (with prost's oneof merge
//! rules) and arrays, read zero-copy.

use bytes::Bytes;
use clew_model::{KeyValue, Str, Value};

use super::Ctx;
use crate::wire::{WireError, WireType};

/// Splits the encoding nearly every SDK writes for a string attribute —
/// exactly `key` (field 1), then `value` (field 2) holding exactly a
/// `string_value` (field 1), all lengths under 128 — into key and string,
/// so the common case skips the general field loops. Any other layout is
/// `None` and goes through them; both give the same result.
#[inline(always)]
fn plain_string_attribute(msg: &[u8]) -> Option<(&[u8], &[u8])> {
    let [0x0a, key_len @ 0..0x80, rest @ ..] = msg else {
        return None;
    };
    let (key, rest) = rest.split_at_checked(usize::from(*key_len))?;
    let [0x12, value_len @ 0..0x80, 0x0a, str_len @ 0..0x80, s @ ..] = rest else {
        return None;
    };
    let exact = usize::from(*value_len) == s.len() + 2 && usize::from(*str_len) == s.len();
    exact.then_some((key, s))
}

impl<'a> Ctx<'a> {
    /// A `KeyValue` message; `depth` is the budget left inside it.
    ///
    /// Inlined into the attribute loops for the plain string layout, so the
    /// key/value pair is built in place instead of returned through memory.
    #[inline(always)]
    pub(super) fn key_value(&self, msg: &'a [u8], depth: u32) -> Result<KeyValue, WireError> {
        match plain_string_attribute(msg) {
            Some((key, s)) if depth > 0 => Ok(KeyValue {
                key: self.key(key)?,
                value: Value::Str(self.str(s)?),
            }),
            _ => self.any_key_value(msg, depth),
        }
    }

    /// [`Self::key_value`] for any layout.
    #[inline(never)]
    fn any_key_value(&self, msg: &'a [u8], depth: u32) -> Result<KeyValue, WireError> {
        if depth == 0 {
            return Err(self.too_deep(msg));
        }
        let mut r = self.reader(msg);
        let mut key = Str::new();
        let mut value = None;
        while !r.is_empty() {
            let (field, wire) = r.key()?;
            match field {
                1 => {
                    r.expect(wire, WireType::Len)?;
                    key = self.key(r.bytes()?)?;
                }
                2 => {
                    r.expect(wire, WireType::Len)?;
                    self.any_value(r.bytes()?, &mut value, depth - 1)?;
                }
                _ => r.skip(wire, field, depth - 1)?,
            }
        }
        Ok(KeyValue {
            key,
            value: value.unwrap_or_else(|| Value::Str(Str::new())),
        })
    }

    fn too_deep(&self, msg: &[u8]) -> WireError {
        WireError {
            at: self.offset(msg),
            reason: "recursion limit reached",
        }
    }

    /// Merges an `AnyValue` message into `value` (prost's oneof rules: a
    /// repeated array or map variant extends the one already there, any
    /// other variant replaces it).
    fn any_value(
        &self,
        msg: &'a [u8],
        value: &mut Option<Value>,
        depth: u32,
    ) -> Result<(), WireError> {
        if depth == 0 {
            return Err(self.too_deep(msg));
        }
        let mut r = self.reader(msg);
        while !r.is_empty() {
            let (field, wire) = r.key()?;
            match field {
                1 => {
                    r.expect(wire, WireType::Len)?;
                    *value = Some(Value::Str(self.str(r.bytes()?)?));
                }
                2 => {
                    r.expect(wire, WireType::Varint)?;
                    *value = Some(Value::Bool(r.varint()? != 0));
                }
                3 => {
                    r.expect(wire, WireType::Varint)?;
                    *value = Some(Value::I64(r.varint()? as i64));
                }
                4 => {
                    r.expect(wire, WireType::Fixed64)?;
                    *value = Some(Value::F64(f64::from_bits(r.fixed64()?)));
                }
                5 => {
                    r.expect(wire, WireType::Len)?;
                    let body = r.bytes()?;
                    if depth == 1 {
                        return Err(self.too_deep(body));
                    }
                    if !matches!(value, Some(Value::Array(_))) {
                        *value = Some(Value::Array(Vec::new()));
                    }
                    if let Some(Value::Array(items)) = value {
                        self.array(body, items, depth - 1)?;
                    }
                }
                6 => {
                    r.expect(wire, WireType::Len)?;
                    let body = r.bytes()?;
                    if depth == 1 {
                        return Err(self.too_deep(body));
                    }
                    if !matches!(value, Some(Value::Map(_))) {
                        *value = Some(Value::Map(Vec::new()));
                    }
                    if let Some(Value::Map(kvs)) = value {
                        let mut l = self.reader(body);
                        while !l.is_empty() {
                            let (f, w) = l.key()?;
                            match f {
                                1 => {
                                    l.expect(w, WireType::Len)?;
                                    kvs.push(self.key_value(l.bytes()?, depth - 1)?);
                                }
                                _ => l.skip(w, f, depth - 1)?,
                            }
                        }
                    }
                }
                7 => {
                    r.expect(wire, WireType::Len)?;
                    let b = r.bytes()?;
                    let bytes = if b.is_empty() {
                        Bytes::new()
                    } else {
                        self.body.slice_ref(b)
                    };
                    *value = Some(Value::Binary(bytes));
                }
                _ => r.skip(wire, field, depth - 1)?,
            }
        }
        Ok(())
    }

    fn array(&self, msg: &'a [u8], items: &mut Vec<Value>, depth: u32) -> Result<(), WireError> {
        let mut r = self.reader(msg);
        while !r.is_empty() {
            let (field, wire) = r.key()?;
            match field {
                1 => {
                    r.expect(wire, WireType::Len)?;
                    let mut v = None;
                    self.any_value(r.bytes()?, &mut v, depth - 1)?;
                    items.push(v.unwrap_or_else(|| Value::Str(Str::new())));
                }
                _ => r.skip(wire, field, depth - 1)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::plain_string_attribute;

    #[test]
    fn only_the_exact_plain_layout_takes_the_short_cut() {
        let kv = [0x0a, 1, b'k', 0x12, 4, 0x0a, 2, b'v', b'w'];
        assert_eq!(plain_string_attribute(&kv), Some((&b"k"[..], &b"vw"[..])));
        // Empty string value.
        let empty = [0x0a, 1, b'k', 0x12, 2, 0x0a, 0];
        assert_eq!(plain_string_attribute(&empty), Some((&b"k"[..], &b""[..])));
        // Trailing field after the string, value before key, int value,
        // a short value length and a long string length all fall back.
        for other in [
            &[0x0a, 1, b'k', 0x12, 4, 0x0a, 1, b'v', 0x10][..],
            &[0x0a, 1, b'k', 0x12, 3, 0x0a, 1, b'v', 0x0a, 0][..],
            &[0x12, 3, 0x0a, 1, b'v', 0x0a, 1, b'k'][..],
            &[0x0a, 1, b'k', 0x12, 2, 0x18, 5][..],
            &[0x0a, 1, b'k', 0x12, 3, 0x0a, 2, b'v', b'w'][..],
            &[0x0a, 1, b'k', 0x12, 3, 0x0a, 0x81, 0x00][..],
            &[0x0a, 5, b'k'][..],
        ] {
            assert_eq!(plain_string_attribute(other), None, "{other:?}");
        }
    }
}
