//! The writing half of the protocol abstraction, and where bytes go.

use crate::types::{MessageType, TType};

/// Where a writer puts bytes: a `Vec<u8>`, or a [`ByteCounter`] that only
/// measures, so a sender can size a datagram without encoding it twice.
pub trait Sink {
    /// Appends one byte.
    fn put_u8(&mut self, b: u8);
    /// Appends a run of bytes.
    fn put_slice(&mut self, s: &[u8]);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put_u8(&mut self, b: u8) {
        self.push(b);
    }
    #[inline]
    fn put_slice(&mut self, s: &[u8]) {
        self.extend_from_slice(s);
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    #[inline]
    fn put_u8(&mut self, b: u8) {
        (**self).put_u8(b);
    }
    #[inline]
    fn put_slice(&mut self, s: &[u8]) {
        (**self).put_slice(s);
    }
}

/// A [`Sink`] that counts bytes and stores nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByteCounter(pub usize);

impl Sink for ByteCounter {
    #[inline]
    fn put_u8(&mut self, _b: u8) {
        self.0 += 1;
    }
    #[inline]
    fn put_slice(&mut self, s: &[u8]) {
        self.0 += s.len();
    }
}

/// Writes thrift values. Implemented by [`crate::CompactWriter`] and
/// [`crate::BinaryWriter`] so struct encoders are written once.
///
/// Writing cannot fail. Lengths and counts above `i32::MAX` (which no thrift
/// peer accepts) are clamped, producing a payload readers will reject rather
/// than a panic here.
pub trait ProtocolWriter {
    /// Writes a message envelope.
    fn write_message_begin(&mut self, name: &str, kind: MessageType, seq_id: i32);
    /// Opens a struct.
    fn write_struct_begin(&mut self);
    /// Closes a struct (after [`Self::write_field_stop`]).
    fn write_struct_end(&mut self);
    /// Starts a field; the value follows. For bools the compact protocol folds
    /// the value into the header, so the header is emitted by [`Self::write_bool`].
    fn write_field_begin(&mut self, ttype: TType, id: i16);
    /// Ends the current struct's field list.
    fn write_field_stop(&mut self);
    /// A bool.
    fn write_bool(&mut self, v: bool);
    /// A signed byte.
    fn write_i8(&mut self, v: i8);
    /// A 16-bit integer.
    fn write_i16(&mut self, v: i16);
    /// A 32-bit integer.
    fn write_i32(&mut self, v: i32);
    /// A 64-bit integer.
    fn write_i64(&mut self, v: i64);
    /// A double.
    fn write_double(&mut self, v: f64);
    /// A `binary` value.
    fn write_binary(&mut self, v: &[u8]);
    /// A 16-byte UUID.
    fn write_uuid(&mut self, v: &[u8; 16]);
    /// A list header.
    fn write_list_begin(&mut self, elem: TType, size: usize);
    /// A map header.
    fn write_map_begin(&mut self, key: TType, value: TType, size: usize);

    /// A `string` value.
    fn write_string(&mut self, v: &str) {
        self.write_binary(v.as_bytes());
    }

    /// A set header (same encoding as a list).
    fn write_set_begin(&mut self, elem: TType, size: usize) {
        self.write_list_begin(elem, size);
    }
}

/// Clamps a host size to what a thrift length field can hold.
#[inline]
pub(crate) fn clamp_len(n: usize) -> u32 {
    n.min(i32::MAX as usize) as u32
}
