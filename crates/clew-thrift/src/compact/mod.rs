//! Thrift's compact protocol (what Jaeger clients send to UDP 6831 and 5775).
//!
//! Wire facts used here: integers are zigzag varints, field headers carry a
//! 4-bit id delta and a 4-bit type (bool values ride in the type), lists put
//! sizes below 15 in the header nibble, doubles are little-endian, and a
//! message starts with protocol id `0x82` and version 1.

mod read;
mod write;

pub use read::CompactReader;
pub use write::CompactWriter;

/// First byte of every compact message envelope.
pub(crate) const PROTOCOL_ID: u8 = 0x82;
/// The only compact protocol version.
pub(crate) const VERSION: u8 = 1;
/// Field-header type nibble for a `true` bool field.
pub(crate) const BOOL_TRUE: u8 = 1;
/// Field-header type nibble for a `false` bool field.
pub(crate) const BOOL_FALSE: u8 = 2;

#[inline]
pub(crate) fn zigzag_decode_32(n: u32) -> i32 {
    ((n >> 1) as i32) ^ -((n & 1) as i32)
}

#[inline]
pub(crate) fn zigzag_decode_64(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

#[inline]
pub(crate) fn zigzag_encode_32(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

#[inline]
pub(crate) fn zigzag_encode_64(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

#[cfg(test)]
mod tests;
