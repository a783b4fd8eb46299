//! The arguments of the Jaeger agent's `emitZipkinBatch` call (UDP 5775,
//! compact protocol): `struct { 1: list<zipkincore.Span> spans }`.
//!
//! The envelope (method name, sequence id) is Jaeger's and is parsed by
//! `clew_codec_jaeger::parse_agent_envelope`; what follows it is Zipkin's,
//! so it is decoded here, next to the other zipkincore readers, where the
//! never-panic property test and the `agent_zipkin` fuzz target cover it.
//!
//! ```
//! use bytes::Bytes;
//! // args struct: field 1 (list) holding zero structs, then stop.
//! let datagram = Bytes::from_static(&[0x19, 0x0c, 0x00]);
//! let spans = clew_codec_zipkin::agent::decode_emit_zipkin_batch_args(&datagram, &datagram)?;
//! assert!(spans.is_empty());
//! # Ok::<(), clew_codec_zipkin::ZipkinError>(())
//! ```

use bytes::Bytes;
use clew_model::{DecodeBudget, Span};
use clew_thrift::{CompactReader, ProtocolReader, TType};

use crate::error::ZipkinError;
use crate::thrift::{Protocol, decode_span_list_with};

/// Field id of `spans` in `emitZipkinBatch`'s argument struct.
const SPANS_FIELD: i16 = 1;

/// Decodes the spans of an `emitZipkinBatch` call. `args` is the part of
/// `datagram` after the envelope; when it is a sub-slice of `datagram`, span
/// strings borrow from the datagram instead of being copied.
///
/// An argument struct without field 1 is an empty batch (as Jaeger's agent
/// treats it); fields other than 1 are skipped; a `spans` field that is not
/// a list, or a list that is not of structs, is an error.
pub fn decode_emit_zipkin_batch_args(
    datagram: &Bytes,
    args: &[u8],
) -> Result<Vec<Span>, ZipkinError> {
    decode_emit_zipkin_batch_args_with(datagram, args, &mut DecodeBudget::default())
}

/// [`decode_emit_zipkin_batch_args`] charging every decoded value to `budget`.
pub fn decode_emit_zipkin_batch_args_with(
    datagram: &Bytes,
    args: &[u8],
    budget: &mut DecodeBudget<'_>,
) -> Result<Vec<Span>, ZipkinError> {
    let mut r = CompactReader::new(args);
    r.read_struct_begin()?;
    loop {
        let field = r.read_field_begin()?;
        match field.ttype {
            TType::Stop => return Ok(Vec::new()),
            TType::List if field.id == SPANS_FIELD => {
                return decode_span_list_with(datagram, r.rest(), Protocol::Compact, budget);
            }
            _ if field.id == SPANS_FIELD => {
                return Err(ZipkinError::Field {
                    field: "spans",
                    reason: format!("field 1 is a {:?}, expected a list", field.ttype),
                });
            }
            other => r.skip(other)?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{SpanId, TraceId};
    use clew_thrift::{CompactWriter, ProtocolWriter};

    fn args_with(spans: &[Span], extra_field_first: bool) -> Vec<u8> {
        let v1: Vec<crate::v1::V1Span> = spans
            .iter()
            .map(|s| crate::v1::V1Span::from_v2(&crate::mapping::from_model(s)))
            .collect();
        let mut out = Vec::new();
        let mut w = CompactWriter::new(&mut out);
        w.write_struct_begin();
        if extra_field_first {
            w.write_field_begin(TType::I32, 7);
            w.write_i32(42);
        }
        w.write_field_begin(TType::List, SPANS_FIELD);
        crate::thrift::write_v1_list(&v1, &mut w);
        w.write_field_stop();
        w.write_struct_end();
        out
    }

    fn span() -> Span {
        let mut z = crate::ZipkinSpan::new(TraceId::new(0, 1), SpanId(2));
        z.name = "get".into();
        crate::mapping::to_model(vec![z]).remove(0)
    }

    #[test]
    fn decodes_spans_after_skipping_unknown_fields() {
        for extra in [false, true] {
            let datagram = Bytes::from(args_with(&[span()], extra));
            let spans = decode_emit_zipkin_batch_args(&datagram, &datagram).expect("decodes");
            assert_eq!(spans.len(), 1);
            assert_eq!(&*spans[0].operation_name, "get");
        }
    }

    #[test]
    fn missing_spans_field_is_an_empty_batch() {
        let datagram = Bytes::from_static(&[0x00]);
        let spans = decode_emit_zipkin_batch_args(&datagram, &datagram).expect("decodes");
        assert!(spans.is_empty());
    }

    #[test]
    fn spans_field_of_the_wrong_type_is_an_error() {
        // field 1 as i32 (delta 1, compact type 5), value 0, stop.
        let datagram = Bytes::from_static(&[0x15, 0x00, 0x00]);
        let err = decode_emit_zipkin_batch_args(&datagram, &datagram).expect_err("refused");
        assert!(
            matches!(err, ZipkinError::Field { field: "spans", .. }),
            "{err}"
        );
    }

    #[test]
    fn truncated_and_empty_args_are_errors() {
        let full = args_with(&[span()], false);
        for cut in 0..full.len() - 1 {
            let datagram = Bytes::copy_from_slice(&full[..cut]);
            assert!(
                decode_emit_zipkin_batch_args(&datagram, &datagram).is_err(),
                "cut at {cut} decoded"
            );
        }
    }
}
