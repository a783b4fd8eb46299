//! Zipkin bodies → model spans, refusing bad spans one at a time.
//!
//! clew-codec-zipkin decodes a body whole or not at all. To keep the good
//! spans of a batch that holds one bad ID, this module drives the codec's
//! per-span pieces:
//! * JSON (v1 and v2): the array is parsed with the codec's public span
//!   types, then each span is validated on its own.
//! * proto3: the codec's `decode_each` parses the list once and converts
//!   each span alone; a protobuf that does not parse is refused whole.
//! * thrift: IDs are integers, so no span can have a malformed one; a body
//!   that does not decode is refused whole.
//!
//! Zero IDs are left to the pipeline's validation, like every protocol's.

use bytes::Bytes;
use clew_codec_zipkin::json_v1::JsonV1Span;
use clew_codec_zipkin::json_v2::JsonSpan;
use clew_codec_zipkin::thrift::{Protocol, decode_span_list_with};
use clew_codec_zipkin::{ZipkinError, ZipkinSpan, limits, mapping, proto_v2};
use clew_model::{DecodeBudget, Span};

use super::BodyFormat;
use crate::verdict::Refusals;

/// Decodes `body` after charging `budget` for what it may decode into;
/// `Err` only when the body as a whole is unusable or too big.
pub(crate) fn decode(
    format: BodyFormat,
    body: &Bytes,
    budget: &mut DecodeBudget<'_>,
) -> Result<(Vec<Span>, Refusals), ZipkinError> {
    let mut refusals = Refusals::default();
    match format {
        BodyFormat::V2Json | BodyFormat::V1Json => limits::charge_json(body, budget)?,
        BodyFormat::V2Proto => limits::charge_proto(body, budget)?,
        BodyFormat::V1Thrift => {}
    }
    let spans = match format {
        BodyFormat::V2Json => {
            let list: Vec<JsonSpan> = serde_json::from_slice(body)?;
            let good = keep_good(list, &mut refusals, |s| s.into_zipkin().map(|z| vec![z]));
            mapping::to_model(good)
        }
        BodyFormat::V1Json => {
            let list: Vec<JsonV1Span> = serde_json::from_slice(body)?;
            let good = keep_good(list, &mut refusals, |s| s.into_v1().map(|v1| v1.into_v2()));
            mapping::to_model(good)
        }
        BodyFormat::V2Proto => {
            let each = proto_v2::decode_each(body)?;
            let good = keep_good(each, &mut refusals, |s| s.map(|z| vec![z]));
            mapping::to_model(good)
        }
        BodyFormat::V1Thrift => decode_span_list_with(body, body, Protocol::Binary, budget)?,
    };
    Ok((spans, refusals))
}

/// Converts each item, keeping what converts and counting what does not.
fn keep_good<T>(
    items: Vec<T>,
    refusals: &mut Refusals,
    mut convert: impl FnMut(T) -> Result<Vec<ZipkinSpan>, ZipkinError>,
) -> Vec<ZipkinSpan> {
    let mut good = Vec::with_capacity(items.len());
    for item in items {
        match convert(item) {
            Ok(spans) => good.extend(spans),
            Err(e) => refusals.add(reason(&e), 1, || e.to_string()),
        }
    }
    good
}

/// The `reason` label of a span refused for `e`.
fn reason(e: &ZipkinError) -> &'static str {
    match e {
        ZipkinError::Id { field, .. } => match *field {
            "traceId" | "trace_id" => "invalid_trace_id",
            "id" => "invalid_span_id",
            "parentId" | "parent_id" => "invalid_parent_id",
            _ => "invalid_id",
        },
        ZipkinError::Address { .. } => "invalid_endpoint_address",
        ZipkinError::Utf8 { .. } => "invalid_utf8",
        ZipkinError::Field { .. } => "invalid_field",
        ZipkinError::Json(_)
        | ZipkinError::Proto(_)
        | ZipkinError::Thrift(_)
        | ZipkinError::Budget(_) => "malformed_span",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_codec_zipkin::proto;
    use prost::Message;

    fn decode_all(format: BodyFormat, body: &Bytes) -> Result<(Vec<Span>, Refusals), ZipkinError> {
        decode(format, body, &mut DecodeBudget::default())
    }

    fn ids(spans: &[Span]) -> Vec<u64> {
        spans.iter().map(|s| s.span_id.0).collect()
    }

    #[test]
    fn json_v2_keeps_good_spans_and_names_the_bad_id() {
        let body = Bytes::from_static(
            br#"[{"traceId":"0000000000000001","id":"000000000000000a","name":"ok"},
                {"traceId":"xyz","id":"000000000000000b","name":"bad trace"},
                {"traceId":"0000000000000001","id":"12","name":"short id is fine"},
                {"traceId":"0000000000000001","id":"00000000000000000c","name":"too long"}]"#,
        );
        let (spans, refusals) = decode_all(BodyFormat::V2Json, &body).expect("array decodes");
        assert_eq!(ids(&spans), [0xa, 0x12]);
        assert_eq!(refusals.total(), 2);
    }

    #[test]
    fn json_v1_splits_and_refuses_per_span() {
        let body = Bytes::from_static(
            br#"[{"traceId":"0000000000000001","id":"0000000000000002","name":"get",
                  "annotations":[{"timestamp":10,"value":"sr","endpoint":{"serviceName":"api"}},
                                 {"timestamp":20,"value":"ss","endpoint":{"serviceName":"api"}}]},
                 {"traceId":"0000000000000001","id":"nothex!!","name":"bad"}]"#,
        );
        let (spans, refusals) = decode_all(BodyFormat::V1Json, &body).expect("array decodes");
        assert_eq!(ids(&spans), [2]);
        assert_eq!(&*spans[0].process.service_name, "api");
        assert_eq!(refusals.total(), 1);
    }

    #[test]
    fn proto_refuses_only_the_span_with_a_bad_id() {
        let mut good = proto::Span {
            trace_id: vec![0, 0, 0, 0, 0, 0, 0, 1],
            id: vec![0, 0, 0, 0, 0, 0, 0, 2],
            name: "ok".into(),
            ..Default::default()
        };
        let mut bad = good.clone();
        bad.id = vec![1, 2, 3];
        let body = proto::ListOfSpans {
            spans: vec![good.clone(), bad],
        }
        .encode_to_vec();
        let (spans, refusals) =
            decode_all(BodyFormat::V2Proto, &Bytes::from(body)).expect("list decodes");
        assert_eq!(ids(&spans), [2]);
        assert_eq!(refusals.total(), 1);

        good.name = "fast path".into();
        let body = proto::ListOfSpans { spans: vec![good] }.encode_to_vec();
        let (spans, refusals) =
            decode_all(BodyFormat::V2Proto, &Bytes::from(body)).expect("decodes");
        assert_eq!(&*spans[0].operation_name, "fast path");
        assert_eq!(refusals.total(), 0);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for format in [
            BodyFormat::V2Json,
            BodyFormat::V1Json,
            BodyFormat::V2Proto,
            BodyFormat::V1Thrift,
        ] {
            let r = decode_all(format, &Bytes::from_static(b"\x0b\xff{not a body"));
            assert!(r.is_err(), "{format:?} accepted junk");
        }
    }
}
