//! `emitZipkinBatch` on port 5775: the args struct's field 1 is a compact
//! `list<zipkincore.Span>`, which the Zipkin codec decodes.

use bytes::Bytes;
use clew_codec_zipkin::thrift::{Protocol, decode_span_list};
use clew_model::Span;
use clew_thrift::{CompactReader, ProtocolReader, TType};

/// Decodes the spans of an `emitZipkinBatch` call; `args` is a sub-slice of
/// `datagram`, so span strings borrow from it.
pub(crate) fn decode_emit_zipkin_batch_args(
    datagram: &Bytes,
    args: &[u8],
) -> Result<Vec<Span>, String> {
    let mut r = CompactReader::new(args);
    r.read_struct_begin().map_err(|e| e.to_string())?;
    loop {
        let field = r.read_field_begin().map_err(|e| e.to_string())?;
        match field.ttype {
            TType::Stop => return Ok(Vec::new()),
            TType::List if field.id == 1 => {
                return decode_span_list(datagram, r.rest(), Protocol::Compact)
                    .map_err(|e| e.to_string());
            }
            other => r.skip(other).map_err(|e| e.to_string())?,
        }
    }
}
