//! The one error type every read in this crate returns.

/// Why a thrift read failed. Every variant carries the byte offset at which
/// the problem was seen, so a user can find it in a hex dump of the payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThriftError {
    /// The input ended in the middle of a value.
    #[error("unexpected end of input at byte {at}: needed {needed} more byte(s)")]
    Eof {
        /// Offset of the value that did not fit.
        at: usize,
        /// How many bytes were missing.
        needed: usize,
    },
    /// A type code that the protocol does not define (or that is not allowed here).
    #[error("invalid thrift type code {code} at byte {at}")]
    InvalidType {
        /// Offset of the type byte.
        at: usize,
        /// The offending code.
        code: u8,
    },
    /// Structs and containers nested deeper than [`crate::MAX_DEPTH`].
    #[error("nesting deeper than {limit} levels at byte {at}")]
    DepthLimit {
        /// Offset where the limit was crossed.
        at: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A length or element count larger than the remaining input could hold.
    #[error("declared size {declared} at byte {at} exceeds the {remaining} byte(s) left")]
    SizeLimit {
        /// Offset of the size field.
        at: usize,
        /// The size the input claimed.
        declared: u64,
        /// Bytes left after the size field.
        remaining: usize,
    },
    /// A negative length or element count (binary protocol sizes are signed).
    #[error("negative size {value} at byte {at}")]
    Negative {
        /// Offset of the size field.
        at: usize,
        /// The value read.
        value: i64,
    },
    /// A varint longer than its type allows.
    #[error("varint too long at byte {at}")]
    VarintOverflow {
        /// Offset of the varint's first byte.
        at: usize,
    },
    /// A message envelope that is not a thrift message of this protocol.
    #[error("bad message header at byte {at}: {reason}")]
    BadMessage {
        /// Offset of the header.
        at: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A string (not binary) value that is not UTF-8.
    #[error("string at byte {at} is not valid UTF-8")]
    InvalidUtf8 {
        /// Offset of the string's bytes.
        at: usize,
    },
}

impl ThriftError {
    /// The byte offset the error refers to.
    pub fn offset(&self) -> usize {
        match *self {
            ThriftError::Eof { at, .. }
            | ThriftError::InvalidType { at, .. }
            | ThriftError::DepthLimit { at, .. }
            | ThriftError::SizeLimit { at, .. }
            | ThriftError::Negative { at, .. }
            | ThriftError::VarintOverflow { at }
            | ThriftError::BadMessage { at, .. }
            | ThriftError::InvalidUtf8 { at } => at,
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, ThriftError>;
