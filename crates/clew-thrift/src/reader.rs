//! The reading half of the protocol abstraction, and `skip`.

use crate::error::{Result, ThriftError};
use crate::types::{FieldHeader, ListHeader, MapHeader, MessageHeader, TType};

/// How deep structs and containers may nest before a reader gives up.
///
/// Real IDLs nest a handful of levels (Jaeger: Batch → Span → Log → Tag);
/// the limit exists so hostile input cannot exhaust the stack in [`ProtocolReader::skip`].
pub const MAX_DEPTH: usize = 64;

/// Reads thrift values from a borrowed buffer. Both [`crate::CompactReader`]
/// and [`crate::BinaryReader`] implement it, so struct decoders are written once
/// and monomorphised per protocol.
///
/// Strings and binaries come back as slices of the input (`&'a [u8]`), so a
/// caller holding the buffer in `bytes::Bytes` can turn them into owned
/// values with `Bytes::slice_ref` and no copy. Container headers report sizes
/// already checked against the remaining input, so `Vec::with_capacity(size)`
/// is safe.
pub trait ProtocolReader<'a> {
    /// Reads a message envelope (method name, kind, sequence id).
    fn read_message_begin(&mut self) -> Result<MessageHeader<'a>>;
    /// Enters a struct. Fails with [`ThriftError::DepthLimit`] past [`MAX_DEPTH`].
    fn read_struct_begin(&mut self) -> Result<()>;
    /// Leaves a struct (after its `Stop` field was read).
    fn read_struct_end(&mut self);
    /// The next field header; `ttype == TType::Stop` ends the struct.
    fn read_field_begin(&mut self) -> Result<FieldHeader>;
    /// A bool (in the compact protocol, possibly carried by the field header).
    fn read_bool(&mut self) -> Result<bool>;
    /// A signed byte.
    fn read_i8(&mut self) -> Result<i8>;
    /// A 16-bit integer.
    fn read_i16(&mut self) -> Result<i16>;
    /// A 32-bit integer.
    fn read_i32(&mut self) -> Result<i32>;
    /// A 64-bit integer.
    fn read_i64(&mut self) -> Result<i64>;
    /// A double.
    fn read_double(&mut self) -> Result<f64>;
    /// A `binary` or `string` value, borrowed from the input.
    fn read_binary(&mut self) -> Result<&'a [u8]>;
    /// A 16-byte UUID.
    fn read_uuid(&mut self) -> Result<[u8; 16]>;
    /// A list header.
    fn read_list_begin(&mut self) -> Result<ListHeader>;
    /// A map header.
    fn read_map_begin(&mut self) -> Result<MapHeader>;
    /// Bytes consumed so far.
    fn position(&self) -> usize;
    /// Bytes left.
    fn remaining(&self) -> usize;
    /// The unread rest of the input.
    fn rest(&self) -> &'a [u8];

    /// A set header (encoded exactly like a list in both protocols).
    fn read_set_begin(&mut self) -> Result<ListHeader> {
        self.read_list_begin()
    }

    /// A `string` value: like [`Self::read_binary`], but checked to be UTF-8.
    fn read_string(&mut self) -> Result<&'a str> {
        let at = self.position();
        let bytes = self.read_binary()?;
        std::str::from_utf8(bytes).map_err(|_| ThriftError::InvalidUtf8 { at })
    }

    /// Skips one value of type `ttype`, however deeply nested, refusing to go
    /// past [`MAX_DEPTH`]. Used for unknown fields (forward compatibility) and
    /// for known fields that arrive with an unexpected type.
    fn skip(&mut self, ttype: TType) -> Result<()> {
        skip_value(self, ttype, 0)
    }
}

fn skip_value<'a, R: ProtocolReader<'a> + ?Sized>(r: &mut R, t: TType, depth: usize) -> Result<()> {
    if depth >= MAX_DEPTH {
        return Err(ThriftError::DepthLimit {
            at: r.position(),
            limit: MAX_DEPTH,
        });
    }
    match t {
        TType::Stop => {
            return Err(ThriftError::InvalidType {
                at: r.position(),
                code: 0,
            });
        }
        TType::Bool => {
            r.read_bool()?;
        }
        TType::I8 => {
            r.read_i8()?;
        }
        TType::I16 => {
            r.read_i16()?;
        }
        TType::I32 => {
            r.read_i32()?;
        }
        TType::I64 => {
            r.read_i64()?;
        }
        TType::Double => {
            r.read_double()?;
        }
        TType::Binary => {
            r.read_binary()?;
        }
        TType::Uuid => {
            r.read_uuid()?;
        }
        TType::Struct => {
            r.read_struct_begin()?;
            loop {
                let f = r.read_field_begin()?;
                if f.ttype == TType::Stop {
                    break;
                }
                skip_value(r, f.ttype, depth + 1)?;
            }
            r.read_struct_end();
        }
        TType::List | TType::Set => {
            let h = r.read_list_begin()?;
            for _ in 0..h.size {
                skip_value(r, h.elem, depth + 1)?;
            }
        }
        TType::Map => {
            let h = r.read_map_begin()?;
            for _ in 0..h.size {
                skip_value(r, h.key, depth + 1)?;
                skip_value(r, h.value, depth + 1)?;
            }
        }
    }
    Ok(())
}
