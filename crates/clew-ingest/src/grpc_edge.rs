//! What every ingest gRPC service does at its edge, whatever its handler:
//! count each call by status code, and report oversized messages as
//! `RESOURCE_EXHAUSTED`.
//!
//! Both happen outside the handlers because tonic answers some calls itself
//! (bad framing, undecodable protobuf, size limits) before a handler runs.
//! tonic reports an uncompressed message over the limit as OUT_OF_RANGE;
//! gRPC clients and OTLP exporters' retry tables expect RESOURCE_EXHAUSTED,
//! which tonic already uses when *decompression* overflows.

use std::convert::Infallible;
use std::sync::Arc;

use tonic::body::Body as GrpcBody;
use tonic::codegen::{BoxFuture, Context, Poll, Service};
use tonic::server::NamedService;
use tonic::{Code, Status};

use crate::metrics::IngestMetrics;

/// A gRPC service wrapped with call counting and the size-limit status fix.
#[derive(Clone)]
pub struct GrpcEdge<S> {
    inner: S,
    metrics: Arc<IngestMetrics>,
    label: &'static str,
}

impl<S> GrpcEdge<S> {
    /// Wraps `inner`; calls are counted as `service="{label}"`.
    pub(crate) fn new(inner: S, metrics: Arc<IngestMetrics>, label: &'static str) -> Self {
        GrpcEdge {
            inner,
            metrics,
            label,
        }
    }
}

impl<S: NamedService> NamedService for GrpcEdge<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for GrpcEdge<S>
where
    S: Service<http::Request<B>, Response = http::Response<GrpcBody>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<GrpcBody>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let fut = self.inner.call(req);
        let metrics = self.metrics.clone();
        let label = self.label;
        Box::pin(async move {
            let resp = oversize_as_resource_exhausted(fut.await?);
            metrics.record_grpc(label, response_code(&resp));
            Ok(resp)
        })
    }
}

/// The status of a response: errors travel in the headers (trailers-only
/// replies); a reply without `grpc-status` there is a success.
fn response_code(resp: &http::Response<GrpcBody>) -> Code {
    Status::from_header_map(resp.headers()).map_or(Code::Ok, |s| s.code())
}

fn oversize_as_resource_exhausted(resp: http::Response<GrpcBody>) -> http::Response<GrpcBody> {
    match Status::from_header_map(resp.headers()) {
        Some(s) if s.code() == Code::OutOfRange && s.message().contains("too large") => {
            Status::resource_exhausted(s.message().to_string()).into_http()
        }
        _ => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_size_limit_out_of_range_is_rewritten() {
        let resp: http::Response<GrpcBody> = Status::out_of_range(
            "Error, decoded message length too large: found 9 bytes, the limit is: 4 bytes",
        )
        .into_http();
        let fixed = oversize_as_resource_exhausted(resp);
        assert_eq!(response_code(&fixed), Code::ResourceExhausted);

        let other: http::Response<GrpcBody> = Status::out_of_range("offset 7").into_http();
        assert_eq!(
            response_code(&oversize_as_resource_exhausted(other)),
            Code::OutOfRange
        );
        assert_eq!(
            response_code(&http::Response::new(GrpcBody::empty())),
            Code::Ok
        );
    }
}
