//! OTLP/HTTP: `POST /v1/traces` with a protobuf `ExportTraceServiceRequest`,
//! one keep-alive connection per worker, as the OpenTelemetry SDKs' HTTP
//! exporters send it (uncompressed here, so the server's decode is measured,
//! not gzip).

use super::TransportError;
use super::http::HttpPost;

/// The OTLP/HTTP traces path.
pub const OTLP_TRACES_PATH: &str = "/v1/traces";
/// The content type of binary OTLP bodies (also Zipkin proto3's).
pub const PROTOBUF_CONTENT_TYPE: &str = "application/x-protobuf";

/// A client for `target` (`host:port` or URL; the path defaults to `/v1/traces`).
pub fn otlp_http(target: &str) -> Result<HttpPost, TransportError> {
    HttpPost::with(target, OTLP_TRACES_PATH, PROTOBUF_CONTENT_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_default_to_v1_traces() {
        let c = otlp_http("127.0.0.1:4318").expect("client");
        assert_eq!(c.url(), "http://127.0.0.1:4318/v1/traces");
        let c = otlp_http("http://h:1/custom").expect("client");
        assert_eq!(c.url(), "http://h:1/custom");
        assert!(otlp_http("https://h:1").is_err());
    }
}
