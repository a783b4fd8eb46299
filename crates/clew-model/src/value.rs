//! Typed tag values and key/value pairs.

use bytes::Bytes;

/// A UTF-8 string: short ones inline, longer ones sharing the buffer they
/// were decoded from (`Str::try_from(body.slice(range))` does not copy them).
pub use crate::text::Str;

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

    /// The value's text form, as Jaeger (v2, and OpenTelemetry's
    /// `pcommon.Value.AsString`) prints it and as its tag search compares
    /// it: strings as is, integers and bools in decimal, floats as Go's JSON
    /// writes them (`42`, `72.5`, `1e+21`, `1e-7`; see [`crate::GoFloat`]),
    /// binary as standard base64, arrays and maps as Go's JSON text (map keys
    /// sorted, HTML-safe escapes).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        match self {
            Value::Str(s) => out.push_str(s),
            Value::Array(_) | Value::Map(_) if !self.is_json_encodable() => {
                // Go's json.Marshal fails on NaN/Inf, and AsString then
                // yields the empty string.
            }
            _ => self.write_text(&mut out, false),
        }
        out
    }

    /// False when the value is, or holds, a NaN or infinite float, which
    /// Go's `encoding/json` refuses.
    fn is_json_encodable(&self) -> bool {
        match self {
            Value::F64(f) => f.is_finite(),
            Value::Array(items) => items.iter().all(Value::is_json_encodable),
            Value::Map(kvs) => kvs.iter().all(|kv| kv.value.is_json_encodable()),
            _ => true,
        }
    }

    fn write_text(&self, out: &mut String, quoted: bool) {
        use std::fmt::Write;
        match self {
            Value::Str(s) if quoted => crate::write_go_json_string(out, s),
            Value::Str(s) => out.push_str(s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::I64(v) => {
                let _ = write!(out, "{v}");
            }
            Value::F64(v) => {
                let _ = write!(out, "{}", crate::GoFloat(*v));
            }
            Value::Binary(b) => {
                if quoted {
                    out.push('"');
                }
                crate::write_base64(out, b);
                if quoted {
                    out.push('"');
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
                // Go marshals a map with its keys sorted (bytewise); when a
                // key repeats, the last value wins, as in a Go map.
                let mut sorted: Vec<&KeyValue> = Vec::with_capacity(kvs.len());
                for kv in kvs {
                    match sorted.iter().position(|k| k.key == kv.key) {
                        Some(i) => sorted[i] = kv,
                        None => sorted.push(kv),
                    }
                }
                sorted.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
                out.push('{');
                for (i, kv) in sorted.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    crate::write_go_json_string(out, &kv.key);
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
        assert_eq!(Value::F64(42.0).to_text(), "42");
        assert_eq!(Value::F64(1e21).to_text(), "1e+21");
        assert_eq!(Value::F64(-0.0).to_text(), "-0");
        assert_eq!(Value::F64(f64::NAN).to_text(), "NaN");
        assert_eq!(
            Value::Binary(Bytes::from_static(&[0, 0, 0x30, 0x39])).to_text(),
            "AAAwOQ=="
        );
        let arr = Value::Array(vec![
            Value::Str("a\"b<".into()),
            Value::I64(1),
            Value::F64(2.0),
            Value::Binary(Bytes::from_static(b"f")),
        ]);
        assert_eq!(arr.to_text(), r#"["a\"b\u003c",1,2,"Zg=="]"#);
        let map = Value::Map(vec![
            KeyValue::bool("k", false),
            KeyValue::i64("a", 1),
            KeyValue::i64("k", 2),
        ]);
        assert_eq!(map.to_text(), r#"{"a":1,"k":2}"#);
        let bad = Value::Array(vec![Value::F64(f64::INFINITY)]);
        assert_eq!(bad.to_text(), "");
    }

    #[test]
    fn str_slices_share_the_buffer() {
        let body = Bytes::from_static(b"hello world");
        let s = Str::try_from(body.slice(6..)).expect("valid utf-8");
        assert_eq!(&*s, "world");
        assert!(Str::try_from(Bytes::from_static(&[0xff])).is_err());
    }
}
