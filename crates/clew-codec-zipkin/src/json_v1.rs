//! Zipkin v1 JSON (`POST /api/v1/spans`, `application/json`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clew_model::{Span, Str, Value};
use serde::{Deserialize, Serialize};

use crate::error::ZipkinError;
use crate::json_common::{self, JsonEndpoint, lenient_opt_u64};
use crate::mapping;
use crate::v1::{V1Annotation, V1BinaryAnnotation, V1Span};

/// A v1 JSON span.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonV1Span {
    /// 16 or 32 hex digits.
    pub trace_id: String,
    /// Operation name.
    #[serde(default)]
    pub name: String,
    /// 16 hex digits.
    pub id: String,
    /// Parent's 16 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Start, µs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt_u64"
    )]
    pub timestamp: Option<u64>,
    /// Duration, µs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt_u64"
    )]
    pub duration: Option<u64>,
    /// Debug sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<bool>,
    /// Core and other annotations.
    #[serde(default)]
    pub annotations: Vec<JsonV1Annotation>,
    /// Tags and addresses.
    #[serde(default)]
    pub binary_annotations: Vec<JsonV1BinaryAnnotation>,
}

/// A v1 JSON annotation.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct JsonV1Annotation {
    /// µs.
    #[serde(default, deserialize_with = "lenient_opt_u64")]
    pub timestamp: Option<u64>,
    /// Event or core annotation name.
    #[serde(default)]
    pub value: String,
    /// Recording host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<JsonEndpoint>,
}

/// A v1 JSON binary annotation. `type` is optional: without it, strings are
/// strings, booleans booleans, and numbers integers or doubles.
#[derive(Debug, Serialize, Deserialize)]
pub struct JsonV1BinaryAnnotation {
    /// Key.
    pub key: String,
    /// Value (base64 text for `BYTES`).
    pub value: serde_json::Value,
    /// `BOOL`, `BYTES`, `I16`, `I32`, `I64`, `DOUBLE` or `STRING`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// Recording host, or the address for `ca`/`sa`/`ma`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<JsonEndpoint>,
}

/// Decodes a `POST /api/v1/spans` JSON body into model spans.
pub fn decode(body: &[u8]) -> Result<Vec<Span>, ZipkinError> {
    let spans: Vec<JsonV1Span> = serde_json::from_slice(body)?;
    let mut v2 = Vec::with_capacity(spans.len());
    for s in spans {
        v2.extend(s.into_v1()?.into_v2());
    }
    Ok(mapping::to_model(v2))
}

/// Encodes model spans as a v1 JSON array.
pub fn encode(spans: &[Span], out: &mut Vec<u8>) -> Result<(), ZipkinError> {
    let json: Vec<JsonV1Span> = spans
        .iter()
        .map(|s| JsonV1Span::from_v1(&V1Span::from_v2(&mapping::from_model(s))))
        .collect();
    serde_json::to_writer(out, &json)?;
    Ok(())
}

fn endpoint(e: Option<JsonEndpoint>) -> Result<Option<crate::Endpoint>, ZipkinError> {
    Ok(e.map(JsonEndpoint::into_endpoint)
        .transpose()?
        .filter(|e| !e.is_empty()))
}

impl JsonV1Span {
    /// Validates IDs, addresses and typed values.
    pub fn into_v1(self) -> Result<V1Span, ZipkinError> {
        let mut annotations = Vec::with_capacity(self.annotations.len());
        for a in self.annotations {
            annotations.push(V1Annotation {
                timestamp: a.timestamp.unwrap_or(0),
                value: a.value.into(),
                endpoint: endpoint(a.endpoint)?,
            });
        }
        let mut binary_annotations = Vec::with_capacity(self.binary_annotations.len());
        for b in self.binary_annotations {
            let value = typed_value(b.value, b.ty.as_deref())?;
            binary_annotations.push(V1BinaryAnnotation {
                key: b.key.into(),
                value,
                endpoint: endpoint(b.endpoint)?,
            });
        }
        Ok(V1Span {
            trace_id: json_common::trace_id(&self.trace_id)?,
            name: self.name.into(),
            id: json_common::span_id("id", &self.id)?,
            parent_id: json_common::parent_id(self.parent_id.as_deref())?,
            annotations,
            binary_annotations,
            debug: self.debug.unwrap_or(false),
            timestamp: self.timestamp,
            duration: self.duration,
        })
    }

