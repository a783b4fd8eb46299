//! Where a batch of spans came from: the transport and the wire format.
//!
//! Every counter on the ingest path is labelled with these two, so an operator
//! can tell "the Node clients on 6832 are being dropped" from "OTLP is fine".

use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};
use std::fmt::Write;

/// The network path a batch arrived on (`transport` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Agent-style UDP datagrams.
    Udp,
    /// HTTP request bodies.
    Http,
    /// gRPC calls.
    Grpc,
}

impl Transport {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Http => "http",
            Transport::Grpc => "grpc",
        }
    }
}

/// The encoding a batch arrived in (`format` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `jaeger.thrift` Batch, compact protocol.
    JaegerThriftCompact,
    /// `jaeger.thrift` Batch, binary protocol.
    JaegerThriftBinary,
    /// `zipkincore.thrift` span list.
    ZipkinThrift,
    /// Zipkin v1/v2 JSON.
    ZipkinJson,
    /// Zipkin proto3.
    ZipkinProto,
    /// Jaeger api_v2 protobuf.
    JaegerProto,
    /// OTLP protobuf.
    OtlpProto,
    /// OTLP JSON.
    OtlpJson,
}

impl Format {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::JaegerThriftCompact => "jaeger-thrift-compact",
            Format::JaegerThriftBinary => "jaeger-thrift-binary",
            Format::ZipkinThrift => "zipkin-thrift",
            Format::ZipkinJson => "zipkin-json",
            Format::ZipkinProto => "zipkin-proto",
            Format::JaegerProto => "jaeger-proto",
            Format::OtlpProto => "otlp-proto",
            Format::OtlpJson => "otlp-json",
        }
    }
}

/// Transport and format of one submitted batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    /// How it arrived.
    pub transport: Transport,
    /// How it was encoded.
    pub format: Format,
}

impl Source {
    /// Shorthand constructor.
    pub const fn new(transport: Transport, format: Format) -> Self {
        Source { transport, format }
    }
}

impl EncodeLabelValue for Transport {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

impl EncodeLabelValue for Format {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}
