//! Zero-copy binary protocol reader.

use super::{VERSION_1, VERSION_MASK};
use crate::cursor::{Cursor, binary_min_size};
use crate::error::{Result, ThriftError};
use crate::reader::{MAX_DEPTH, ProtocolReader};
use crate::types::{FieldHeader, ListHeader, MapHeader, MessageHeader, MessageType, TType};

/// Reads the binary protocol from a borrowed buffer without allocating.
#[derive(Clone, Debug)]
pub struct BinaryReader<'a> {
    cur: Cursor<'a>,
    depth: usize,
}

impl<'a> BinaryReader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        BinaryReader {
            cur: Cursor::new(buf),
            depth: 0,
        }
    }

    fn ttype(&mut self) -> Result<TType> {
        let at = self.cur.pos();
        let code = self.cur.byte()?;
        match TType::from_binary_code(code) {
            Some(TType::Stop) | None => Err(ThriftError::InvalidType { at, code }),
            Some(t) => Ok(t),
        }
    }

    /// A non-negative i32 count, checked against what can still follow.
    fn count(&mut self, min_each: usize) -> Result<usize> {
        let at = self.cur.pos();
        let n = self.read_i32()?;
        if n < 0 {
            return Err(ThriftError::Negative {
                at,
                value: i64::from(n),
            });
        }
        self.cur.check_count(at, n as u64, min_each)
    }
}

impl<'a> ProtocolReader<'a> for BinaryReader<'a> {
    fn read_message_begin(&mut self) -> Result<MessageHeader<'a>> {
        let at = self.cur.pos();
        let first = self.read_i32()? as u32;
        if first & 0x8000_0000 != 0 {
            if first & VERSION_MASK != VERSION_1 {
                return Err(ThriftError::BadMessage {
                    at,
                    reason: "unsupported binary protocol version",
                });
            }
            let kind =
                MessageType::from_code((first & 0xff) as u8).ok_or(ThriftError::BadMessage {
                    at,
                    reason: "unknown message type",
                })?;
            let name = self.read_binary()?;
            let seq_id = self.read_i32()?;
            Ok(MessageHeader { name, kind, seq_id })
        } else {
            // Old non-strict form: the first word is the name's length.
            let len = self.cur.check_count(at, u64::from(first), 1)?;
            let name = self.cur.take(len)?;
            let code = self.cur.byte()?;
            let kind = MessageType::from_code(code).ok_or(ThriftError::BadMessage {
                at,
                reason: "unknown message type",
            })?;
            let seq_id = self.read_i32()?;
            Ok(MessageHeader { name, kind, seq_id })
        }
    }

    fn read_struct_begin(&mut self) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return Err(ThriftError::DepthLimit {
                at: self.cur.pos(),
                limit: MAX_DEPTH,
            });
        }
        self.depth += 1;
        Ok(())
    }

    fn read_struct_end(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    #[inline]
    fn read_field_begin(&mut self) -> Result<FieldHeader> {
        let at = self.cur.pos();
        let code = self.cur.byte()?;
        if code == 0 {
            return Ok(FieldHeader {
                ttype: TType::Stop,
                id: 0,
            });
        }
        let ttype = TType::from_binary_code(code).ok_or(ThriftError::InvalidType { at, code })?;
        let id = self.read_i16()?;
        Ok(FieldHeader { ttype, id })
    }

    #[inline]
    fn read_bool(&mut self) -> Result<bool> {
        Ok(self.cur.byte()? == 1)
    }

    #[inline]
    fn read_i8(&mut self) -> Result<i8> {
        Ok(self.cur.byte()? as i8)
    }

    #[inline]
    fn read_i16(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(self.cur.array::<2>()?))
    }

    #[inline]
    fn read_i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.cur.array::<4>()?))
    }

    #[inline]
    fn read_i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.cur.array::<8>()?))
    }

    #[inline]
    fn read_double(&mut self) -> Result<f64> {
        Ok(f64::from_be_bytes(self.cur.array::<8>()?))
    }

    #[inline]
    fn read_binary(&mut self) -> Result<&'a [u8]> {
        let len = self.count(1)?;
        self.cur.take(len)
    }

    fn read_uuid(&mut self) -> Result<[u8; 16]> {
        self.cur.array::<16>()
    }

    #[inline]
    fn read_list_begin(&mut self) -> Result<ListHeader> {
        let elem = self.ttype()?;
        let size = self.count(binary_min_size(elem))?;
        Ok(ListHeader { elem, size })
    }

    fn read_map_begin(&mut self) -> Result<MapHeader> {
        let key = self.ttype()?;
        let value = self.ttype()?;
        let size = self.count(binary_min_size(key) + binary_min_size(value))?;
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
