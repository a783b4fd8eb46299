//! Zipkin v2 JSON (`POST /api/v2/spans`, `application/json`, and the read API).

use std::collections::BTreeMap;

use clew_model::{KeyValue, Span, Str, Value};
use serde::{Deserialize, Serialize};

use crate::error::ZipkinError;
use crate::json_common::{self, JsonEndpoint, lenient_opt_u64};
use crate::mapping;
use crate::span::{Annotation, Kind, ZipkinSpan};

/// A span as Zipkin v2 JSON writes it. Public so the read API can nest spans
/// in its own responses (`/api/v2/traces` is a list of lists of these).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonSpan {
    /// 16 or 32 hex digits.
    pub trace_id: String,
    /// Parent's 16 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// 16 hex digits.
    pub id: String,
    /// `CLIENT`, `SERVER`, `PRODUCER` or `CONSUMER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Operation name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
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
    /// Shared server span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
    /// The recording service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_endpoint: Option<JsonEndpoint>,
    /// The peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_endpoint: Option<JsonEndpoint>,
    /// Events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<JsonAnnotation>,
    /// Tags (string values; numbers and booleans are accepted on input).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, TagText>,
}

/// A v2 annotation.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct JsonAnnotation {
    /// µs.
    #[serde(default, deserialize_with = "lenient_opt_u64")]
    pub timestamp: Option<u64>,
    /// The event.
    #[serde(default)]
    pub value: String,
}

/// A tag value: Zipkin wants strings, but some clients send numbers or
/// booleans, which Zipkin's own server turns into their text.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TagText {
    /// The normal case.
    Text(String),
    /// Anything else, kept as its JSON text.
    Other(serde_json::Value),
}

impl TagText {
    fn into_string(self) -> String {
        match self {
            TagText::Text(s) => s,
            TagText::Other(serde_json::Value::Null) => String::new(),
            TagText::Other(v) => v.to_string(),
        }
    }
}

/// Decodes a `POST /api/v2/spans` JSON body into model spans.
pub fn decode(body: &[u8]) -> Result<Vec<Span>, ZipkinError> {
    Ok(mapping::to_model(decode_zipkin(body)?))
}

/// Decodes a v2 JSON body into Zipkin spans (before mapping to the model).
pub fn decode_zipkin(body: &[u8]) -> Result<Vec<ZipkinSpan>, ZipkinError> {
    let spans: Vec<JsonSpan> = serde_json::from_slice(body)?;
    spans.into_iter().map(JsonSpan::into_zipkin).collect()
}

/// Encodes model spans as a v2 JSON array.
pub fn encode(spans: &[Span], out: &mut Vec<u8>) -> Result<(), ZipkinError> {
    let json: Vec<JsonSpan> = spans
        .iter()
        .map(|s| JsonSpan::from_zipkin(&mapping::from_model(s)))
        .collect();
    serde_json::to_writer(out, &json)?;
    Ok(())
}

impl JsonSpan {
    /// Validates IDs, addresses and kind.
    pub fn into_zipkin(self) -> Result<ZipkinSpan, ZipkinError> {
        let mut z = ZipkinSpan::new(
            json_common::trace_id(&self.trace_id)?,
            json_common::span_id("id", &self.id)?,
        );
        z.parent_id = json_common::parent_id(self.parent_id.as_deref())?;
        z.kind = match self.kind.as_deref() {
            None | Some("") => None,
            Some(k) => Some(Kind::from_json_name(k).ok_or_else(|| ZipkinError::Field {
                field: "kind",
                reason: format!("unknown kind {k:?}"),
            })?),
        };
        z.name = self.name.map(Str::from).unwrap_or_default();
        z.timestamp = self.timestamp.unwrap_or(0);
        z.duration = self.duration.unwrap_or(0);
        z.debug = self.debug.unwrap_or(false);
        z.shared = self.shared.unwrap_or(false);
        z.local_endpoint = self
            .local_endpoint
            .map(JsonEndpoint::into_endpoint)
            .transpose()?
            .filter(|e| !e.is_empty());
        z.remote_endpoint = self
            .remote_endpoint
            .map(JsonEndpoint::into_endpoint)
            .transpose()?
            .filter(|e| !e.is_empty());
        z.annotations = self
            .annotations
            .into_iter()
            .map(|a| Annotation {
                timestamp: a.timestamp.unwrap_or(0),
                value: a.value.into(),
            })
            .collect();
        z.tags = self
            .tags
            .into_iter()
            .map(|(k, v)| KeyValue::string(k, v.into_string()))
            .collect();
        Ok(z)
    }

