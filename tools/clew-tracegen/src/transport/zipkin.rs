//! Zipkin: `POST /api/v2/spans`, either a v2 JSON array or a proto3
//! `ListOfSpans` (the two encodings Zipkin reporters use), one keep-alive
//! connection per worker. The two kinds share the path and differ only in the
//! content type, so they share this module.

use super::TransportError;
use super::http::HttpPost;
use super::otlp_http::PROTOBUF_CONTENT_TYPE;

/// Zipkin's v2 span ingest path.
pub const ZIPKIN_SPANS_PATH: &str = "/api/v2/spans";
/// The content type of Zipkin JSON bodies.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// A v2 JSON client for `target` (the path defaults to `/api/v2/spans`).
pub fn zipkin_json(target: &str) -> Result<HttpPost, TransportError> {
    HttpPost::with(target, ZIPKIN_SPANS_PATH, JSON_CONTENT_TYPE)
}

/// A proto3 client for `target` (the path defaults to `/api/v2/spans`).
pub fn zipkin_proto(target: &str) -> Result<HttpPost, TransportError> {
    HttpPost::with(target, ZIPKIN_SPANS_PATH, PROTOBUF_CONTENT_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_post_to_api_v2_spans() {
        for c in [
            zipkin_json("127.0.0.1:9411").expect("json"),
            zipkin_proto("127.0.0.1:9411").expect("proto"),
        ] {
            assert_eq!(c.url(), "http://127.0.0.1:9411/api/v2/spans");
        }
    }
}
