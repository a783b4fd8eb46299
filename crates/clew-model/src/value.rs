//! Typed tag values and key/value pairs.

use bytes::Bytes;

/// A UTF-8 string that may share memory with the buffer it was decoded from.
///
/// Cloning is a reference-count increment, and a decoder can slice it out of
/// a request body without copying (`Str::try_from(body.slice(range))`).
pub use bytestring::ByteString as Str;

/// The type of a tag value, named as Jaeger's JSON names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// UTF-8 string.
    String,
    /// Boolean.
    Bool,
    /// Signed 64-bit integer.
    Int64,
    /// 64-bit float.
    Float64,
    /// Opaque bytes.
    Binary,
    /// A list of values (OTLP `ArrayValue`).
    Array,
    /// A nested key/value list (OTLP `KeyValueList`).
    Map,
}

impl ValueType {
    /// Jaeger JSON's `type` string. Arrays and maps are rendered by Jaeger as
    /// JSON text in a `string` tag, so they report `string` here.
    pub fn jaeger_name(self) -> &'static str {
        match self {
            ValueType::String | ValueType::Array | ValueType::Map => "string",
            ValueType::Bool => "bool",
            ValueType::Int64 => "int64",
            ValueType::Float64 => "float64",
            ValueType::Binary => "binary",
        }
    }
}

/// A tag value. Jaeger's five scalar types, plus the array and map values
/// OpenTelemetry attributes can hold (kept structured, never stringified in
/// the store, so OTLP round trips are lossless).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// UTF-8 string.
    Str(Str),
    /// Boolean.
    Bool(bool),
    /// Signed 64-bit integer.
    I64(i64),
    /// 64-bit float.
    F64(f64),
    /// Opaque bytes.
    Binary(Bytes),
    /// A list of values.
    Array(Vec<Value>),
    /// A nested list of key/value pairs (order preserved, keys may repeat).
    Map(Vec<KeyValue>),
}

impl Value {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Str(_) => ValueType::String,
            Value::Bool(_) => ValueType::Bool,
            Value::I64(_) => ValueType::Int64,
            Value::F64(_) => ValueType::Float64,
            Value::Binary(_) => ValueType::Binary,
            Value::Array(_) => ValueType::Array,
            Value::Map(_) => ValueType::Map,
        }
    }

    /// The string inside a `Str` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value's text form, as Jaeger search compares values: strings as
    /// is, numbers and bools in their usual decimal form, binary as hex,
    /// arrays and maps as JSON-ish text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out, false);
        out
    }

    fn write_text(&self, out: &mut String, quoted: bool) {
        use std::fmt::Write;
        match self {
            Value::Str(s) if quoted => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        c if (c as u32) < 0x20 => {
                            let _ = write!(out, "\\u{:04x}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            Value::Str(s) => out.push_str(s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::I64(v) => {
                let _ = write!(out, "{v}");
            }
            Value::F64(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Binary(b) => {
                for byte in b.iter() {
                    let _ = write!(out, "{byte:02x}");
                }
            }
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_text(out, true);
                }
                out.push(']');
            }
            Value::Map(kvs) => {
                out.push('{');
                for (i, kv) in kvs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    Value::Str(kv.key.clone()).write_text(out, true);
                    out.push(':');
                    kv.value.write_text(out, true);
                }
                out.push('}');
            }
        }
    }

    /// Rough heap footprint in bytes, for memory accounting.
    pub fn estimated_size(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::Binary(b) => b.len(),
            Value::Array(v) => v.iter().map(|x| 32 + x.estimated_size()).sum(),
            Value::Map(v) => v.iter().map(KeyValue::estimated_size).sum(),
            _ => 0,
        }
    }
}

/// A tag, a log field or an attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyValue {
    /// The key.
    pub key: Str,
    /// The typed value.
    pub value: Value,
}

impl KeyValue {
    /// Any key/value.
    pub fn new(key: impl Into<Str>, value: Value) -> Self {
        KeyValue {
            key: key.into(),
            value,
        }
    }
    /// A string tag.
    pub fn string(key: impl Into<Str>, value: impl Into<Str>) -> Self {
        Self::new(key, Value::Str(value.into()))
    }
    /// A bool tag.
    pub fn bool(key: impl Into<Str>, value: bool) -> Self {
        Self::new(key, Value::Bool(value))
    }
    /// An integer tag.
    pub fn i64(key: impl Into<Str>, value: i64) -> Self {
        Self::new(key, Value::I64(value))
    }
    /// A float tag.
    pub fn f64(key: impl Into<Str>, value: f64) -> Self {
        Self::new(key, Value::F64(value))
    }
    /// A binary tag.
    pub fn binary(key: impl Into<Str>, value: impl Into<Bytes>) -> Self {
        Self::new(key, Value::Binary(value.into()))
    }

    /// Rough heap footprint in bytes, for memory accounting.
    pub fn estimated_size(&self) -> usize {
        48 + self.key.len() + self.value.estimated_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_match_jaeger_search() {
        assert_eq!(Value::Bool(true).to_text(), "true");
        assert_eq!(Value::I64(-5).to_text(), "-5");
        assert_eq!(Value::F64(1.5).to_text(), "1.5");
        assert_eq!(
            Value::Binary(Bytes::from_static(&[0xab, 1])).to_text(),
            "ab01"
        );
        let arr = Value::Array(vec![Value::Str("a\"b".into()), Value::I64(1)]);
        assert_eq!(arr.to_text(), r#"["a\"b",1]"#);
        let map = Value::Map(vec![KeyValue::bool("k", false)]);
        assert_eq!(map.to_text(), r#"{"k":false}"#);
    }

    #[test]
    fn str_slices_share_the_buffer() {
        let body = Bytes::from_static(b"hello world");
        let s = Str::try_from(body.slice(6..)).expect("valid utf-8");
        assert_eq!(&*s, "world");
        assert!(Str::try_from(Bytes::from_static(&[0xff])).is_err());
    }
}
