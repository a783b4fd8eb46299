//! OTLP/gRPC sender: `TraceService/Export` unary calls.
//!
//! gRPC needs HTTP/2, so this sender owns a small single-threaded tokio
//! runtime. It runs only on the reporter's background thread; the span hot
//! path never touches tokio.

use std::time::Duration;

use clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceResponse;
use clew_model::Span;
use tonic::transport::{Channel, Endpoint};

use super::{SendError, SendErrorKind, Sender};

/// The gRPC method OTLP receivers serve.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Sends spans to an OTLP/gRPC receiver, e.g. `http://127.0.0.1:4317`.
#[derive(Debug)]
pub struct OtlpGrpcSender {
    runtime: tokio::runtime::Runtime,
    channel: Channel,
    batch_spans: usize,
    spans: Vec<Span>,
}

impl OtlpGrpcSender {
    /// A sender to `endpoint` (connects lazily, on the first export).
    pub fn new(endpoint: impl Into<String>) -> Result<Self, SendError> {
        let io = |e: std::io::Error| SendError {
            spans_lost: 0,
            kind: SendErrorKind::Io(e),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(io)?;
        let endpoint = Endpoint::from_shared(endpoint.into())
            .map_err(|e| SendError {
                spans_lost: 0,
                kind: SendErrorKind::Http(e.to_string()),
            })?
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5));
        let channel = {
            let _guard = runtime.enter();
            endpoint.connect_lazy()
        };
        Ok(OtlpGrpcSender {
            runtime,
            channel,
            batch_spans: 512,
            spans: Vec::new(),
        })
    }
}

impl Sender for OtlpGrpcSender {
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
        let request = clew_codec_otlp::spans_to_request(&self.spans);
        self.spans.clear();
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        let result = self.runtime.block_on(async move {
            grpc.ready().await.map_err(|e| e.to_string())?;
            let path = http::uri::PathAndQuery::from_static(EXPORT_PATH);
            grpc.unary::<_, ExportTraceServiceResponse, _>(
                tonic::Request::new(request),
                path,
                tonic_prost::ProstCodec::default(),
            )
            .await
            .map_err(|s| s.to_string())
        });
        match result {
            Ok(_) => Ok(n),
            Err(e) => Err(SendError {
                spans_lost: n,
                kind: SendErrorKind::Http(e),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn unreachable_receiver_is_a_counted_failure_not_a_hang() {
        let mut s = OtlpGrpcSender::new("http://127.0.0.1:1").expect("sender");
        let p = Arc::new(clew_model::Process::new("svc"));
        s.append(Span::new(
            clew_model::TraceId::new(0, 1),
            clew_model::SpanId(1),
            "op",
            p,
        ))
        .expect("append");
        let err = s.flush().expect_err("nothing listens on port 1");
        assert_eq!(err.spans_lost, 1);
        assert!(OtlpGrpcSender::new("not a url").is_err());
    }
}
