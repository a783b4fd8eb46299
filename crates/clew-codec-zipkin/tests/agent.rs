//! `emitZipkinBatch` arguments: arbitrary and corrupted bytes never panic,
//! and a lying list size cannot make the decoder allocate beyond the input.

use bytes::Bytes;
use clew_codec_zipkin::agent::decode_emit_zipkin_batch_args;
use clew_thrift::{CompactWriter, ProtocolWriter, TType};
use proptest::collection::vec;
use proptest::prelude::*;

/// `struct { 1: list<struct>[declared] }` followed by `body`.
fn args(declared: usize, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = CompactWriter::new(&mut out);
    w.write_struct_begin();
    w.write_field_begin(TType::List, 1);
    w.write_list_begin(TType::Struct, declared);
    out.extend_from_slice(body);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_bytes_never_panic(body in vec(any::<u8>(), 0..600)) {
        let datagram = Bytes::from(body);
        let _ = decode_emit_zipkin_batch_args(&datagram, &datagram);
        // `args` outside the datagram (copied strings) must not panic either.
        let _ = decode_emit_zipkin_batch_args(&Bytes::new(), &datagram);
    }

    #[test]
    fn lying_list_headers_never_panic(
        declared in 0usize..=u32::MAX as usize,
        body in vec(any::<u8>(), 0..200),
    ) {
        let datagram = Bytes::from(args(declared, &body));
        let _ = decode_emit_zipkin_batch_args(&datagram, &datagram);
    }
}

#[test]
fn a_datagram_of_empty_structs_decodes_no_more_spans_than_bytes() {
    // 65,000 stop bytes: at most one (empty, ID-less) span per byte.
    let datagram = Bytes::from(args(65_000, &[0u8; 65_000]));
    if let Ok(spans) = decode_emit_zipkin_batch_args(&datagram, &datagram) {
        assert!(spans.len() <= 65_000);
    }
}

#[test]
fn a_list_declaring_four_billion_spans_in_ten_bytes_is_refused() {
    let datagram = Bytes::from(args(u32::MAX as usize, &[0u8; 10]));
    assert!(decode_emit_zipkin_batch_args(&datagram, &datagram).is_err());
}
