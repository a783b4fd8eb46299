//! The error every Zipkin decoder returns.

use clew_model::IdParseError;

/// Why a Zipkin payload could not be decoded. A payload is decoded whole or
/// not at all: Zipkin has no partial-success reply, so the edge answers 400
/// with [`ZipkinError`]'s text.
#[derive(Debug, thiserror::Error)]
pub enum ZipkinError {
    /// The JSON body is not valid JSON or does not have Zipkin's shape.
    #[error("invalid Zipkin JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The protobuf body is not a `zipkin.proto3.ListOfSpans`.
    #[error("invalid Zipkin protobuf: {0}")]
    Proto(#[from] prost::DecodeError),
    /// The thrift body is not a `list<zipkincore.Span>`.
    #[error("invalid Zipkin thrift: {0}")]
    Thrift(#[from] clew_thrift::ThriftError),
    /// A trace, span or parent ID is malformed.
    #[error("invalid {field} {value:?}: {source}")]
    Id {
        /// Which ID (`traceId`, `id`, `parentId`).
        field: &'static str,
        /// The offending text (hex forms) or a description of the bytes.
        value: String,
        /// What was wrong with it.
        source: IdParseError,
    },
    /// The payload decodes into more than the caller's budget allows.
    #[error("{0}")]
    Budget(#[from] clew_model::BudgetError),
    /// A string field that must be UTF-8 is not.
    #[error("{field} is not valid UTF-8")]
    Utf8 {
        /// Which field.
        field: &'static str,
    },
    /// An IP address that is neither in its text form nor 4/16 bytes long.
    #[error("invalid {field} address {value:?}")]
    Address {
        /// `ipv4` or `ipv6`.
        field: &'static str,
        /// The offending value.
        value: String,
    },
    /// A field whose value has the wrong type or range.
    #[error("invalid {field}: {reason}")]
    Field {
        /// Which field.
        field: &'static str,
        /// What was wrong.
        reason: String,
    },
}
