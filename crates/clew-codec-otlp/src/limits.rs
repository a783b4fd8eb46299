//! Decoding under a [`DecodeBudget`]: what an OTLP payload may decode into is
//! bounded *before* it is decoded.
//!
//! An empty `Span` message is two bytes and an empty `KeyValue` two more,
//! yet each becomes a model value of tens to hundreds of bytes. So the
//! protobuf body is first walked by [`clew_model::budget::shape::proto_cost`]
//! with the OTLP schema below (counting every span, attribute, event, link
//! and nested value at its worst-case decoded size), and the JSON body by
//! [`clew_model::budget::shape::json_shape`]; the total is charged to the
//! budget, and only then does the real decoder run. Span counts are exact
//! for protobuf (checked up front) and checked after decoding for JSON
//! (whose memory the charge already bounds).

use std::mem::size_of;

use bytes::Bytes;
use clew_model::budget::shape::{MessageSchema, json_shape, proto_cost};
use clew_model::{DecodeBudget, KeyValue, Log, Process, Reference, Span, Value};

use crate::error::OtlpError;
use crate::reject::Decoded;

const KV: usize = size_of::<KeyValue>();

/// Schema indexes.
const REQUEST: usize = 0;
const RESOURCE_SPANS: usize = 1;
const RESOURCE: usize = 2;
const SCOPE_SPANS: usize = 3;
const SCOPE: usize = 4;
const SPAN: usize = 5;
const KEY_VALUE: usize = 6;
const EVENT: usize = 7;
const LINK: usize = 8;
const ANY_VALUE: usize = 9;
const ARRAY_VALUE: usize = 10;
const KV_LIST: usize = 11;

/// `ExportTraceServiceRequest` and what it contains, with the decoded cost of
/// each message: the model value, the decoder's scratch copy, and the tags
/// the mapping appends (kind, status, scope, trace state: at most 8 per span).
static OTLP_SCHEMA: [MessageSchema; 12] = [
    MessageSchema {
        cost: 64,
        is_span: false,
        children: &[(1, RESOURCE_SPANS)],
    },
    MessageSchema {
        cost: size_of::<Process>() + 64,
        is_span: false,
        children: &[(1, RESOURCE), (2, SCOPE_SPANS)],
    },
    MessageSchema {
        cost: 64,
        is_span: false,
        children: &[(1, KEY_VALUE)],
    },
    MessageSchema {
        cost: 4 * KV,
        is_span: false,
        children: &[(1, SCOPE), (2, SPAN)],
    },
    MessageSchema {
        cost: 4 * KV,
        is_span: false,
        children: &[(3, KEY_VALUE)],
    },
    MessageSchema {
        cost: size_of::<Span>() + 8 * KV,
        is_span: true,
        children: &[(9, KEY_VALUE), (11, EVENT), (13, LINK)],
    },
    MessageSchema {
        cost: 2 * KV,
        is_span: false,
        children: &[(2, ANY_VALUE)],
    },
    MessageSchema {
        cost: size_of::<Log>() + 2 * KV,
        is_span: false,
        children: &[(3, KEY_VALUE)],
    },
    MessageSchema {
        cost: size_of::<Reference>() + KV,
        is_span: false,
        children: &[(5, KEY_VALUE)],
    },
    MessageSchema {
        cost: 2 * size_of::<Value>(),
        is_span: false,
        children: &[(5, ARRAY_VALUE), (6, KV_LIST)],
    },
    MessageSchema {
        cost: 32,
        is_span: false,
        children: &[(1, ANY_VALUE)],
    },
    MessageSchema {
        cost: 32,
        is_span: false,
        children: &[(1, KEY_VALUE)],
    },
];

/// Decoded bytes one JSON object, array or scalar may stand for: any of them
/// may be a span, an attribute or a value, each passing through a serde
/// struct and a prost message before it becomes a model value.
const JSON_OBJECT_COST: usize = 3 * size_of::<Span>();
const JSON_ARRAY_COST: usize = 64;
const JSON_SCALAR_COST: usize = 2 * KV;

