//! `emitZipkinBatch` on port 5775: the args struct's field 1 is a compact
//! `list<zipkincore.Span>`. Decoding lives in the Zipkin codec
//! ([`clew_codec_zipkin::agent`]), where it is property-tested and fuzzed;
//! this is the name the datagram handler calls.

pub(crate) use clew_codec_zipkin::agent::decode_emit_zipkin_batch_args_with;
