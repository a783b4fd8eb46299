//! Property tests: whatever a writer emits, the reader of the same protocol
//! reads back unchanged, and arbitrary bytes never make a reader panic.

use clew_thrift::{
    BinaryReader, BinaryWriter, ByteCounter, CompactReader, CompactWriter, MessageType,
    ProtocolReader, ProtocolWriter, TType,
};
use proptest::prelude::*;

/// A thrift value tree for generating inputs.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    Double(u64), // bits, so NaN compares equal
    Bin(Vec<u8>),
    Uuid([u8; 16]),
    Struct(Vec<(i16, V)>),
    List(TType, Vec<V>),
}

impl V {
    fn ttype(&self) -> TType {
        match self {
            V::Bool(_) => TType::Bool,
            V::I8(_) => TType::I8,
            V::I16(_) => TType::I16,
            V::I32(_) => TType::I32,
            V::I64(_) => TType::I64,
            V::Double(_) => TType::Double,
            V::Bin(_) => TType::Binary,
            V::Uuid(_) => TType::Uuid,
            V::Struct(_) => TType::Struct,
            V::List(..) => TType::List,
        }
    }
}

fn scalar_of(t: TType) -> BoxedStrategy<V> {
    match t {
        TType::Bool => any::<bool>().prop_map(V::Bool).boxed(),
        TType::I8 => any::<i8>().prop_map(V::I8).boxed(),
        TType::I16 => any::<i16>().prop_map(V::I16).boxed(),
        TType::I32 => any::<i32>().prop_map(V::I32).boxed(),
        TType::Double => any::<u64>().prop_map(V::Double).boxed(),
        TType::Binary => proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(V::Bin)
            .boxed(),
        TType::Uuid => any::<[u8; 16]>().prop_map(V::Uuid).boxed(),
        _ => any::<i64>().prop_map(V::I64).boxed(),
    }
}

fn scalar_type() -> impl Strategy<Value = TType> {
    prop_oneof![
        Just(TType::Bool),
        Just(TType::I8),
        Just(TType::I16),
        Just(TType::I32),
        Just(TType::I64),
        Just(TType::Double),
        Just(TType::Binary),
        Just(TType::Uuid),
    ]
}

fn value() -> impl Strategy<Value = V> {
    let leaf = scalar_type().prop_flat_map(scalar_of);
    leaf.prop_recursive(4, 64, 20, |inner| {
        prop_oneof![
            proptest::collection::vec((any::<i16>(), inner), 0..20).prop_map(|mut fs| {
                // Field ids must be unique within a struct to compare back.
                fs.sort_by_key(|f| f.0);
                fs.dedup_by_key(|f| f.0);
                V::Struct(fs)
            }),
            (scalar_type(), 0usize..30).prop_flat_map(|(t, n)| {
                proptest::collection::vec(scalar_of(t), n).prop_map(move |xs| V::List(t, xs))
            }),
        ]
    })
}

fn write_v(w: &mut dyn ProtocolWriter, v: &V) {
    match v {
        V::Bool(b) => w.write_bool(*b),
        V::I8(x) => w.write_i8(*x),
        V::I16(x) => w.write_i16(*x),
        V::I32(x) => w.write_i32(*x),
        V::I64(x) => w.write_i64(*x),
        V::Double(bits) => w.write_double(f64::from_bits(*bits)),
        V::Bin(b) => w.write_binary(b),
        V::Uuid(u) => w.write_uuid(u),
        V::Struct(fields) => {
            w.write_struct_begin();
            for (id, fv) in fields {
                w.write_field_begin(fv.ttype(), *id);
                write_v(w, fv);
            }
            w.write_field_stop();
            w.write_struct_end();
        }
        V::List(t, xs) => {
            w.write_list_begin(*t, xs.len());
            for x in xs {
                write_v(w, x);
            }
        }
    }
}

fn read_v<'a>(r: &mut impl ProtocolReader<'a>, t: TType) -> clew_thrift::Result<V> {
    Ok(match t {
        TType::Bool => V::Bool(r.read_bool()?),
        TType::I8 => V::I8(r.read_i8()?),
        TType::I16 => V::I16(r.read_i16()?),
        TType::I32 => V::I32(r.read_i32()?),
        TType::I64 => V::I64(r.read_i64()?),
        TType::Double => V::Double(r.read_double()?.to_bits()),
        TType::Binary => V::Bin(r.read_binary()?.to_vec()),
        TType::Uuid => V::Uuid(r.read_uuid()?),
        TType::Struct => {
            r.read_struct_begin()?;
            let mut fields = Vec::new();
            loop {
                let f = r.read_field_begin()?;
                if f.ttype == TType::Stop {
                    break;
                }
                fields.push((f.id, read_v(r, f.ttype)?));
            }
            r.read_struct_end();
            V::Struct(fields)
        }
        TType::List | TType::Set => {
            let h = r.read_list_begin()?;
            let mut xs = Vec::with_capacity(h.size);
            for _ in 0..h.size {
                xs.push(read_v(r, h.elem)?);
            }
            V::List(h.elem, xs)
        }
        TType::Map | TType::Stop => unreachable!("not generated"),
    })
}

fn envelope(w: &mut dyn ProtocolWriter, name: &str, seq: i32, v: &V) {
    w.write_message_begin(name, MessageType::Oneway, seq);
    write_v(w, v);
}

proptest! {
    #[test]
    fn compact_round_trips(v in value(), seq: i32, name in "[a-zA-Z]{0,20}") {
        let mut buf = Vec::new();
        envelope(&mut CompactWriter::new(&mut buf), &name, seq, &v);
        let mut counter = CompactWriter::new(ByteCounter::default());
        envelope(&mut counter, &name, seq, &v);
        prop_assert_eq!(counter.into_inner().0, buf.len());

        let mut r = CompactReader::new(&buf);
        let h = r.read_message_begin().expect("envelope");
        prop_assert_eq!(h.name, name.as_bytes());
        prop_assert_eq!(h.seq_id, seq);
        prop_assert_eq!(read_v(&mut r, v.ttype()).expect("value"), v.clone());
        prop_assert_eq!(r.remaining(), 0);

        let mut r = CompactReader::new(&buf);
        r.read_message_begin().expect("envelope");
        r.skip(v.ttype()).expect("skip");
        prop_assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn binary_round_trips(v in value(), seq: i32, name in "[a-zA-Z]{0,20}") {
        let mut buf = Vec::new();
        envelope(&mut BinaryWriter::new(&mut buf), &name, seq, &v);
        let mut r = BinaryReader::new(&buf);
        let h = r.read_message_begin().expect("envelope");
        prop_assert_eq!(h.name, name.as_bytes());
        prop_assert_eq!(h.seq_id, seq);
        prop_assert_eq!(read_v(&mut r, v.ttype()).expect("value"), v.clone());
        prop_assert_eq!(r.remaining(), 0);

        let mut r = BinaryReader::new(&buf);
        r.read_message_begin().expect("envelope");
        r.skip(v.ttype()).expect("skip");
        prop_assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for t in [TType::Struct, TType::List, TType::Map, TType::Binary] {
            let _ = CompactReader::new(&bytes).skip(t);
            let _ = BinaryReader::new(&bytes).skip(t);
        }
        let _ = CompactReader::new(&bytes).read_message_begin();
        let _ = BinaryReader::new(&bytes).read_message_begin();
    }
}