/// [`crate::decode`] after charging `budget` for the worst the body can
/// decode into. A body that is not well-formed protobuf is reported as the
/// decoder reports it.
pub fn decode_with_budget(
    body: &Bytes,
    budget: &mut DecodeBudget<'_>,
) -> Result<Decoded, OtlpError> {
    let cost = proto_cost(body, &OTLP_SCHEMA, REQUEST).map_err(|_| OtlpError::Wire {
        at: 0,
        reason: "malformed or too deeply nested protobuf",
    })?;
    budget.charge_spans(cost.spans)?;
    budget.charge(cost.bytes)?;
    crate::decode(body)
}

/// [`crate::json::decode`] after charging `budget` for the worst the body
/// can decode into (strings are owned copies here, so the body's length is
/// charged too).
pub fn decode_json_with_budget(
    body: &[u8],
    budget: &mut DecodeBudget<'_>,
) -> Result<Decoded, OtlpError> {
    let shape = json_shape(body);
    budget.charge(shape.cost(
        body.len(),
        JSON_OBJECT_COST,
        JSON_ARRAY_COST,
        JSON_SCALAR_COST,
    ))?;
    let decoded = crate::json::decode(body)?;
    budget.check_spans(decoded.spans.len())?;
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{BudgetError, DecodeLimits};
    use prost::Message;

    fn limits(max_spans: usize, max_bytes: usize) -> DecodeBudget<'static> {
        DecodeBudget::new(DecodeLimits {
            max_spans,
            max_bytes,
        })
    }

    /// `ExportTraceServiceRequest { resource_spans { scope_spans { spans: [{}; n] } } }`.
    fn empty_spans(n: usize) -> Bytes {
        let mut scope_spans = Vec::new();
        for _ in 0..n {
            scope_spans.extend_from_slice(&[0x12, 0x00]);
        }
        let mut rs = vec![0x12];
        prost::encoding::encode_varint(scope_spans.len() as u64, &mut rs);
        rs.extend_from_slice(&scope_spans);
        let mut req = vec![0x0a];
        prost::encoding::encode_varint(rs.len() as u64, &mut req);
        req.extend_from_slice(&rs);
        Bytes::from(req)
    }

    #[test]
    fn empty_span_messages_are_refused_before_decoding() {
        let body = empty_spans(100_000);
        assert!(body.len() < 210_000);
        let err = decode_with_budget(&body, &mut limits(50_000, 1 << 30)).expect_err("too many");
        assert!(matches!(
            err,
            OtlpError::Budget(BudgetError::TooManySpans { max: 50_000 })
        ));
        let err = decode_with_budget(&body, &mut limits(1 << 20, 10 << 20)).expect_err("too big");
        assert!(matches!(
            err,
            OtlpError::Budget(BudgetError::TooLarge { .. })
        ));
    }

    #[test]
    fn the_charge_bounds_what_decoding_really_holds() {
        let span = Span::new(
            clew_model::TraceId::new(1, 2),
            clew_model::SpanId(3),
            "op",
            std::sync::Arc::new(Process::new("svc")),
        );
        let body: Bytes = crate::spans_to_request(&vec![span; 10])
            .encode_to_vec()
            .into();
        let mut budget = limits(100, 1 << 20);
        let decoded = decode_with_budget(&body, &mut budget).expect("fits");
        let held: usize = decoded.spans.iter().map(Span::estimated_size).sum();
        assert_eq!(decoded.spans.len(), 10);
        assert!(
            budget.used() >= held,
            "charged {} < held {held}",
            budget.used()
        );
    }

    #[test]
    fn json_is_charged_by_its_shape() {
        let body = format!("{{\"resourceSpans\":[{}]}}", vec!["{}"; 10_000].join(","));
        let err = decode_json_with_budget(body.as_bytes(), &mut limits(10, 1 << 20))
            .expect_err("10,000 objects cost more than 1 MiB");
        assert!(matches!(
            err,
            OtlpError::Budget(BudgetError::TooLarge { .. })
        ));
    }
}
