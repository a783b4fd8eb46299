//! Golden bytes written by hand from the compact protocol spec.

use super::*;
use crate::{ByteCounter, MessageType, ProtocolReader, ProtocolWriter, TType, ThriftError};

fn write(f: impl FnOnce(&mut CompactWriter<&mut Vec<u8>>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut CompactWriter::new(&mut out));
    out
}

#[test]
fn zigzag_matches_spec_table() {
    for (v, z) in [
        (0i32, 0u32),
        (-1, 1),
        (1, 2),
        (-2, 3),
        (2, 4),
        (i32::MAX, u32::MAX - 1),
        (i32::MIN, u32::MAX),
    ] {
        assert_eq!(zigzag_encode_32(v), z);
        assert_eq!(zigzag_decode_32(z), v);
    }
    assert_eq!(zigzag_encode_64(i64::MIN), u64::MAX);
    assert_eq!(zigzag_decode_64(u64::MAX), i64::MIN);
}

#[test]
fn integers_are_zigzag_varints() {
    assert_eq!(write(|w| w.write_i32(0)), [0x00]);
    assert_eq!(write(|w| w.write_i32(-1)), [0x01]);
    assert_eq!(write(|w| w.write_i32(64)), [0x80, 0x01]);
    assert_eq!(write(|w| w.write_i16(-3)), [0x05]);
    assert_eq!(write(|w| w.write_i64(300)), [0xd8, 0x04]);
    assert_eq!(write(|w| w.write_i8(-1)), [0xff]);
    let mut r = CompactReader::new(&[0xd8, 0x04, 0x01, 0x05]);
    assert_eq!(r.read_i64(), Ok(300));
    assert_eq!(r.read_i32(), Ok(-1));
    assert_eq!(r.read_i16(), Ok(-3));
    let max = write(|w| w.write_i64(i64::MIN));
    assert_eq!(max.len(), 10);
    assert_eq!(CompactReader::new(&max).read_i64(), Ok(i64::MIN));
}

