//! Zero-copy compact protocol reader.

use super::{BOOL_TRUE, PROTOCOL_ID, VERSION, zigzag_decode_32, zigzag_decode_64};
use crate::cursor::{Cursor, compact_min_size};
use crate::error::{Result, ThriftError};
use crate::reader::{MAX_DEPTH, ProtocolReader};
use crate::types::{FieldHeader, ListHeader, MapHeader, MessageHeader, MessageType, TType};

/// Reads the compact protocol from a borrowed buffer without allocating.
///
/// Field ids are delta-encoded relative to the previous field of the same
/// struct, so the reader keeps one saved id per open struct in a fixed array
/// of [`MAX_DEPTH`] slots.
#[derive(Clone, Debug)]
pub struct CompactReader<'a> {
    cur: Cursor<'a>,
    last_field: i16,
    saved: [i16; MAX_DEPTH],
    depth: usize,
    pending_bool: Option<bool>,
}

impl<'a> CompactReader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        CompactReader {
            cur: Cursor::new(buf),
            last_field: 0,
            saved: [0; MAX_DEPTH],
            depth: 0,
            pending_bool: None,
        }
    }

    #[inline]
    fn varint32(&mut self) -> Result<u32> {
        Ok(self.cur.varint(5)? as u32)
    }

    fn elem_type(&mut self, code: u8) -> Result<TType> {
        match TType::from_compact_code(code) {
            Some(TType::Stop) | None => Err(ThriftError::InvalidType {
                at: self.cur.pos().saturating_sub(1),
                code,
            }),
            Some(t) => Ok(t),
        }
    }
}

impl<'a> ProtocolReader<'a> for CompactReader<'a> {
    fn read_message_begin(&mut self) -> Result<MessageHeader<'a>> {
        let at = self.cur.pos();
        if self.cur.byte()? != PROTOCOL_ID {
            return Err(ThriftError::BadMessage {
                at,
                reason: "not a compact protocol message (first byte is not 0x82)",
            });
        }
        let vt = self.cur.byte()?;
        if vt & 0x1f != VERSION {
            return Err(ThriftError::BadMessage {
                at: at + 1,
                reason: "unsupported compact protocol version",
            });
        }
        let kind = MessageType::from_code(vt >> 5).ok_or(ThriftError::BadMessage {
            at: at + 1,
            reason: "unknown message type",
        })?;
        // The sequence id is a plain (not zigzag) varint in compact envelopes.
        let seq_id = self.varint32()? as i32;
        let name = self.read_binary()?;
        Ok(MessageHeader { name, kind, seq_id })
    }

    fn read_struct_begin(&mut self) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return Err(ThriftError::DepthLimit {
                at: self.cur.pos(),
                limit: MAX_DEPTH,
            });
        }
        self.saved[self.depth] = self.last_field;
        self.depth += 1;
        self.last_field = 0;
        Ok(())
    }

    fn read_struct_end(&mut self) {
        if self.depth > 0 {
            self.depth -= 1;
            self.last_field = self.saved[self.depth];
        }
    }

    #[inline]
    fn read_field_begin(&mut self) -> Result<FieldHeader> {
        self.pending_bool = None;
        let at = self.cur.pos();
        let b = self.cur.byte()?;
        if b == 0 {
            return Ok(FieldHeader {
                ttype: TType::Stop,
                id: 0,
            });
        }
        let code = b & 0x0f;
        let ttype = match TType::from_compact_code(code) {
            Some(TType::Stop) | None => return Err(ThriftError::InvalidType { at, code }),
            Some(t) => t,
        };
        let delta = (b >> 4) as i16;
        let id = if delta == 0 {
            self.read_i16()?
        } else {
            self.last_field.wrapping_add(delta)
        };
        if ttype == TType::Bool {
            self.pending_bool = Some(code == BOOL_TRUE);
        }
        self.last_field = id;
        Ok(FieldHeader { ttype, id })
    }

    #[inline]
    fn read_bool(&mut self) -> Result<bool> {
        match self.pending_bool.take() {
            Some(v) => Ok(v),
            None => Ok(self.cur.byte()? == BOOL_TRUE),
        }
    }

    #[inline]
    fn read_i8(&mut self) -> Result<i8> {
        Ok(self.cur.byte()? as i8)
    }

    #[inline]
    fn read_i16(&mut self) -> Result<i16> {
        Ok(zigzag_decode_32(self.cur.varint(3)? as u32) as i16)
    }

    #[inline]
    fn read_i32(&mut self) -> Result<i32> {
        Ok(zigzag_decode_32(self.varint32()?))
    }

    #[inline]
    fn read_i64(&mut self) -> Result<i64> {
        Ok(zigzag_decode_64(self.cur.varint(10)?))
    }

    #[inline]
    fn read_double(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.cur.array::<8>()?))
    }

    #[inline]
    fn read_binary(&mut self) -> Result<&'a [u8]> {
        let at = self.cur.pos();
        let len = self.varint32()?;
        let len = self.cur.check_count(at, u64::from(len), 1)?;
        self.cur.take(len)
    }

    fn read_uuid(&mut self) -> Result<[u8; 16]> {
        self.cur.array::<16>()
    }

    #[inline]
    fn read_list_begin(&mut self) -> Result<ListHeader> {
        let at = self.cur.pos();
        let b = self.cur.byte()?;
        let elem = self.elem_type(b & 0x0f)?;
        let short = u32::from(b >> 4);
        let size = if short == 15 { self.varint32()? } else { short };
        let size = self
            .cur
            .check_count(at, u64::from(size), compact_min_size(elem))?;
        Ok(ListHeader { elem, size })
    }

    fn read_map_begin(&mut self) -> Result<MapHeader> {
        let at = self.cur.pos();
        let size = self.varint32()?;
        if size == 0 {
            // An empty map has no type byte; report harmless placeholder types.
            return Ok(MapHeader {
                key: TType::I8,
                value: TType::I8,
                size: 0,
            });
        }
        let kv = self.cur.byte()?;
        let key = self.elem_type(kv >> 4)?;
        let value = self.elem_type(kv & 0x0f)?;
        let min = compact_min_size(key) + compact_min_size(value);
        let size = self.cur.check_count(at, u64::from(size), min)?;
        Ok(MapHeader { key, value, size })
    }

    fn position(&self) -> usize {
        self.cur.pos()
    }

    fn remaining(&self) -> usize {
        self.cur.remaining()
    }

    fn rest(&self) -> &'a [u8] {
        self.cur.rest()
    }
}
