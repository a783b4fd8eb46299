//! OTLP/gRPC sender: `TraceService/Export` unary calls.
//!
//! gRPC needs HTTP/2, so this sender owns a small single-threaded tokio
//! runtime. It runs only on the reporter's background thread; the span hot
//! path never touches tokio.
//!
//! Requests are the bytes [`super::otlp_rows`] writes straight from span
//! rows; [`EncodedCodec`] hands them to tonic as they are.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut};
use clew_model::{Process, Span};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::{Channel, Endpoint};

use super::otlp_rows::{self, BufferedOtlp, OtlpRequest};
use super::{Appended, SendError, SendErrorKind, Sender};
use crate::reporter::SpanBatch;

/// The gRPC method OTLP receivers serve.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Sends spans to an OTLP/gRPC receiver, e.g. `http://127.0.0.1:4317`.
#[derive(Debug)]
pub struct OtlpGrpcSender {
    runtime: tokio::runtime::Runtime,
    channel: Channel,
    batch_spans: usize,
    request: OtlpRequest,
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
            request: OtlpRequest::default(),
        })
    }
}

impl BufferedOtlp for OtlpGrpcSender {
    fn pending(&mut self) -> (&mut OtlpRequest, usize) {
        (&mut self.request, self.batch_spans)
    }
}

impl Sender for OtlpGrpcSender {
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
        // tonic takes the message by value (it may hold it while sending).
        let mut request = Vec::new();
        self.request.take_into(&mut request);
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        let result = self.runtime.block_on(async move {
            grpc.ready().await.map_err(|e| e.to_string())?;
            let path = http::uri::PathAndQuery::from_static(EXPORT_PATH);
            grpc.unary(tonic::Request::new(request), path, EncodedCodec)
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

/// A gRPC codec for requests already encoded: they are copied into the
/// frame as they are; the response (an `ExportTraceServiceResponse`, whose
/// partial-success details the sender does not use) is skipped.
#[derive(Clone, Copy, Debug, Default)]
struct EncodedCodec;

impl Codec for EncodedCodec {
    type Encode = Vec<u8>;
    type Decode = ();
    type Encoder = EncodedCodec;
    type Decoder = EncodedCodec;

    fn encoder(&mut self) -> Self::Encoder {
        EncodedCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        EncodedCodec
    }
}

impl Encoder for EncodedCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for EncodedCodec {
    type Item = ();
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
        src.advance(src.remaining());
        Ok(Some(()))
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
