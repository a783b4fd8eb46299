//! The segment crate's error type.

/// Why bytes could not be read as a block (or a WAL record).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    /// Fewer bytes than a field or section declares.
    #[error("truncated: {0}")]
    Truncated(&'static str),
    /// A magic number did not match: not a Clew block, or the wrong part of one.
    #[error("bad magic in {0}")]
    BadMagic(&'static str),
    /// A format version this reader does not know.
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u32),
    /// A section's CRC-32C did not match its bytes.
    #[error("checksum mismatch in {0}")]
    Checksum(&'static str),
    /// A value out of range (bad index, bad tag, too deep nesting…).
    #[error("corrupt {0}")]
    Corrupt(&'static str),
    /// Decompression failed.
    #[error("decompression failed: {0}")]
    Decompress(String),
}
