//! Where payloads go. Each wire path is one module implementing
//! [`Transport`]; [`TransportKind`] names them on the command line and says
//! how their payloads are encoded and framed, so adding OTLP or Zipkin later
//! means one new module and one new variant.

mod http;
mod udp;

use std::fmt;
use std::str::FromStr;

use clew_codec_jaeger::Protocol;
use clew_model::{Process, Span};

pub use http::HttpThrift;
pub use udp::UdpAgent;

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
}

impl TransportKind {
    /// Every kind, in `--help` order.
    pub const ALL: [TransportKind; 3] = [
        TransportKind::UdpCompact,
        TransportKind::UdpBinary,
        TransportKind::HttpThrift,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::UdpCompact => "udp-compact",
            TransportKind::UdpBinary => "udp-binary",
            TransportKind::HttpThrift => "http-thrift",
        }
    }

    /// Where a default all-in-one listens for this kind.
    pub fn default_target(self) -> &'static str {
        match self {
            TransportKind::UdpCompact => "127.0.0.1:6831",
            TransportKind::UdpBinary => "127.0.0.1:6832",
            TransportKind::HttpThrift => "http://127.0.0.1:14268/api/traces",
        }
    }

    /// How payloads for this kind are encoded.
    pub fn encoding(self) -> Encoding {
        match self {
            TransportKind::UdpCompact => Encoding::AgentMessage(Protocol::Compact),
            TransportKind::UdpBinary => Encoding::AgentMessage(Protocol::Binary),
            TransportKind::HttpThrift => Encoding::BareBatch(Protocol::Binary),
        }
    }

    /// The most bytes one payload may have, if the transport limits it.
    pub fn max_payload_bytes(self) -> Option<usize> {
        match self {
            TransportKind::UdpCompact | TransportKind::UdpBinary => Some(MAX_DATAGRAM_BYTES),
            TransportKind::HttpThrift => None,
        }
    }

    /// Opens a transport to `target` (`host:port`, or a URL for HTTP).
    pub fn connect(self, target: &str) -> Result<Box<dyn Transport>, TransportError> {
        Ok(match self {
            TransportKind::UdpCompact | TransportKind::UdpBinary => {
                Box::new(UdpAgent::connect(target)?)
            }
            TransportKind::HttpThrift => Box::new(HttpThrift::new(target)?),
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
}

impl Encoding {
    /// The thrift protocol used.
    pub fn protocol(self) -> Protocol {
        match self {
            Encoding::AgentMessage(p) | Encoding::BareBatch(p) => p,
        }
    }

    /// Appends the payload for `spans` of `process` to `out`.
    pub fn encode(self, process: &Process, spans: &[Span], seq_id: i32, out: &mut Vec<u8>) {
        match self {
            Encoding::AgentMessage(p) => {
                clew_codec_jaeger::encode_emit_batch_message(process, spans, seq_id, p, out)
            }
            Encoding::BareBatch(p) => clew_codec_jaeger::encode_batch(process, spans, p, out),
        }
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
    }
}