    /// The JSON form of a Zipkin span; typed tags are written as text.
    pub fn from_zipkin(z: &ZipkinSpan) -> Self {
        JsonSpan {
            trace_id: z.trace_id.to_string(),
            parent_id: z.parent_id.map(|p| p.to_string()),
            id: z.id.to_string(),
            kind: z.kind.map(|k| k.json_name().to_owned()),
            name: (!z.name.is_empty()).then(|| z.name.to_string()),
            timestamp: (z.timestamp != 0).then_some(z.timestamp),
            duration: (z.duration != 0).then_some(z.duration),
            debug: z.debug.then_some(true),
            shared: z.shared.then_some(true),
            local_endpoint: z.local_endpoint.as_ref().map(JsonEndpoint::from_endpoint),
            remote_endpoint: z.remote_endpoint.as_ref().map(JsonEndpoint::from_endpoint),
            annotations: z
                .annotations
                .iter()
                .map(|a| JsonAnnotation {
                    timestamp: Some(a.timestamp),
                    value: a.value.to_string(),
                })
                .collect(),
            tags: z
                .tags
                .iter()
                .map(|kv| (kv.key.to_string(), TagText::Text(tag_text(&kv.value))))
                .collect(),
        }
    }
}

fn tag_text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => other.to_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{SpanId, SpanKind, TraceId};

    #[test]
    fn decodes_a_minimal_span_and_lenient_values() {
        let body = br#"[{"traceId":"86154a4ba6e91385","id":"4d1e00c0db9010db","parentId":"0000000000000000",
            "kind":"client","timestamp":1.5e6,"tags":{"n":5,"b":true,"s":"x"},
            "localEndpoint":{"serviceName":"fe","ipv4":"","port":-1}}]"#;
        let spans = decode(body).expect("decodes");
        let s = &spans[0];
        assert_eq!(s.trace_id, TraceId::new(0, 0x8615_4a4b_a6e9_1385));
        assert_eq!(s.span_id, SpanId(0x4d1e_00c0_db90_10db));
        assert!(s.references.is_empty());
        assert_eq!(s.kind(), SpanKind::Client);
        assert_eq!(s.start_time, 1_500_000_000);
        assert_eq!(s.tag("n").and_then(Value::as_str), Some("5"));
        assert_eq!(s.tag("b").and_then(Value::as_str), Some("true"));
        assert_eq!(s.process.tags, vec![KeyValue::i64("port", 65535)]);
    }

    #[test]
    fn rejects_bad_ids_kinds_and_addresses() {
        assert!(matches!(
            decode(br#"[{"traceId":"xyz","id":"1"}]"#),
            Err(ZipkinError::Id {
                field: "traceId",
                ..
            })
        ));
        assert!(matches!(
            decode(br#"[{"traceId":"1","id":"1","kind":"SIDEWAYS"}]"#),
            Err(ZipkinError::Field { field: "kind", .. })
        ));
        assert!(matches!(
            decode(br#"[{"traceId":"1","id":"1","localEndpoint":{"ipv4":"1.2.3"}}]"#),
            Err(ZipkinError::Address { field: "ipv4", .. })
        ));
        assert!(matches!(decode(b"{"), Err(ZipkinError::Json(_))));
    }
}
