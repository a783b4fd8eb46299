//! OTLP/HTTP sender: protobuf `ExportTraceServiceRequest` to `/v1/traces`.
//!
//! Batches from the reporter are encoded row by row straight into the
//! request's bytes ([`super::otlp_rows`]), without model spans.

use std::sync::Arc;
use std::time::Duration;

use clew_model::{Process, Span};

use super::otlp_rows::{self, BufferedOtlp, OtlpRequest};
use super::{Appended, SendError, SendErrorKind, Sender};
use crate::reporter::SpanBatch;

/// Posts spans as OTLP protobuf (`Content-Type: application/x-protobuf`) to
/// an OTLP/HTTP receiver, e.g. `http://127.0.0.1:4318/v1/traces`.
#[derive(Debug)]
pub struct OtlpHttpSender {
    endpoint: String,
    agent: ureq::Agent,
    batch_spans: usize,
    request: OtlpRequest,
    body: Vec<u8>,
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
            request: OtlpRequest::default(),
            body: Vec::new(),
        }
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl BufferedOtlp for OtlpHttpSender {
    fn pending(&mut self) -> (&mut OtlpRequest, usize) {
        (&mut self.request, self.batch_spans)
    }
}

impl Sender for OtlpHttpSender {
    fn append(&mut self, span: Span) -> Result<usize, SendError> {
        otlp_rows::append_span(self, &span)
    }

    fn append_batch(&mut self, batch: &SpanBatch, process: &Arc<Process>) -> Appended {
        otlp_rows::append_rows(self, batch, process)
    }

    fn flush(&mut self) -> Result<usize, SendError> {
        let n = self.request.len();
        if n == 0 {
            return Ok(0);
        }
        self.body.clear();
        self.request.take_into(&mut self.body);
        match self
            .agent
            .post(&self.endpoint)
            .set("Content-Type", "application/x-protobuf")
            .send_bytes(&self.body)
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
