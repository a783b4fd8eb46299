//! Attribute values: `KeyValue`, `AnyValue` (with prost's oneof merge
//! rules) and arrays, read zero-copy.

use bytes::Bytes;
use clew_model::{KeyValue, Str, Value};

use super::Ctx;
use crate::wire::{WireError, WireType};

impl<'a> Ctx<'a> {
    /// A `KeyValue` message; `depth` is the budget left inside it.
    pub(super) fn key_value(&self, msg: &'a [u8], depth: u32) -> Result<KeyValue, WireError> {
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
