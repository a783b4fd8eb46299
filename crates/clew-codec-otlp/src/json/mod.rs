//! OTLP/JSON (`POST /v1/traces` with `application/json`, and API v3 output).
//!
//! The spec's JSON differs from protobuf's canonical JSON mapping (IDs are
//! hex, not base64), and `opentelemetry-proto`'s serde support reads 64-bit
//! integers only as strings and refuses empty `AnyValue`s, so the mapping is
//! written here: lowerCamelCase keys (snake_case accepted), hex IDs, int64 /
//! fixed64 as strings on output and strings *or* numbers on input, enums as
//! integers on output and integers or names on input, `null` as the default,
//! unknown fields ignored. JSON is converted to prost messages, so the model
//! mapping is the protobuf one.

mod messages;
mod output;
mod scalars;

use clew_model::Span;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;

use crate::error::OtlpError;
use crate::reject::{Decoded, Rejections};
use messages::{JsonRequest, JsonResourceSpans};

/// Decodes an OTLP/JSON `ExportTraceServiceRequest` into model spans.
pub fn decode(body: &[u8]) -> Result<Decoded, OtlpError> {
    Ok(crate::request_to_model(parse_request(body)?))
}

/// Parses an OTLP/JSON `ExportTraceServiceRequest` into prost messages.
pub fn parse_request(body: &[u8]) -> Result<ExportTraceServiceRequest, OtlpError> {
    let req: JsonRequest = serde_json::from_slice(body)?;
    Ok(req.into())
}

/// Model spans as an OTLP/JSON `ExportTraceServiceRequest` body.
pub fn encode(spans: &[Span]) -> Vec<u8> {
    encode_request(&crate::spans_to_request(spans))
}

/// A prost request as OTLP/JSON.
pub fn encode_request(req: &ExportTraceServiceRequest) -> Vec<u8> {
    let json = JsonRequest::from(req);
    // Serializing plain structs into a Vec cannot fail.
    serde_json::to_vec(&json).unwrap_or_default()
}

/// `ResourceSpans` as an OTLP/JSON `TracesData` value
/// (`{"resourceSpans": [...]}`), for API v3's `{"result": …}` replies.
pub fn traces_data(resource_spans: &[ResourceSpans]) -> serde_json::Value {
    let list: Vec<JsonResourceSpans> = resource_spans.iter().map(JsonResourceSpans::from).collect();
    serde_json::json!({ "resourceSpans": list })
}

/// The OTLP/JSON export response: `{}` when everything was accepted, else
/// `{"partialSuccess": {"rejectedSpans": "N", "errorMessage": "…"}}`.
pub fn encode_response(rejected: &Rejections) -> Vec<u8> {
    let value = match rejected.partial_success() {
        None => serde_json::json!({}),
        Some(p) => serde_json::json!({
            "partialSuccess": {
                "rejectedSpans": p.rejected_spans.to_string(),
                "errorMessage": p.error_message,
            }
        }),
    };
    value.to_string().into_bytes()
}

#[cfg(test)]
mod tests;
