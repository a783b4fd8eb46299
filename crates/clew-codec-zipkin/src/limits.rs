//! What a Zipkin JSON or proto3 body may decode into, charged to a
//! [`DecodeBudget`] before it is decoded.
//!
//! These decoders go through `serde_json` and `prost`, which allocate as
//! they parse, so the bound is computed first by walking the bytes: every
//! JSON object, array and scalar, or every proto3 `Span`, `Endpoint`,
//! `Annotation` and tag entry, at the most it can cost once decoded into
//! the codec's intermediate types and then the model. The thrift decoder
//! charges element by element instead ([`crate::thrift::decode_span_list_with`]).

use std::mem::size_of;

use clew_model::budget::shape::{MessageSchema, json_shape, proto_cost};
use clew_model::{DecodeBudget, KeyValue, Log, Process, Span};

use crate::error::ZipkinError;
use crate::{Annotation, ZipkinSpan};

const KV: usize = size_of::<KeyValue>();

/// One span on its way to the model: the wire struct (v1 or v2 JSON, or
/// proto), the v2 span(s) it becomes, the model span and its process.
const SPAN_COST: usize =
    2 * size_of::<ZipkinSpan>() + size_of::<Span>() + size_of::<Process>() + 256;

/// Per JSON object, array and scalar (an object may be a span; a scalar may
/// be a tag key or value, each becoming an owned string and a model tag).
const JSON_OBJECT_COST: usize = SPAN_COST;
const JSON_ARRAY_COST: usize = 64;
const JSON_SCALAR_COST: usize = 2 * KV;

const LIST: usize = 0;
const SPAN: usize = 1;
const ENDPOINT: usize = 2;
const ANNOTATION: usize = 3;
const TAG: usize = 4;

/// `zipkin.proto3.ListOfSpans` and the messages inside it.
static PROTO_SCHEMA: [MessageSchema; 5] = [
    MessageSchema {
        cost: 32,
        is_span: false,
        children: &[(1, SPAN)],
    },
    MessageSchema {
        cost: SPAN_COST,
        is_span: true,
        children: &[(7, ENDPOINT), (8, ENDPOINT), (9, ANNOTATION), (10, TAG)],
    },
    MessageSchema {
        cost: 128,
        is_span: false,
        children: &[],
    },
    MessageSchema {
        cost: 2 * size_of::<Annotation>() + size_of::<Log>() + 2 * KV,
        is_span: false,
        children: &[],
    },
    MessageSchema {
        cost: 64 + 2 * KV,
        is_span: false,
        children: &[],
    },
];

/// Charges `budget` for the most a JSON body (v1 or v2: an array of spans)
/// can decode into, and checks its span count, before it is parsed.
pub fn charge_json(body: &[u8], budget: &mut DecodeBudget<'_>) -> Result<(), ZipkinError> {
    let shape = json_shape(body);
    budget.charge_spans(shape.top_level_elements)?;
    budget.charge(shape.cost(
        body.len(),
        JSON_OBJECT_COST,
        JSON_ARRAY_COST,
        JSON_SCALAR_COST,
    ))?;
    Ok(())
}

/// Charges `budget` for the most a proto3 `ListOfSpans` body can decode
/// into, and checks its span count, before it is parsed. A body whose wire
/// format is broken is refused here: prost would refuse it too, but only
/// after building everything in front of the broken byte, so a million
/// empty spans with one bad byte at the end must not reach it.
pub fn charge_proto(body: &[u8], budget: &mut DecodeBudget<'_>) -> Result<(), ZipkinError> {
    let cost = proto_cost(body, &PROTO_SCHEMA, LIST).map_err(|_| ZipkinError::Field {
        field: "ListOfSpans",
        reason: "malformed protobuf".into(),
    })?;
    budget.charge_spans(cost.spans)?;
    budget.charge(cost.bytes.saturating_add(body.len()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{BudgetError, DecodeLimits};

    fn budget(max_spans: usize, max_bytes: usize) -> DecodeBudget<'static> {
        DecodeBudget::new(DecodeLimits {
            max_spans,
            max_bytes,
        })
    }

    #[test]
    fn a_json_array_of_empty_objects_is_refused_by_count_and_size() {
        let body = format!("[{}]", vec!["{}"; 60_000].join(","));
        let err = charge_json(body.as_bytes(), &mut budget(50_000, 1 << 30)).expect_err("count");
        assert!(matches!(
            err,
            ZipkinError::Budget(BudgetError::TooManySpans { max: 50_000 })
        ));
        let err = charge_json(body.as_bytes(), &mut budget(1 << 20, 1 << 20)).expect_err("size");
        assert!(matches!(
            err,
            ZipkinError::Budget(BudgetError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_broken_tail_is_refused_before_prost_builds_the_spans_in_front() {
        let mut body: Vec<u8> = [0x0a, 0x00].repeat(100_000);
        body.push(0x0a); // a length-delimited field with no length
        let mut b = budget(1_000_000, 1 << 30);
        assert!(matches!(
            charge_proto(&body, &mut b),
            Err(ZipkinError::Field { .. })
        ));
        assert_eq!(b.used(), 0, "nothing charged, nothing decoded");
    }

    #[test]
    fn empty_proto_spans_are_counted() {
        let body: Vec<u8> = [0x0a, 0x00].repeat(1000);
        let mut b = budget(10_000, 1 << 30);
        charge_proto(&body, &mut b).expect("fits");
        assert_eq!(b.spans(), 1000);
        assert!(b.used() >= 1000 * size_of::<Span>());
    }
}