    /// The JSON form of a v1 span.
    pub fn from_v1(s: &V1Span) -> Self {
        JsonV1Span {
            trace_id: s.trace_id.to_string(),
            name: s.name.to_string(),
            id: s.id.to_string(),
            parent_id: s.parent_id.map(|p| p.to_string()),
            timestamp: s.timestamp,
            duration: s.duration,
            debug: s.debug.then_some(true),
            annotations: s
                .annotations
                .iter()
                .map(|a| JsonV1Annotation {
                    timestamp: Some(a.timestamp),
                    value: a.value.to_string(),
                    endpoint: a.endpoint.as_ref().map(JsonEndpoint::from_endpoint),
                })
                .collect(),
            binary_annotations: s
                .binary_annotations
                .iter()
                .map(|b| {
                    let (value, ty) = json_value(&b.value);
                    JsonV1BinaryAnnotation {
                        key: b.key.to_string(),
                        value,
                        ty: ty.map(str::to_owned),
                        endpoint: b.endpoint.as_ref().map(JsonEndpoint::from_endpoint),
                    }
                })
                .collect(),
        }
    }
}

fn bad(reason: String) -> ZipkinError {
    ZipkinError::Field {
        field: "binaryAnnotations.value",
        reason,
    }
}

fn typed_value(v: serde_json::Value, ty: Option<&str>) -> Result<Value, ZipkinError> {
    use serde_json::Value as J;
    let int = |v: &J| match v {
        J::Number(n) => n.as_i64(),
        J::String(s) => s.parse().ok(),
        _ => None,
    };
    Ok(match (ty.map(str::to_ascii_uppercase).as_deref(), v) {
        (None | Some("STRING"), J::String(s)) => Value::Str(s.into()),
        (None | Some("BOOL"), J::Bool(b)) => Value::Bool(b),
        (Some("BOOL"), J::String(s)) => Value::Bool(s == "true"),
        (Some("BYTES"), J::String(s)) => Value::Binary(
            BASE64
                .decode(s.as_bytes())
                .map_err(|e| bad(format!("BYTES value is not base64: {e}")))?
                .into(),
        ),
        (Some("I16" | "I32" | "I64"), v) => {
            Value::I64(int(&v).ok_or_else(|| bad(format!("{v} is not an integer")))?)
        }
        (Some("DOUBLE"), J::Number(n)) => Value::F64(n.as_f64().unwrap_or(f64::NAN)),
        (Some("DOUBLE"), J::String(s)) => Value::F64(
            s.parse()
                .map_err(|_| bad(format!("{s:?} is not a number")))?,
        ),
        (None, J::Number(n)) => match n.as_i64() {
            Some(i) => Value::I64(i),
            None => Value::F64(n.as_f64().unwrap_or(f64::NAN)),
        },
        (Some("STRING") | None, other) => Value::Str(Str::from(other.to_string())),
        (Some(t), v) => return Err(bad(format!("{v} does not fit type {t}"))),
    })
}

fn json_value(v: &Value) -> (serde_json::Value, Option<&'static str>) {
    use serde_json::Value as J;
    match v {
        Value::Str(s) => (J::String(s.to_string()), None),
        Value::Bool(b) => (J::Bool(*b), Some("BOOL")),
        Value::I64(i) => (J::from(*i), Some("I64")),
        Value::F64(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => (J::Number(n), Some("DOUBLE")),
            None => (J::String(f.to_string()), Some("DOUBLE")),
        },
        Value::Binary(b) => (J::String(BASE64.encode(b)), Some("BYTES")),
        other => (J::String(other.to_text()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_values_follow_the_type_field() {
        assert_eq!(
            typed_value(json!("12"), Some("I64")).ok(),
            Some(Value::I64(12))
        );
        assert_eq!(typed_value(json!(1.5), None).ok(), Some(Value::F64(1.5)));
        assert_eq!(typed_value(json!(3), None).ok(), Some(Value::I64(3)));
        assert_eq!(
            typed_value(json!("AQI="), Some("BYTES")).ok(),
            Some(Value::Binary(vec![1u8, 2].into()))
        );
        assert_eq!(typed_value(json!(true), None).ok(), Some(Value::Bool(true)));
        assert!(typed_value(json!("x"), Some("I32")).is_err());
        assert_eq!(
            typed_value(json!("NaN"), Some("DOUBLE"))
                .ok()
                .map(|v| v.to_text()),
            Some("NaN".into())
        );
    }
}
