//! Thrift's binary protocol (Jaeger's HTTP `POST /api/traces` body and UDP 6832).
//!
//! Wire facts used here: fixed-width big-endian integers and doubles, field
//! headers of one type byte and an i16 id, i32 length prefixes, and strict
//! message envelopes starting with version word `0x8001_00tt`. Old
//! non-strict envelopes (name first) are accepted when reading.

mod read;
mod write;

pub use read::BinaryReader;
pub use write::BinaryWriter;

/// High half of a strict binary envelope's first word.
pub(crate) const VERSION_1: u32 = 0x8001_0000;
/// Mask selecting the version bits of that word.
pub(crate) const VERSION_MASK: u32 = 0xffff_0000;

#[cfg(test)]
mod tests;
