//! Property tests: every Zipkin format round-trips the model, and no
//! decoder panics on arbitrary bytes.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use clew_codec_zipkin::thrift::Protocol;
use clew_codec_zipkin::{
    Annotation, Endpoint, Kind, ZipkinSpan, json_v1, json_v2, mapping, proto_v2, thrift,
};
use clew_model::{KeyValue, Span, SpanId, TraceId, Value};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

fn endpoint() -> impl Strategy<Value = Option<Endpoint>> {
    proptest::option::of(
        (
            "[a-z-]{0,8}",
            proptest::option::of(
                any::<u32>()
                    .prop_filter("not 0.0.0.0", |ip| *ip != 0)
                    .prop_map(Ipv4Addr::from),
            ),
            proptest::option::of(any::<u128>().prop_map(Ipv6Addr::from)),
            any::<u16>(),
        )
            .prop_map(|(name, ipv4, ipv6, port)| Endpoint {
                service_name: name.into(),
                ipv4,
                ipv6,
                port,
            })
            .prop_filter("non-empty", |e| !e.is_empty()),
    )
}

fn kind() -> impl Strategy<Value = Option<Kind>> {
    prop_oneof![
        Just(None),
        Just(Some(Kind::Client)),
        Just(Some(Kind::Server)),
        Just(Some(Kind::Producer)),
        Just(Some(Kind::Consumer)),
    ]
}

/// Typed tag values (v1 formats keep the type; v2 ones are strings).
fn typed_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[ -~é]{0,10}".prop_map(|s| Value::Str(s.into())),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::I64),
        (-1e15f64..1e15).prop_map(Value::F64),
        vec(any::<u8>(), 0..6).prop_map(|b| Value::Binary(b.into())),
    ]
}

/// A Zipkin span every format can carry: tags have unique keys in key
/// order, shared only on server spans, a remote endpoint only with a kind,
/// annotations that are not v1 core annotations.
fn zipkin_span(typed: bool) -> impl Strategy<Value = ZipkinSpan> {
    let tags =
        btree_map("error|[a-z]{3,6}(\\.[a-z]{1,3})?", typed_value(), 0..5).prop_map(move |m| {
            m.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Str(_) => v,
                        other if !typed => Value::Str(other.to_text().into()),
                        other => other,
                    };
                    KeyValue::new(k, v)
                })
                .collect::<Vec<_>>()
        });
    (
        (
            any::<u64>(),
            any::<u64>().prop_filter("non-zero", |v| *v != 0),
        ),
        any::<u64>().prop_filter("non-zero", |v| *v != 0),
        proptest::option::of(any::<u64>().prop_filter("non-zero", |v| *v != 0)),
        kind(),
        "[ -~]{0,10}",
        (0u64..1 << 52, 0u64..1 << 40),
        (endpoint(), endpoint()),
        vec((0u64..1 << 52, "[a-z ]{3,10}"), 0..3),
        tags,
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                (high, low),
                id,
                parent,
                kind,
                name,
                (ts, dur),
                (local, remote),
                anns,
                tags,
                (debug, shared),
            )| {
                let mut z = ZipkinSpan::new(TraceId::new(high, low), SpanId(id));
                z.parent_id = parent.map(SpanId);
                z.kind = kind;
                z.name = name.into();
                z.timestamp = ts;
                z.duration = dur;
                z.local_endpoint = local;
                z.remote_endpoint = remote.filter(|_| kind.is_some());
                z.annotations = anns
                    .into_iter()
                    .map(|(timestamp, value)| Annotation {
                        timestamp,
                        value: value.into(),
                    })
                    .collect();
                z.tags = tags;
                z.debug = debug;
                z.shared = shared && kind == Some(Kind::Server);
                z
            },
        )
}

fn model(z: &ZipkinSpan) -> Vec<Span> {
    mapping::to_model(vec![z.clone()])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn zipkin_to_model_to_zipkin_is_lossless(z in zipkin_span(true)) {
        prop_assert_eq!(mapping::from_model(&model(&z)[0]), z);
    }

    #[test]
    fn v2_json_round_trips(z in zipkin_span(false)) {
        let m = model(&z);
        let mut body = Vec::new();
        json_v2::encode(&m, &mut body).expect("encodes");
        prop_assert_eq!(json_v2::decode(&body).expect("decodes"), m);
    }

    #[test]
    fn v2_proto_round_trips(z in zipkin_span(false)) {
        let m = model(&z);
        let mut body = Vec::new();
        proto_v2::encode(&m, &mut body);
        prop_assert_eq!(proto_v2::decode(&body).expect("decodes"), m);
    }

    #[test]
    fn v2_proto_each_agrees_with_whole_body_decode(z in vec(zipkin_span(false), 0..4)) {
        let m = mapping::to_model(z);
        let mut body = Vec::new();
        proto_v2::encode(&m, &mut body);
        let each: Vec<_> = proto_v2::decode_each(&body)
            .expect("list parses")
            .into_iter()
            .map(|r| r.expect("span converts"))
            .collect();
        prop_assert_eq!(mapping::to_model(each), m);
    }

    #[test]
    fn v1_json_round_trips(z in zipkin_span(true)) {
        let m = model(&z);
        let mut body = Vec::new();
        json_v1::encode(&m, &mut body).expect("encodes");
        prop_assert_eq!(json_v1::decode(&body).expect("decodes"), m);
    }

    #[test]
    fn v1_thrift_round_trips(z in zipkin_span(true), compact in any::<bool>()) {
        let protocol = if compact { Protocol::Compact } else { Protocol::Binary };
        let m = model(&z);
        let mut body = Vec::new();
        thrift::encode_span_list(&m, protocol, &mut body);
        let body = Bytes::from(body);
        prop_assert_eq!(thrift::decode_span_list(&body, &body, protocol).expect("decodes"), m);
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in vec(any::<u8>(), 0..400)) {
        let body = Bytes::from(body);
        let _ = json_v2::decode(&body);
        let _ = json_v1::decode(&body);
        let _ = proto_v2::decode(&body);
        let _ = proto_v2::decode_each(&body);
        let _ = thrift::decode_span_list(&body, &body, Protocol::Compact);
        let _ = thrift::decode_span_list(&body, &body, Protocol::Binary);
    }

    #[test]
    fn corrupted_thrift_never_panics(
        z in vec(zipkin_span(true), 1..4),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        compact in any::<bool>(),
    ) {
        let protocol = if compact { Protocol::Compact } else { Protocol::Binary };
        let m = mapping::to_model(z);
        let mut body = Vec::new();
        thrift::encode_span_list(&m, protocol, &mut body);
        for (i, b) in flips {
            let at = i.index(body.len());
            body[at] = b;
        }
        let body = Bytes::from(body);
        let _ = thrift::decode_span_list(&body, &body, protocol);
    }
}
