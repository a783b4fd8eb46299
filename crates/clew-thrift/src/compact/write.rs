//! Compact protocol writer.

use super::{BOOL_FALSE, BOOL_TRUE, PROTOCOL_ID, VERSION, zigzag_encode_32, zigzag_encode_64};
use crate::types::{MessageType, TType};
use crate::writer::{ProtocolWriter, Sink, clamp_len};

/// Writes the compact protocol into a [`Sink`] (`&mut Vec<u8>` or a
/// [`crate::ByteCounter`]).
#[derive(Debug)]
pub struct CompactWriter<S: Sink> {
    out: S,
    last_field: i16,
    saved: Vec<i16>,
    pending_bool_field: Option<i16>,
}

impl<S: Sink> CompactWriter<S> {
    /// A writer appending to `out`.
    pub fn new(out: S) -> Self {
        CompactWriter {
            out,
            last_field: 0,
            saved: Vec::new(),
            pending_bool_field: None,
        }
    }

    /// Gives the sink back (for a [`crate::ByteCounter`], the count).
    pub fn into_inner(self) -> S {
        self.out
    }

    #[inline]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.put_u8((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.put_u8(v as u8);
    }

    fn field_header(&mut self, code: u8, id: i16) {
        let delta = i32::from(id) - i32::from(self.last_field);
        if (1..=15).contains(&delta) {
            self.out.put_u8(((delta as u8) << 4) | code);
        } else {
            self.out.put_u8(code);
            self.varint(u64::from(zigzag_encode_32(i32::from(id))));
        }
        self.last_field = id;
    }
}

impl<S: Sink> ProtocolWriter for CompactWriter<S> {
    fn write_message_begin(&mut self, name: &str, kind: MessageType, seq_id: i32) {
        self.out.put_u8(PROTOCOL_ID);
        self.out.put_u8((kind.code() << 5) | VERSION);
        self.varint(u64::from(seq_id as u32));
        self.write_binary(name.as_bytes());
    }

    fn write_struct_begin(&mut self) {
        self.saved.push(self.last_field);
        self.last_field = 0;
    }

    fn write_struct_end(&mut self) {
        self.last_field = self.saved.pop().unwrap_or(0);
    }

    fn write_field_begin(&mut self, ttype: TType, id: i16) {
        if ttype == TType::Bool {
            self.pending_bool_field = Some(id);
        } else {
            self.field_header(ttype.compact_code(), id);
        }
    }

    fn write_field_stop(&mut self) {
        self.out.put_u8(0);
    }

    fn write_bool(&mut self, v: bool) {
        let code = if v { BOOL_TRUE } else { BOOL_FALSE };
        match self.pending_bool_field.take() {
            Some(id) => self.field_header(code, id),
            None => self.out.put_u8(code),
        }
    }

    fn write_i8(&mut self, v: i8) {
        self.out.put_u8(v as u8);
    }

    fn write_i16(&mut self, v: i16) {
        self.varint(u64::from(zigzag_encode_32(i32::from(v))));
    }

    fn write_i32(&mut self, v: i32) {
        self.varint(u64::from(zigzag_encode_32(v)));
    }

    fn write_i64(&mut self, v: i64) {
        self.varint(zigzag_encode_64(v));
    }

    fn write_double(&mut self, v: f64) {
        self.out.put_slice(&v.to_le_bytes());
    }

    fn write_binary(&mut self, v: &[u8]) {
        let len = clamp_len(v.len());
        self.varint(u64::from(len));
        self.out.put_slice(&v[..len as usize]);
    }

    fn write_uuid(&mut self, v: &[u8; 16]) {
        self.out.put_slice(v);
    }

    fn write_list_begin(&mut self, elem: TType, size: usize) {
        let size = clamp_len(size);
        if size < 15 {
            self.out.put_u8(((size as u8) << 4) | elem.compact_code());
        } else {
            self.out.put_u8(0xf0 | elem.compact_code());
            self.varint(u64::from(size));
        }
    }

    fn write_map_begin(&mut self, key: TType, value: TType, size: usize) {
        let size = clamp_len(size);
        self.varint(u64::from(size));
        if size > 0 {
            self.out
                .put_u8((key.compact_code() << 4) | value.compact_code());
        }
    }
}
