//! Jaeger's response envelope and how responses are written.
//!
//! Every `/api/*` answer is `{"data", "total", "limit", "offset", "errors"}`
//! in that key order (the Go struct's field order). Successful answers are
//! `application/json`; errors mimic Go's `http.Error`: `text/plain`, a
//! trailing newline, and the envelope as the body, because that is what the
//! Jaeger UI and Grafana have always parsed.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The envelope. `limit` and `offset` are always 0 in Jaeger.
#[derive(Serialize)]
pub struct Envelope<T: Serialize> {
    /// Payload (`null` on errors).
    pub data: T,
    /// Element count for service/operation lists, 0 elsewhere.
    pub total: usize,
    /// Always 0.
    pub limit: usize,
    /// Always 0.
    pub offset: usize,
    /// `null` when there are none.
    pub errors: Option<Vec<ApiError>>,
}

impl<T: Serialize> Envelope<T> {
    /// An envelope with data and no errors.
    pub fn data(data: T, total: usize) -> Self {
        Envelope {
            data,
            total,
            limit: 0,
            offset: 0,
            errors: None,
        }
    }
}

/// One entry of `errors`.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status, omitted when 0 (per-trace errors of a multi-get).
    #[serde(skip_serializing_if = "is_zero")]
    pub code: u16,
    /// Human-readable message.
    pub msg: String,
    /// The trace an error is about, omitted when empty.
    #[serde(rename = "traceID", skip_serializing_if = "String::is_empty")]
    pub trace_id: String,
}

fn is_zero(code: &u16) -> bool {
    *code == 0
}

/// Whether `prettyPrint` asks for indented output: Jaeger treats any value
/// other than empty and `false` as yes.
pub fn wants_pretty(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "false")
}

/// Serialises `value`, indented by four spaces when `pretty`, with floats
/// in Go's form ([`crate::jaeger_json::to_go_json`]).
pub fn to_json<T: Serialize>(value: &T, pretty: bool) -> Result<Vec<u8>, serde_json::Error> {
    crate::jaeger_json::to_go_json(value, pretty)
}

/// A 200 `application/json` response.
pub fn json_response<T: Serialize>(value: &T, pretty: bool) -> Response {
    match to_json(value, pretty) {
        Ok(body) => json_bytes(StatusCode::OK, body),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// An `application/json` response of JSON already encoded.
pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `prefix`, the JSON `parts` (each already encoded) separated by commas,
/// then `suffix`: an array of values encoded one at a time (so a response
/// cap can count each as it is made) without encoding them again.
pub fn join_json<P: AsRef<[u8]>>(
    prefix: &[u8],
    parts: impl IntoIterator<Item = P>,
    suffix: &[u8],
) -> Vec<u8> {
    let mut out = prefix.to_vec();
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(part.as_ref());
    }
    out.extend_from_slice(suffix);
    out
}

/// An error response the way Jaeger writes it (see the module docs).
pub fn error_response(status: StatusCode, msg: &str) -> Response {
    let envelope: Envelope<()> = Envelope {
        data: (),
        total: 0,
        limit: 0,
        offset: 0,
        errors: Some(vec![ApiError {
            code: status.as_u16(),
            msg: msg.to_string(),
            trace_id: String::new(),
        }]),
    };
    // Serialising plain strings and integers cannot fail; fall back to a
    // fixed body rather than panic anyway.
    let mut body = serde_json::to_string(&envelope)
        .unwrap_or_else(|_| r#"{"data":null,"total":0,"limit":0,"offset":0,"errors":null}"#.into());
    body.push('\n');
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_keys_in_jaeger_order_with_null_errors() {
        let env = Envelope::data(vec!["a", "b"], 2);
        let text = String::from_utf8(to_json(&env, false).expect("serialises")).expect("utf-8");
        assert_eq!(
            text,
            r#"{"data":["a","b"],"total":2,"limit":0,"offset":0,"errors":null}"#
        );
    }

    #[test]
    fn pretty_print_indents_by_four_spaces() {
        let env = Envelope::data(vec![1], 1);
        let text = String::from_utf8(to_json(&env, true).expect("serialises")).expect("utf-8");
        assert_eq!(
            text,
            "{\n    \"data\": [\n        1\n    ],\n    \"total\": 1,\n    \"limit\": 0,\n    \"offset\": 0,\n    \"errors\": null\n}"
        );
    }

    #[test]
    fn error_items_omit_zero_code_and_empty_trace_id() {
        let a = ApiError {
            code: 0,
            msg: "trace not found".into(),
            trace_id: "00000000000000ab".into(),
        };
        let b = ApiError {
            code: 400,
            msg: "bad".into(),
            trace_id: String::new(),
        };
        assert_eq!(
            serde_json::to_string(&[a, b]).expect("serialises"),
            r#"[{"msg":"trace not found","traceID":"00000000000000ab"},{"code":400,"msg":"bad"}]"#
        );
    }

    #[test]
    fn pretty_flag_follows_jaeger() {
        assert!(wants_pretty(Some("true")));
        assert!(wants_pretty(Some("1")));
        assert!(!wants_pretty(Some("false")));
        assert!(!wants_pretty(Some("")));
        assert!(!wants_pretty(None));
    }
}
