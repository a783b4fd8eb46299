//! Errors for payloads that cannot be decoded at all.
//!
//! A payload that decodes but holds bad spans is *not* an error: those spans
//! are counted in [`crate::Rejections`] and the rest are accepted.

/// Why an OTLP payload could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    /// Malformed protobuf (prost path).
    #[error("invalid OTLP protobuf: {0}")]
    Proto(#[from] prost::DecodeError),
    /// Malformed protobuf (zero-copy path): what and where.
    #[error("invalid OTLP protobuf at byte {at}: {reason}")]
    Wire {
        /// Offset in the body.
        at: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// The payload decodes into more than the caller's budget allows.
    #[error("{0}")]
    Budget(#[from] clew_model::BudgetError),
    /// Malformed OTLP/JSON.
    #[error("invalid OTLP JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A JSON field with a value of the right JSON type but a bad form
    /// (an ID that is not hex, bytes that are not base64…).
    #[error("invalid OTLP JSON field {field}: {reason}")]
    JsonField {
        /// Which field.
        field: &'static str,
        /// What was wrong.
        reason: String,
    },
}
