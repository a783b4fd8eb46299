//! OTLP `AnyValue` / `KeyValue` ↔ model `Value` / `KeyValue`.
//!
//! Arrays and key/value lists stay structured (`Value::Array` / `Value::Map`).
//! An empty `AnyValue` (no variant set) becomes the empty string: the model
//! has no null, and Jaeger shows such attributes as empty strings too.

use bytes::Bytes;
use clew_model::{KeyValue, Str, Value};
use opentelemetry_proto::tonic::common::v1 as pb;
use pb::any_value::Value as PbValue;

/// Converts owned prost attributes (strings move, they are not copied).
pub(crate) fn attributes_from_pb(attrs: Vec<pb::KeyValue>) -> Vec<KeyValue> {
    attrs.into_iter().map(key_value_from_pb).collect()
}

pub(crate) fn key_value_from_pb(kv: pb::KeyValue) -> KeyValue {
    KeyValue {
        key: Str::from(kv.key),
        value: any_value_from_pb(kv.value.and_then(|v| v.value)),
    }
}

pub(crate) fn any_value_from_pb(v: Option<PbValue>) -> Value {
    match v {
        None => Value::Str(Str::new()),
        Some(PbValue::StringValue(s)) => Value::Str(Str::from(s)),
        Some(PbValue::BoolValue(b)) => Value::Bool(b),
        Some(PbValue::IntValue(i)) => Value::I64(i),
        Some(PbValue::DoubleValue(d)) => Value::F64(d),
        Some(PbValue::BytesValue(b)) => Value::Binary(Bytes::from(b)),
        Some(PbValue::ArrayValue(a)) => Value::Array(
            a.values
                .into_iter()
                .map(|v| any_value_from_pb(v.value))
                .collect(),
        ),
        Some(PbValue::KvlistValue(l)) => Value::Map(attributes_from_pb(l.values)),
    }
}

/// Model attributes as prost attributes.
pub(crate) fn attributes_to_pb(attrs: &[KeyValue]) -> Vec<pb::KeyValue> {
    attrs.iter().map(key_value_to_pb).collect()
}

pub(crate) fn key_value_to_pb(kv: &KeyValue) -> pb::KeyValue {
    pb::KeyValue {
        key: kv.key.to_string(),
        value: Some(any_value_to_pb(&kv.value)),
    }
}

pub(crate) fn any_value_to_pb(v: &Value) -> pb::AnyValue {
    let value = match v {
        Value::Str(s) => PbValue::StringValue(s.to_string()),
        Value::Bool(b) => PbValue::BoolValue(*b),
        Value::I64(i) => PbValue::IntValue(*i),
        Value::F64(d) => PbValue::DoubleValue(*d),
        Value::Binary(b) => PbValue::BytesValue(b.to_vec()),
        Value::Array(items) => PbValue::ArrayValue(pb::ArrayValue {
            values: items.iter().map(any_value_to_pb).collect(),
        }),
        Value::Map(kvs) => PbValue::KvlistValue(pb::KeyValueList {
            values: attributes_to_pb(kvs),
        }),
    };
    pb::AnyValue { value: Some(value) }
}
