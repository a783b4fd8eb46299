//! Binary protocol writer (strict envelopes).

use super::VERSION_1;
use crate::types::{MessageType, TType};
use crate::writer::{ProtocolWriter, Sink, clamp_len};

/// Writes the binary protocol into a [`Sink`].
#[derive(Debug)]
pub struct BinaryWriter<S: Sink> {
    out: S,
}

impl<S: Sink> BinaryWriter<S> {
    /// A writer appending to `out`.
    pub fn new(out: S) -> Self {
        BinaryWriter { out }
    }

    /// Gives the sink back.
    pub fn into_inner(self) -> S {
        self.out
    }
}

impl<S: Sink> ProtocolWriter for BinaryWriter<S> {
    fn write_message_begin(&mut self, name: &str, kind: MessageType, seq_id: i32) {
        self.out
            .put_slice(&(VERSION_1 | u32::from(kind.code())).to_be_bytes());
        self.write_binary(name.as_bytes());
        self.write_i32(seq_id);
    }

    fn write_struct_begin(&mut self) {}

    fn write_struct_end(&mut self) {}

    fn write_field_begin(&mut self, ttype: TType, id: i16) {
        self.out.put_u8(ttype.binary_code());
        self.write_i16(id);
    }

    fn write_field_stop(&mut self) {
        self.out.put_u8(0);
    }

    fn write_bool(&mut self, v: bool) {
        self.out.put_u8(u8::from(v));
    }

    fn write_i8(&mut self, v: i8) {
        self.out.put_u8(v as u8);
    }

    fn write_i16(&mut self, v: i16) {
        self.out.put_slice(&v.to_be_bytes());
    }

    fn write_i32(&mut self, v: i32) {
        self.out.put_slice(&v.to_be_bytes());
    }

    fn write_i64(&mut self, v: i64) {
        self.out.put_slice(&v.to_be_bytes());
    }

    fn write_double(&mut self, v: f64) {
        self.out.put_slice(&v.to_be_bytes());
    }

    fn write_binary(&mut self, v: &[u8]) {
        let len = clamp_len(v.len());
        self.out.put_slice(&len.to_be_bytes());
        self.out.put_slice(&v[..len as usize]);
    }

    fn write_uuid(&mut self, v: &[u8; 16]) {
        self.out.put_slice(v);
    }

    fn write_list_begin(&mut self, elem: TType, size: usize) {
        self.out.put_u8(elem.binary_code());
        self.out.put_slice(&clamp_len(size).to_be_bytes());
    }

    fn write_map_begin(&mut self, key: TType, value: TType, size: usize) {
        self.out.put_u8(key.binary_code());
        self.out.put_u8(value.binary_code());
        self.out.put_slice(&clamp_len(size).to_be_bytes());
    }
}
