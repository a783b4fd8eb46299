//! Tag values and log records as the hot path holds them.
//!
//! Keys and string values are `Cow<'static, str>`, so the common case of
//! literal keys and values costs no allocation; they become
//! [`clew_model::Str`] only on the reporter's background thread.

use std::borrow::Cow;

use clew_model::{KeyValue, Str, Value};

/// A tag or log-field value, with Jaeger's five types.
#[derive(Clone, Debug, PartialEq)]
pub enum TagValue {
    /// A string.
    Str(Cow<'static, str>),
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// A float.
    F64(f64),
    /// Opaque bytes.
    Binary(Vec<u8>),
}

impl TagValue {
    /// The value as a model [`Value`].
    pub fn to_model(&self) -> Value {
        match self {
            TagValue::Str(s) => Value::Str(cow_to_str(s)),
            TagValue::Bool(b) => Value::Bool(*b),
            TagValue::I64(v) => Value::I64(*v),
            TagValue::F64(v) => Value::F64(*v),
            TagValue::Binary(b) => Value::Binary(bytes::Bytes::copy_from_slice(b)),
        }
    }

    /// The string inside a `Str` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TagValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Turns a `Cow` into a model string without copying static text.
// Taking the `Cow` (not `&str`) is the point: a borrowed `'static` string
// is wrapped without copying.
#[allow(clippy::ptr_arg)]
pub(crate) fn cow_to_str(s: &Cow<'static, str>) -> Str {
    match s {
        Cow::Borrowed(b) => Str::from_static(b),
        Cow::Owned(o) => Str::from(o.as_str()),
    }
}

/// Like [`cow_to_str`] but consumes the `Cow`, reusing an owned buffer.
pub(crate) fn cow_into_str(s: Cow<'static, str>) -> Str {
    match s {
        Cow::Borrowed(b) => Str::from_static(b),
        Cow::Owned(o) => Str::from(o),
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for TagValue {
            fn from(v: $t) -> Self {
                TagValue::I64(i64::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for TagValue {
    /// Values above `i64::MAX` wrap, as in Jaeger's thrift `LONG` type.
    fn from(v: u64) -> Self {
        TagValue::I64(v as i64)
    }
}

impl From<usize> for TagValue {
    fn from(v: usize) -> Self {
        TagValue::I64(v as i64)
    }
}

impl From<f64> for TagValue {
    fn from(v: f64) -> Self {
        TagValue::F64(v)
    }
}

impl From<f32> for TagValue {
    fn from(v: f32) -> Self {
        TagValue::F64(f64::from(v))
    }
}

impl From<bool> for TagValue {
    fn from(v: bool) -> Self {
        TagValue::Bool(v)
    }
}

impl From<&'static str> for TagValue {
    fn from(v: &'static str) -> Self {
        TagValue::Str(Cow::Borrowed(v))
    }
}

impl From<String> for TagValue {
    fn from(v: String) -> Self {
        TagValue::Str(Cow::Owned(v))
    }
}

impl From<Cow<'static, str>> for TagValue {
    fn from(v: Cow<'static, str>) -> Self {
        TagValue::Str(v)
    }
}

impl From<Vec<u8>> for TagValue {
    fn from(v: Vec<u8>) -> Self {
        TagValue::Binary(v)
    }
}

/// A key and its value (a span tag or a log field).
#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    /// The key.
    pub key: Cow<'static, str>,
    /// The value.
    pub value: TagValue,
}

impl Tag {
    /// A tag from anything that converts.
    pub fn new(key: impl Into<Cow<'static, str>>, value: impl Into<TagValue>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The tag as a model [`KeyValue`], consuming it.
    pub(crate) fn into_model(self) -> KeyValue {
        let value = match self.value {
            TagValue::Str(s) => Value::Str(cow_into_str(s)),
            TagValue::Binary(b) => Value::Binary(bytes::Bytes::from(b)),
            other => other.to_model(),
        };
        KeyValue {
            key: cow_into_str(self.key),
            value,
        }
    }
}

/// A timestamped set of fields on a span (OpenTracing `log`).
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// Unix nanoseconds.
    pub timestamp: u64,
    /// The fields; an `event` field names the event.
    pub fields: Vec<Tag>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_pick_jaeger_types() {
        assert_eq!(TagValue::from(3u32), TagValue::I64(3));
        assert_eq!(TagValue::from(1.5f32), TagValue::F64(1.5));
        assert_eq!(TagValue::from("x").as_str(), Some("x"));
        let kv = Tag::new("k", String::from("v")).into_model();
        assert_eq!(&*kv.key, "k");
        assert_eq!(kv.value, Value::Str("v".into()));
        let kv = Tag::new("b", vec![1u8, 2]).into_model();
        assert_eq!(kv.value, Value::Binary(bytes::Bytes::from_static(&[1, 2])));
    }
}
