//! Attribute values: `KeyValue`, `AnyValue` (with prost's oneof merge
//! rules) and arrays, read zero-copy.

use bytes::Bytes;
use clew_model::{KeyValue, Str, Value};

use super::Ctx;
use crate::wire::{Reader, WireError, WireType};

/// A scalar attribute value as found by [`plain_attribute`].
enum Plain<'a> {
    Str(&'a [u8]),
    Bool(bool),
    I64(i64),
    F64(f64),
}

/// Splits the encoding nearly every SDK writes for a string attribute —
/// exactly `key` (field 1), then `value` (field 2) holding exactly a
/// `string_value` (field 1), all lengths under 128 — into key and string.
/// The hottest case, kept apart from [`plain_attribute`] so it stays small
/// enough to inline into every attribute loop.
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

/// Splits the encoding SDKs write for a scalar attribute — exactly `key`
/// (field 1), then `value` (field 2) holding exactly one `string_value`,
/// `bool_value`, `int_value` or `double_value`, lengths under 128 — into
/// key and value, so the common cases skip the general field loops. Any
/// other layout, or anything malformed, is `None` and goes through those
/// loops; both give the same result.
fn plain_attribute(msg: &[u8]) -> Option<(&[u8], Plain<'_>)> {
    let [0x0a, key_len @ 0..0x80, rest @ ..] = msg else {
        return None;
    };
    let (key, rest) = rest.split_at_checked(usize::from(*key_len))?;
    let [0x12, value_len @ 0..0x80, value @ ..] = rest else {
        return None;
    };
    if usize::from(*value_len) != value.len() {
        return None;
    }
    let plain = match value {
        [0x0a, str_len @ 0..0x80, s @ ..] if usize::from(*str_len) == s.len() => Plain::Str(s),
        [0x10, b @ 0..0x80] => Plain::Bool(*b != 0),
        [0x18, varint @ ..] => {
            let mut r = Reader::new(varint, 0);
            let v = r.varint().ok()?;
            if !r.is_empty() {
                return None;
            }
            Plain::I64(v as i64)
        }
        [0x21, b0, b1, b2, b3, b4, b5, b6, b7] => Plain::F64(f64::from_bits(u64::from_le_bytes([
            *b0, *b1, *b2, *b3, *b4, *b5, *b6, *b7,
        ]))),
        _ => return None,
    };
    Some((key, plain))
}

impl<'a> Ctx<'a> {
    /// A `KeyValue` message; `depth` is the budget left inside it.
    ///
    /// Inlined into the attribute loops for the plain scalar layouts, so
    /// the key/value pair is built in place instead of returned through
    /// memory.
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
        if let Some((key, plain)) = plain_attribute(msg) {
            return Ok(KeyValue {
                key: self.key(key)?,
                value: match plain {
                    Plain::Str(s) => Value::Str(self.str(s)?),
                    Plain::Bool(b) => Value::Bool(b),
                    Plain::I64(i) => Value::I64(i),
                    Plain::F64(f) => Value::F64(f),
                },
            });
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
    use super::{Plain, plain_attribute, plain_string_attribute};

    fn plain(msg: &[u8]) -> Option<String> {
        plain_attribute(msg).map(|(k, v)| {
            let k = String::from_utf8_lossy(k);
            match v {
                Plain::Str(s) => format!("{k}=str:{}", String::from_utf8_lossy(s)),
                Plain::Bool(b) => format!("{k}=bool:{b}"),
                Plain::I64(i) => format!("{k}=i64:{i}"),
                Plain::F64(f) => format!("{k}=f64:{f}"),
            }
        })
    }

    #[test]
    fn plain_scalar_layouts_take_the_short_cut() {
        let cases: [(&[u8], &str); 6] = [
            (&[0x0a, 1, b'k', 0x12, 4, 0x0a, 2, b'v', b'w'], "k=str:vw"),
            (&[0x0a, 1, b'k', 0x12, 2, 0x0a, 0], "k=str:"),
            (&[0x0a, 1, b'k', 0x12, 2, 0x10, 1], "k=bool:true"),
            (&[0x0a, 1, b'k', 0x12, 3, 0x18, 0x96, 0x01], "k=i64:150"),
            (
                &[
                    0x0a, 1, b'k', 0x12, 11, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                    0xff, 0x01,
                ],
                "k=i64:-1",
            ),
            (
                &[0x0a, 1, b'k', 0x12, 9, 0x21, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f],
                "k=f64:1.5",
            ),
        ];
        for (msg, want) in cases {
            assert_eq!(plain(msg).as_deref(), Some(want), "{msg:?}");
            // The string-only short cut agrees on strings, refuses the rest.
            let string = plain_string_attribute(msg).map(|(k, s)| {
                let (k, s) = (String::from_utf8_lossy(k), String::from_utf8_lossy(s));
                format!("{k}=str:{s}")
            });
            assert_eq!(string.is_some(), want.starts_with("k=str:"), "{msg:?}");
            if let Some(string) = string {
                assert_eq!(string, want);
            }
        }
    }

    #[test]
    fn other_layouts_fall_back() {
        for other in [
            // Trailing field after the string, duplicated string field.
            &[0x0a, 1, b'k', 0x12, 4, 0x0a, 1, b'v', 0x10][..],
            &[0x0a, 1, b'k', 0x12, 5, 0x0a, 1, b'v', 0x0a, 0][..],
            // Value before key, value length too short / too long.
            &[0x12, 3, 0x0a, 1, b'v', 0x0a, 1, b'k'][..],
            &[0x0a, 1, b'k', 0x12, 3, 0x0a, 2, b'v', b'w'][..],
            &[0x0a, 1, b'k', 0x12, 5, 0x0a, 2, b'v', b'w'][..],
            // Multi-byte lengths, truncated key.
            &[0x0a, 1, b'k', 0x12, 3, 0x0a, 0x81, 0x00][..],
            &[0x0a, 5, b'k'][..],
            // Overlong and truncated varints, multi-byte bool, short double.
            &[
                0x0a, 1, b'k', 0x12, 11, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0x02,
            ][..],
            &[0x0a, 1, b'k', 0x12, 2, 0x18, 0x80][..],
            &[0x0a, 1, b'k', 0x12, 3, 0x10, 0x81, 0x00][..],
            &[0x0a, 1, b'k', 0x12, 8, 0x21, 0, 0, 0, 0, 0, 0, 0][..],
            // Bytes, array and empty values use the general path.
            &[0x0a, 1, b'k', 0x12, 3, 0x3a, 1, 7][..],
            &[0x0a, 1, b'k', 0x12, 2, 0x2a, 0][..],
            &[0x0a, 1, b'k', 0x12, 0][..],
        ] {
            assert_eq!(plain(other), None, "{other:?}");
            assert_eq!(plain_string_attribute(other), None, "{other:?}");
        }
    }
}
