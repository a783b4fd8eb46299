//! Where payloads go. Each wire path is one module implementing
//! [`Transport`]; [`TransportKind`] names them on the command line and says
//! how their payloads are encoded and framed, so adding a protocol means one
//! new module and one new variant.

mod http;
mod otlp_grpc;
mod otlp_http;
mod udp;
mod zipkin;

use std::fmt;
use std::str::FromStr;

use clew_codec_jaeger::Protocol;
use clew_model::{Process, Span};
use prost::Message;

use crate::patch::IdForm;
use crate::timepatch::TimeForm;

pub use http::{HttpPost, HttpThrift, collector_url, post_url};
pub use otlp_grpc::{EXPORT_PATH, OtlpGrpc};
pub use otlp_http::{OTLP_TRACES_PATH, PROTOBUF_CONTENT_TYPE, otlp_http};
pub use udp::UdpAgent;
pub use zipkin::{JSON_CONTENT_TYPE, ZIPKIN_SPANS_PATH, zipkin_json, zipkin_proto};

/// The largest datagram Jaeger clients and agents use.
pub const MAX_DATAGRAM_BYTES: usize = 65_000;

/// Sends one pre-encoded payload at a time. One instance per worker, so an
/// implementation may hold a connection and needs no locking.
pub trait Transport: Send {
    /// Sends one payload; `Ok` means the peer (or, for UDP, the kernel) took it.
    fn send(&mut self, payload: &[u8]) -> Result<(), TransportError>;
}

/// Why a payload was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The target could not be parsed or resolved.
    #[error("bad target {target:?}: {reason}")]
    BadTarget {
        /// What the user gave.
        target: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A socket operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server answered with a non-success status.
    #[error("HTTP status {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the response body, for the error log.
        body: String,
    },
    /// The HTTP exchange failed below the status line.
    #[error("HTTP: {0}")]
    Http(String),
    /// The gRPC call failed (transport error or a non-OK status).
    #[error("gRPC: {0}")]
    Grpc(String),
}

/// The wire paths the generator can load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// Agent UDP, thrift compact `emitBatch` (port 6831).
    UdpCompact,
    /// Agent UDP, thrift binary `emitBatch` (port 6832).
    UdpBinary,
    /// Collector HTTP `POST /api/traces`, thrift binary `Batch` (port 14268).
    HttpThrift,
    /// OTLP gRPC `TraceService/Export` (port 4317).
    OtlpGrpc,
    /// OTLP HTTP `POST /v1/traces`, `application/x-protobuf` (port 4318).
    OtlpHttp,
    /// Zipkin `POST /api/v2/spans`, v2 JSON (port 9411).
    ZipkinJson,
    /// Zipkin `POST /api/v2/spans`, proto3 `ListOfSpans` (port 9411).
    ZipkinProto,
}

