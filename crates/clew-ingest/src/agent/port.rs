//! The three Jaeger agent UDP ports and what each accepts.

use clew_codec_jaeger::Protocol;

use crate::source::Format;

/// Which agent port a socket serves; decides protocol and accepted methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgentPort {
    /// 5775: compact protocol, `emitZipkinBatch` and (2018-era Jaeger clients) `emitBatch`.
    Compact5775,
    /// 6831: compact protocol `emitBatch` (most Jaeger clients).
    Compact6831,
    /// 6832: binary protocol `emitBatch` (the Node.js client).
    Binary6832,
}

impl AgentPort {
    /// The conventional port number.
    pub fn default_port(self) -> u16 {
        match self {
            AgentPort::Compact5775 => 5775,
            AgentPort::Compact6831 => 6831,
            AgentPort::Binary6832 => 6832,
        }
    }

    /// The conventional port number as text: names the listener in logs and
    /// keys its metrics (which are labelled with the listener's name and the
    /// port it is really bound to).
    pub fn label(self) -> &'static str {
        match self {
            AgentPort::Compact5775 => "5775",
            AgentPort::Compact6831 => "6831",
            AgentPort::Binary6832 => "6832",
        }
    }

    /// Thrift protocol of the datagrams.
    pub fn protocol(self) -> Protocol {
        match self {
            AgentPort::Compact5775 | AgentPort::Compact6831 => Protocol::Compact,
            AgentPort::Binary6832 => Protocol::Binary,
        }
    }

    /// Whether `emitZipkinBatch` is served here.
    pub fn accepts_zipkin(self) -> bool {
        self == AgentPort::Compact5775
    }

    /// The `format` label of `emitBatch` spans from this port.
    pub fn jaeger_format(self) -> Format {
        match self.protocol() {
            Protocol::Compact => Format::JaegerThriftCompact,
            Protocol::Binary => Format::JaegerThriftBinary,
        }
    }
}
