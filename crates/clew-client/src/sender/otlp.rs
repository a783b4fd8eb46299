//! OTLP/HTTP sender: protobuf `ExportTraceServiceRequest` to `/v1/traces`.

use std::time::Duration;

use clew_model::Span;
use prost::Message;

use super::{SendError, SendErrorKind, Sender};

/// Posts spans as OTLP protobuf (`Content-Type: application/x-protobuf`) to
/// an OTLP/HTTP receiver, e.g. `http://127.0.0.1:4318/v1/traces`.
#[derive(Debug)]
pub struct OtlpHttpSender {
    endpoint: String,
    agent: ureq::Agent,
    batch_spans: usize,
    spans: Vec<Span>,
}

impl OtlpHttpSender {
    /// A sender to `endpoint`. A base URL without a path (as in
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`) gets `/v1/traces` appended.
    pub fn new(endpoint: impl Into<String>) -> Self {
        let mut endpoint: String = endpoint.into();
        let path_start = endpoint.find("://").map_or(0, |i| i + 3);
        if !endpoint[path_start..].contains('/') || endpoint.ends_with('/') {
            endpoint = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        }
        OtlpHttpSender {
            endpoint,
            agent: crate::http_client::agent(Duration::from_secs(10)),
            batch_spans: 512,
            spans: Vec::new(),
        }
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Sender for OtlpHttpSender {
    fn append(&mut self, span: Span) -> Result<usize, SendError> {
        self.spans.push(span);
        if self.spans.len() >= self.batch_spans {
            return self.flush();
        }
        Ok(0)
    }

    fn flush(&mut self) -> Result<usize, SendError> {
        let n = self.spans.len();
        if n == 0 {
            return Ok(0);
        }
        let body = clew_codec_otlp::spans_to_request(&self.spans).encode_to_vec();
        self.spans.clear();
        match self
            .agent
            .post(&self.endpoint)
            .set("Content-Type", "application/x-protobuf")
            .send_bytes(&body)
        {
            Ok(_) => Ok(n),
            Err(e) => Err(SendError {
                spans_lost: n,
                kind: SendErrorKind::Http(e.to_string()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_get_the_traces_path() {
        assert_eq!(
            OtlpHttpSender::new("http://h:4318").endpoint(),
            "http://h:4318/v1/traces"
        );
        assert_eq!(
            OtlpHttpSender::new("http://h:4318/").endpoint(),
            "http://h:4318/v1/traces"
        );
        assert_eq!(
            OtlpHttpSender::new("http://h:4318/custom").endpoint(),
            "http://h:4318/custom"
        );
    }
}
