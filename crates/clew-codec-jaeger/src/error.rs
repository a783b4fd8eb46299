//! Why a Jaeger thrift payload could not be decoded.

use clew_thrift::ThriftError;

/// A payload that is not a decodable Jaeger batch or agent message.
///
/// Messages name the byte offset and what was wrong, so a client author can
/// find the problem; the HTTP edge reports them as
/// `Unable to process request body: {error}` with status 400 (as Jaeger does),
/// and the UDP edge counts them as rejected packets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not well-formed thrift of the expected protocol.
    #[error("malformed thrift: {0}")]
    Thrift(#[from] ThriftError),
    /// A field Jaeger requires (and without which the payload means nothing) is absent.
    #[error("missing required field {0}")]
    MissingField(&'static str),
    /// The payload decodes into more than the caller's budget allows.
    #[error("{0}")]
    Budget(#[from] clew_model::BudgetError),
    /// An api_v2 protobuf message whose wire format is broken.
    #[error("invalid protobuf: {0}")]
    BadProtobuf(&'static str),
    /// The datagram's envelope is not one the agent accepts.
    #[error("bad agent message: {0}")]
    BadEnvelope(&'static str),
}