impl TransportKind {
    /// Every kind, in `--help` order.
    pub const ALL: [TransportKind; 7] = [
        TransportKind::UdpCompact,
        TransportKind::UdpBinary,
        TransportKind::HttpThrift,
        TransportKind::OtlpGrpc,
        TransportKind::OtlpHttp,
        TransportKind::ZipkinJson,
        TransportKind::ZipkinProto,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::UdpCompact => "udp-compact",
            TransportKind::UdpBinary => "udp-binary",
            TransportKind::HttpThrift => "http-thrift",
            TransportKind::OtlpGrpc => "otlp-grpc",
            TransportKind::OtlpHttp => "otlp-http",
            TransportKind::ZipkinJson => "zipkin-json",
            TransportKind::ZipkinProto => "zipkin-proto",
        }
    }

    /// Where a default all-in-one listens for this kind.
    pub fn default_target(self) -> &'static str {
        match self {
            TransportKind::UdpCompact => "127.0.0.1:6831",
            TransportKind::UdpBinary => "127.0.0.1:6832",
            TransportKind::HttpThrift => "http://127.0.0.1:14268/api/traces",
            TransportKind::OtlpGrpc => "http://127.0.0.1:4317",
            TransportKind::OtlpHttp => "http://127.0.0.1:4318/v1/traces",
            TransportKind::ZipkinJson | TransportKind::ZipkinProto => {
                "http://127.0.0.1:9411/api/v2/spans"
            }
        }
    }

    /// How payloads for this kind are encoded.
    pub fn encoding(self) -> Encoding {
        match self {
            TransportKind::UdpCompact => Encoding::AgentMessage(Protocol::Compact),
            TransportKind::UdpBinary => Encoding::AgentMessage(Protocol::Binary),
            TransportKind::HttpThrift => Encoding::BareBatch(Protocol::Binary),
            TransportKind::OtlpGrpc | TransportKind::OtlpHttp => Encoding::OtlpProto,
            TransportKind::ZipkinJson => Encoding::ZipkinJson,
            TransportKind::ZipkinProto => Encoding::ZipkinProto,
        }
    }

    /// The most bytes one payload may have, if the transport limits it.
    pub fn max_payload_bytes(self) -> Option<usize> {
        match self {
            TransportKind::UdpCompact | TransportKind::UdpBinary => Some(MAX_DATAGRAM_BYTES),
            _ => None,
        }
    }

    /// Opens a transport to `target` (`host:port`, or a URL for HTTP).
    pub fn connect(self, target: &str) -> Result<Box<dyn Transport>, TransportError> {
        Ok(match self {
            TransportKind::UdpCompact | TransportKind::UdpBinary => {
                Box::new(UdpAgent::connect(target)?)
            }
            TransportKind::HttpThrift => Box::new(HttpThrift::new(target)?),
            TransportKind::OtlpGrpc => Box::new(OtlpGrpc::connect(target)?),
            TransportKind::OtlpHttp => Box::new(otlp_http(target)?),
            TransportKind::ZipkinJson => Box::new(zipkin_json(target)?),
            TransportKind::ZipkinProto => Box::new(zipkin_proto(target)?),
        })
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TransportKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TransportKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = TransportKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown transport {s:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// How spans become one payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// An agent datagram: thrift message `emitBatch` (oneway) around a `Batch`.
    AgentMessage(Protocol),
    /// A bare thrift `Batch`, as `POST /api/traces` takes it.
    BareBatch(Protocol),
    /// An OTLP `ExportTraceServiceRequest` in protobuf (gRPC message or HTTP body).
    OtlpProto,
    /// A Zipkin v2 JSON array of spans.
    ZipkinJson,
    /// A Zipkin proto3 `ListOfSpans`.
    ZipkinProto,
}

/// An encoder refused the spans (only Zipkin JSON can, through serde).
#[derive(Debug, thiserror::Error)]
#[error("cannot encode payload: {0}")]
pub struct EncodeError(String);

impl Encoding {
    /// The thrift protocol used, for the thrift encodings.
    pub fn protocol(self) -> Option<Protocol> {
        match self {
            Encoding::AgentMessage(p) | Encoding::BareBatch(p) => Some(p),
            Encoding::OtlpProto | Encoding::ZipkinJson | Encoding::ZipkinProto => None,
        }
    }

    /// How trace IDs look in this encoding, for [`crate::patch`].
    pub fn id_form(self) -> IdForm {
        match self {
            Encoding::AgentMessage(Protocol::Compact) | Encoding::BareBatch(Protocol::Compact) => {
                IdForm::ZigzagVarint
            }
            Encoding::AgentMessage(Protocol::Binary)
            | Encoding::BareBatch(Protocol::Binary)
            | Encoding::OtlpProto
            | Encoding::ZipkinProto => IdForm::BigEndian,
            Encoding::ZipkinJson => IdForm::Hex,
        }
    }

    /// How span times look in this encoding, for [`crate::timepatch`].
    pub fn time_form(self) -> TimeForm {
        match self {
            Encoding::AgentMessage(Protocol::Compact) | Encoding::BareBatch(Protocol::Compact) => {
                TimeForm::CompactMicros
            }
            Encoding::AgentMessage(Protocol::Binary) | Encoding::BareBatch(Protocol::Binary) => {
                TimeForm::BigEndianMicros
            }
            Encoding::OtlpProto => TimeForm::Fixed64Nanos,
            Encoding::ZipkinProto => TimeForm::Fixed64Micros,
            Encoding::ZipkinJson => TimeForm::DecimalMicros,
        }
    }

    /// Appends the payload for `spans` to `out`. The thrift encodings write
    /// `process` once per batch; OTLP and Zipkin take each span's own process.
    pub fn encode(
        self,
        process: &Process,
        spans: &[Span],
        seq_id: i32,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        match self {
            Encoding::AgentMessage(p) => {
                clew_codec_jaeger::encode_emit_batch_message(process, spans, seq_id, p, out)
            }
            Encoding::BareBatch(p) => clew_codec_jaeger::encode_batch(process, spans, p, out),
            Encoding::OtlpProto => {
                let request = clew_codec_otlp::spans_to_request(spans);
                // Encoding into a Vec only fails when it lacks capacity, which it grows.
                request
                    .encode(out)
                    .map_err(|e| EncodeError(e.to_string()))?;
            }
            Encoding::ZipkinJson => clew_codec_zipkin::json_v2::encode(spans, out)
                .map_err(|e| EncodeError(e.to_string()))?,
            Encoding::ZipkinProto => clew_codec_zipkin::proto_v2::encode(spans, out),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for k in TransportKind::ALL {
            assert_eq!(k.name().parse::<TransportKind>(), Ok(k));
        }
        let err = "otlp".parse::<TransportKind>().expect_err("unknown");
        assert!(
            err.contains("udp-compact") && err.contains("http-thrift"),
            "{err}"
        );
    }

    #[test]
    fn udp_kinds_are_capped_at_one_datagram() {
        assert_eq!(TransportKind::UdpCompact.max_payload_bytes(), Some(65_000));
        assert_eq!(TransportKind::HttpThrift.max_payload_bytes(), None);
        assert_eq!(
            TransportKind::HttpThrift.encoding(),
            Encoding::BareBatch(Protocol::Binary)
        );
        assert_eq!(TransportKind::OtlpGrpc.max_payload_bytes(), None);
    }

    #[test]
    fn new_kinds_pick_their_encoding_and_id_form() {
        use TransportKind as K;
        assert_eq!(K::OtlpGrpc.encoding(), Encoding::OtlpProto);
        assert_eq!(K::OtlpHttp.encoding(), Encoding::OtlpProto);
        assert_eq!(K::ZipkinJson.encoding().id_form(), IdForm::Hex);
        assert_eq!(K::ZipkinProto.encoding().id_form(), IdForm::BigEndian);
        assert_eq!(K::UdpCompact.encoding().id_form(), IdForm::ZigzagVarint);
        assert_eq!(K::OtlpGrpc.encoding().protocol(), None);
        assert_eq!(K::OtlpGrpc.default_target(), "http://127.0.0.1:4317");
    }
}