#[test]
fn doubles_are_little_endian() {
    let bytes = write(|w| w.write_double(1.0));
    assert_eq!(bytes, [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    assert_eq!(CompactReader::new(&bytes).read_double(), Ok(1.0));
}

#[test]
fn binary_is_varint_length_then_bytes() {
    assert_eq!(write(|w| w.write_string("abc")), [3, b'a', b'b', b'c']);
    let buf = [3, b'a', b'b', b'c'];
    let mut r = CompactReader::new(&buf);
    let s = r.read_binary().expect("valid");
    // Zero-copy: the slice points into the input.
    assert_eq!(s.as_ptr(), buf[1..].as_ptr());
}

#[test]
fn field_headers_use_deltas_and_long_form() {
    let bytes = write(|w| {
        w.write_struct_begin();
        w.write_field_begin(TType::I32, 1);
        w.write_i32(5);
        w.write_field_begin(TType::I64, 20); // delta 19 > 15: long form
        w.write_i64(1);
        w.write_field_begin(TType::Bool, 21);
        w.write_bool(true);
        w.write_field_begin(TType::Bool, 22);
        w.write_bool(false);
        w.write_field_begin(TType::Binary, 3); // negative delta: long form
        w.write_string("");
        w.write_field_stop();
        w.write_struct_end();
    });
    assert_eq!(
        bytes,
        [
            0x15, 0x0a, 0x06, 0x28, 0x02, 0x11, 0x12, 0x08, 0x06, 0x00, 0x00
        ]
    );
    let mut r = CompactReader::new(&bytes);
    r.read_struct_begin().expect("struct");
    let f = r.read_field_begin().expect("f1");
    assert_eq!((f.ttype, f.id), (TType::I32, 1));
    assert_eq!(r.read_i32(), Ok(5));
    let f = r.read_field_begin().expect("f20");
    assert_eq!((f.ttype, f.id), (TType::I64, 20));
    assert_eq!(r.read_i64(), Ok(1));
    let f = r.read_field_begin().expect("f21");
    assert_eq!((f.ttype, f.id), (TType::Bool, 21));
    assert_eq!(r.read_bool(), Ok(true));
    let f = r.read_field_begin().expect("f22");
    assert_eq!((f.ttype, f.id), (TType::Bool, 22));
    assert_eq!(r.read_bool(), Ok(false));
    let f = r.read_field_begin().expect("f3");
    assert_eq!((f.ttype, f.id), (TType::Binary, 3));
    assert_eq!(r.read_binary(), Ok(&b""[..]));
    assert_eq!(r.read_field_begin().map(|f| f.ttype), Ok(TType::Stop));
    r.read_struct_end();
    assert_eq!(r.remaining(), 0);
}

#[test]
fn nested_structs_restore_the_outer_field_id() {
    let bytes = write(|w| {
        w.write_struct_begin();
        w.write_field_begin(TType::Struct, 5);
        w.write_struct_begin();
        w.write_field_begin(TType::I32, 1);
        w.write_i32(1);
        w.write_field_stop();
        w.write_struct_end();
        w.write_field_begin(TType::I32, 6);
        w.write_i32(2);
        w.write_field_stop();
        w.write_struct_end();
    });
    // Field 6 is written as delta 1 from field 5, not from the inner field 1.
    assert_eq!(bytes, [0x5c, 0x15, 0x02, 0x00, 0x15, 0x04, 0x00]);
    let mut r = CompactReader::new(&bytes);
    r.read_struct_begin().expect("outer");
    assert_eq!(r.read_field_begin().map(|f| f.id), Ok(5));
    r.skip(TType::Struct).expect("skip inner");
    assert_eq!(r.read_field_begin().map(|f| f.id), Ok(6));
}

#[test]
fn list_headers_short_and_long() {
    assert_eq!(write(|w| w.write_list_begin(TType::I32, 3)), [0x35]);
    assert_eq!(write(|w| w.write_list_begin(TType::Struct, 20)), [0xfc, 20]);
    assert_eq!(write(|w| w.write_set_begin(TType::Binary, 0)), [0x08]);
    let mut r = CompactReader::new(&[0x35, 0, 0, 0]);
    let h = r.read_list_begin().expect("list");
    assert_eq!((h.elem, h.size), (TType::I32, 3));
    // Bool element type may be written as 1 or 2.
    let mut r = CompactReader::new(&[0x21, 1, 2]);
    let h = r.read_list_begin().expect("bool list");
    assert_eq!((h.elem, h.size), (TType::Bool, 2));
    assert_eq!(r.read_bool(), Ok(true));
    assert_eq!(r.read_bool(), Ok(false));
}

#[test]
fn map_headers() {
    assert_eq!(
        write(|w| w.write_map_begin(TType::Binary, TType::I64, 0)),
        [0x00]
    );
    assert_eq!(
        write(|w| w.write_map_begin(TType::Binary, TType::I64, 2)),
        [0x02, 0x86]
    );
    let mut r = CompactReader::new(&[0x01, 0x86, 0x01, b'k', 0x02]);
    let h = r.read_map_begin().expect("map");
    assert_eq!((h.key, h.value, h.size), (TType::Binary, TType::I64, 1));
}

#[test]
fn message_envelope() {
    let bytes = write(|w| w.write_message_begin("emitBatch", MessageType::Oneway, 7));
    assert_eq!(&bytes[..3], [0x82, 0x81, 0x07]);
    assert_eq!(bytes[3], 9);
    assert_eq!(&bytes[4..], b"emitBatch");
    let h = CompactReader::new(&bytes)
        .read_message_begin()
        .expect("envelope");
    assert_eq!(
        (h.name, h.kind, h.seq_id),
        (&b"emitBatch"[..], MessageType::Oneway, 7)
    );
    assert!(matches!(
        CompactReader::new(&[0x80, 0x01]).read_message_begin(),
        Err(ThriftError::BadMessage { .. })
    ));
    assert!(matches!(
        CompactReader::new(&[0x82, 0x82]).read_message_begin(),
        Err(ThriftError::BadMessage { .. })
    ));
}

#[test]
fn hostile_sizes_are_rejected_before_allocation() {
    // A list claiming 2^31 elements with 2 bytes left.
    let bad = [0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0, 0];
    assert!(matches!(
        CompactReader::new(&bad).read_list_begin(),
        Err(ThriftError::SizeLimit { .. })
    ));
    // A string claiming 100 bytes.
    assert!(matches!(
        CompactReader::new(&[100, b'a']).read_binary(),
        Err(ThriftError::SizeLimit { .. })
    ));
    // A list of doubles needs 8 bytes per element.
    assert!(matches!(
        CompactReader::new(&[0x27, 0, 0, 0, 0, 0, 0, 0, 0]).read_list_begin(),
        Err(ThriftError::SizeLimit { .. })
    ));
    assert!(matches!(
        CompactReader::new(&[0xff; 12]).read_i64(),
        Err(ThriftError::VarintOverflow { at: 0 })
    ));
    assert_eq!(
        CompactReader::new(&[0x80]).read_i32(),
        Err(ThriftError::Eof { at: 1, needed: 1 })
    );
    assert!(matches!(
        CompactReader::new(&[0x1e]).read_field_begin(),
        Err(ThriftError::InvalidType { code: 14, .. })
    ));
}

#[test]
fn deep_nesting_stops_at_the_limit() {
    // A struct whose field 1 is a struct whose field 1 is a struct ...
    let bytes = vec![0x1c; 10_000];
    let err = CompactReader::new(&bytes)
        .skip(TType::Struct)
        .expect_err("too deep");
    assert!(matches!(err, ThriftError::DepthLimit { .. }));
    // Lists of lists too.
    let bytes = vec![0x19; 10_000];
    let err = CompactReader::new(&bytes)
        .skip(TType::List)
        .expect_err("too deep");
    assert!(matches!(err, ThriftError::DepthLimit { .. }));
}

#[test]
fn byte_counter_matches_vec_length() {
    let fill = |w: &mut dyn ProtocolWriter| {
        w.write_message_begin("m", MessageType::Call, 300);
        w.write_struct_begin();
        w.write_field_begin(TType::Bool, 1);
        w.write_bool(true);
        w.write_field_begin(TType::List, 40);
        w.write_list_begin(TType::Binary, 16);
        for _ in 0..16 {
            w.write_string("xyz");
        }
        w.write_field_stop();
        w.write_struct_end();
    };
    let mut v = Vec::new();
    fill(&mut CompactWriter::new(&mut v));
    let mut c = CompactWriter::new(ByteCounter::default());
    fill(&mut c);
    assert_eq!(c.into_inner().0, v.len());
}
