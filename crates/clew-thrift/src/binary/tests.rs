//! Golden bytes written by hand from the binary protocol spec.

use super::*;
use crate::{MessageType, ProtocolReader, ProtocolWriter, TType, ThriftError};

fn write(f: impl FnOnce(&mut BinaryWriter<&mut Vec<u8>>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut BinaryWriter::new(&mut out));
    out
}

#[test]
fn integers_and_doubles_are_big_endian() {
    assert_eq!(write(|w| w.write_i16(-2)), [0xff, 0xfe]);
    assert_eq!(write(|w| w.write_i32(0x0102_0304)), [1, 2, 3, 4]);
    assert_eq!(write(|w| w.write_i64(1)), [0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(
        write(|w| w.write_double(1.0)),
        [0x3f, 0xf0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(write(|w| w.write_bool(true)), [1]);
    let mut r = BinaryReader::new(&[0xff, 0xfe, 1, 2, 3, 4, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(r.read_i16(), Ok(-2));
    assert_eq!(r.read_i32(), Ok(0x0102_0304));
    assert_eq!(r.read_double(), Ok(1.0));
    assert_eq!(r.read_bool(), Ok(true));
}

#[test]
fn fields_strings_and_stop() {
    let bytes = write(|w| {
        w.write_struct_begin();
        w.write_field_begin(TType::Binary, 5);
        w.write_string("op");
        w.write_field_begin(TType::Bool, 300);
        w.write_bool(false);
        w.write_field_stop();
        w.write_struct_end();
    });
    assert_eq!(
        bytes,
        [11, 0, 5, 0, 0, 0, 2, b'o', b'p', 2, 0x01, 0x2c, 0, 0]
    );
    let mut r = BinaryReader::new(&bytes);
    r.read_struct_begin().expect("struct");
    let f = r.read_field_begin().expect("f5");
    assert_eq!((f.ttype, f.id), (TType::Binary, 5));
    assert_eq!(r.read_string(), Ok("op"));
    let f = r.read_field_begin().expect("f300");
    assert_eq!((f.ttype, f.id), (TType::Bool, 300));
    assert_eq!(r.read_bool(), Ok(false));
    assert_eq!(r.read_field_begin().map(|f| f.ttype), Ok(TType::Stop));
}

#[test]
fn containers() {
    assert_eq!(
        write(|w| w.write_list_begin(TType::Struct, 2)),
        [12, 0, 0, 0, 2]
    );
    assert_eq!(
        write(|w| w.write_map_begin(TType::Binary, TType::I32, 1)),
        [11, 8, 0, 0, 0, 1]
    );
    let mut r = BinaryReader::new(&[12, 0, 0, 0, 2, 0, 0]);
    let h = r.read_list_begin().expect("list");
    assert_eq!((h.elem, h.size), (TType::Struct, 2));
    let mut r = BinaryReader::new(&[11, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7]);
    let h = r.read_map_begin().expect("map");
    assert_eq!((h.key, h.value, h.size), (TType::Binary, TType::I32, 1));
}

#[test]
fn strict_and_old_envelopes() {
    let bytes = write(|w| w.write_message_begin("emitBatch", MessageType::Oneway, -1));
    assert_eq!(&bytes[..8], [0x80, 0x01, 0x00, 0x04, 0, 0, 0, 9]);
    assert_eq!(&bytes[8..17], b"emitBatch");
    assert_eq!(&bytes[17..], [0xff, 0xff, 0xff, 0xff]);
    let h = BinaryReader::new(&bytes)
        .read_message_begin()
        .expect("strict");
    assert_eq!(
        (h.name, h.kind, h.seq_id),
        (&b"emitBatch"[..], MessageType::Oneway, -1)
    );

    let old = [0, 0, 0, 2, b'h', b'i', 1, 0, 0, 0, 9];
    let h = BinaryReader::new(&old).read_message_begin().expect("old");
    assert_eq!(
        (h.name, h.kind, h.seq_id),
        (&b"hi"[..], MessageType::Call, 9)
    );

    assert!(matches!(
        BinaryReader::new(&[0x80, 0x02, 0, 1]).read_message_begin(),
        Err(ThriftError::BadMessage { .. })
    ));
    assert!(matches!(
        BinaryReader::new(&[0x80, 0x01, 0, 9]).read_message_begin(),
        Err(ThriftError::BadMessage { .. })
    ));
}

#[test]
fn negative_and_oversized_lengths() {
    assert_eq!(
        BinaryReader::new(&[0xff, 0xff, 0xff, 0xff]).read_binary(),
        Err(ThriftError::Negative { at: 0, value: -1 })
    );
    assert!(matches!(
        BinaryReader::new(&[0, 0, 0, 5, b'a']).read_binary(),
        Err(ThriftError::SizeLimit {
            declared: 5,
            remaining: 1,
            ..
        })
    ));
    // 1000 i64 elements need 8000 bytes.
    assert!(matches!(
        BinaryReader::new(&[10, 0, 0, 0x03, 0xe8, 0, 0]).read_list_begin(),
        Err(ThriftError::SizeLimit { .. })
    ));
    assert!(matches!(
        BinaryReader::new(&[7, 0, 1]).read_field_begin(),
        Err(ThriftError::InvalidType { code: 7, at: 0 })
    ));
    assert!(matches!(
        BinaryReader::new(&[8, 0]).read_field_begin(),
        Err(ThriftError::Eof { .. })
    ));
}

#[test]
fn deep_nesting_stops_at_the_limit() {
    // field header: type struct (12), id 1, repeated.
    let bytes: Vec<u8> = std::iter::repeat_n([12u8, 0, 1], 5000).flatten().collect();
    let err = BinaryReader::new(&bytes)
        .skip(TType::Struct)
        .expect_err("too deep");
    assert!(matches!(err, ThriftError::DepthLimit { .. }));
}
