//! OTLP/gRPC: unary `TraceService/Export` calls carrying pre-encoded request
//! bytes, one HTTP/2 connection per worker.
//!
//! The payload is already an encoded `ExportTraceServiceRequest`, so the
//! codec below writes it into the gRPC frame as it is instead of building
//! and re-encoding prost messages per call: that keeps the generator cheap
//! enough not to be the bottleneck. The reply is not decoded either; a
//! non-OK status is the only failure that matters here (the server counts
//! partially rejected spans in its own metrics).
//!
//! gRPC needs HTTP/2 and tonic needs tokio, so each worker owns a
//! single-threaded runtime and blocks on one call at a time, like the other
//! transports.

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use http::uri::PathAndQuery;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::{Channel, Endpoint};

use super::{Transport, TransportError};

/// The gRPC method OTLP trace receivers serve.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// A stuck server should show up as errors, not hang the run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One worker's gRPC client.
#[derive(Debug)]
pub struct OtlpGrpc {
    runtime: tokio::runtime::Runtime,
    grpc: tonic::client::Grpc<Channel>,
    endpoint: String,
}

impl OtlpGrpc {
    /// A client for `target`: `host:port` or `http://host:port`. The
    /// connection is made on the first call, so a dead server shows up as
    /// counted send errors like with the other transports.
    pub fn connect(target: &str) -> Result<Self, TransportError> {
        let endpoint = grpc_endpoint(target)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let channel = Endpoint::from_shared(endpoint.clone())
            .map_err(|e| TransportError::BadTarget {
                target: target.to_string(),
                reason: e.to_string(),
            })?
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true);
        let channel = {
            let _guard = runtime.enter();
            channel.connect_lazy()
        };
        Ok(OtlpGrpc {
            runtime,
            grpc: tonic::client::Grpc::new(channel),
            endpoint,
        })
    }

    /// The endpoint calls go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Transport for OtlpGrpc {
    fn send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        let body = Bytes::copy_from_slice(payload);
        let grpc = &mut self.grpc;
        self.runtime.block_on(async move {
            grpc.ready()
                .await
                .map_err(|e| TransportError::Grpc(e.to_string()))?;
            grpc.unary(
                tonic::Request::new(body),
                PathAndQuery::from_static(EXPORT_PATH),
                RawCodec,
            )
            .await
            .map(|_| ())
            .map_err(|s| TransportError::Grpc(format!("{:?}: {}", s.code(), s.message())))
        })
    }
}

/// Turns `host:port` or `http://host:port[/]` into the endpoint URL.
pub fn grpc_endpoint(target: &str) -> Result<String, TransportError> {
    let bad = |reason: &str| TransportError::BadTarget {
        target: target.to_string(),
        reason: reason.to_string(),
    };
    if target.starts_with("https://") {
        return Err(bad(
            "https is not supported; the benchmark talks to loopback",
        ));
    }
    let rest = target.strip_prefix("http://").unwrap_or(target);
    let hostport = rest.trim_end_matches('/');
    if hostport.is_empty() || hostport.contains('/') {
        return Err(bad("expected host:port or http://host:port"));
    }
    Ok(format!("http://{hostport}"))
}

/// Sends the pre-encoded request as the message; ignores the reply's bytes.
#[derive(Clone, Copy, Debug, Default)]
struct RawCodec;

#[derive(Clone, Copy, Debug, Default)]
struct RawEncoder;

#[derive(Clone, Copy, Debug, Default)]
struct DiscardDecoder;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = ();
    type Encoder = RawEncoder;
    type Decoder = DiscardDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> DiscardDecoder {
        DiscardDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for DiscardDecoder {
    type Item = ();
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, Status> {
        src.advance(src.remaining());
        Ok(Some(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_become_plain_http2_endpoints() {
        let ep = |t| grpc_endpoint(t).expect("valid");
        assert_eq!(ep("127.0.0.1:4317"), "http://127.0.0.1:4317");
        assert_eq!(ep("http://h:1/"), "http://h:1");
        assert!(grpc_endpoint("https://h:1").is_err());
        assert!(grpc_endpoint("http://h:1/v1/traces").is_err());
        assert!(grpc_endpoint("").is_err());
    }

    #[test]
    fn nothing_listening_is_a_send_error_not_a_hang() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let mut client = OtlpGrpc::connect(&format!("127.0.0.1:{port}")).expect("lazy");
        let err = client.send(b"").expect_err("refused");
        assert!(matches!(err, TransportError::Grpc(_)), "{err}");
    }
}
