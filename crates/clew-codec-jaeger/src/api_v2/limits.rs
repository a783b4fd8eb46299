//! What a `PostSpansRequest` may decode into, charged before prost decodes it.
//!
//! prost allocates as it parses, and an empty `Span` message is two bytes
//! that become a struct of hundreds, so the bound is computed first, by
//! walking the message with the api_v2 schema
//! ([`clew_model::budget::shape::proto_cost`]): every span, tag, log,
//! reference and process at what it costs as a prost message *and* as the
//! model value it is converted into, plus the owned copies of its strings.

use std::mem::size_of;

use clew_model::budget::shape::{MessageSchema, proto_cost};
use clew_model::{DecodeBudget, KeyValue, Log, Process, Reference, Span};

use super::pb;
use crate::DecodeError;

const REQUEST: usize = 0;
const BATCH: usize = 1;
const SPAN: usize = 2;
const SPAN_REF: usize = 3;
const KEY_VALUE: usize = 4;
const LOG: usize = 5;
const PROCESS: usize = 6;

static SCHEMA: [MessageSchema; 7] = [
    MessageSchema {
        cost: size_of::<pb::PostSpansRequest>(),
        is_span: false,
        children: &[(1, BATCH)],
    },
    MessageSchema {
        cost: size_of::<pb::Batch>(),
        is_span: false,
        children: &[(1, SPAN), (2, PROCESS)],
    },
    MessageSchema {
        cost: size_of::<pb::Span>() + size_of::<Span>(),
        is_span: true,
        children: &[(4, SPAN_REF), (8, KEY_VALUE), (9, LOG), (10, PROCESS)],
    },
    MessageSchema {
        cost: size_of::<pb::SpanRef>() + size_of::<Reference>(),
        is_span: false,
        children: &[],
    },
    MessageSchema {
        cost: size_of::<pb::KeyValue>() + size_of::<KeyValue>(),
        is_span: false,
        children: &[],
    },
    MessageSchema {
        cost: size_of::<pb::Log>() + size_of::<Log>(),
        is_span: false,
        children: &[(2, KEY_VALUE)],
    },
    MessageSchema {
        cost: size_of::<pb::Process>() + size_of::<Process>() + 64,
        is_span: false,
        children: &[(2, KEY_VALUE)],
    },
];

/// Charges `budget` for the most `body` (a `PostSpansRequest`) can decode
/// into, checking its span count first. A body whose wire format is broken
/// is refused here ([`DecodeError::BadProtobuf`]): prost would refuse it
/// too, but only after building everything in front of the broken byte.
pub fn charge_post_spans(body: &[u8], budget: &mut DecodeBudget<'_>) -> Result<(), DecodeError> {
    let cost = proto_cost(body, &SCHEMA, REQUEST)
        .map_err(|_| DecodeError::BadProtobuf("malformed PostSpansRequest"))?;
    budget.charge_spans(cost.spans)?;
    // prost copies every string once; the model keeps those copies.
    budget.charge(cost.bytes.saturating_add(body.len()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{BudgetError, DecodeLimits};
    use prost::Message;

    #[test]
    fn empty_spans_are_refused_before_prost_sees_them() {
        // PostSpansRequest { batch { spans: [{}; 100_000] } }
        let spans: Vec<u8> = [0x0a, 0x00].repeat(100_000);
        let mut batch = vec![0x0a];
        prost::encoding::encode_varint(spans.len() as u64, &mut batch);
        batch.extend_from_slice(&spans);
        let mut budget = DecodeBudget::new(DecodeLimits {
            max_spans: 50_000,
            max_bytes: 1 << 30,
        });
        assert_eq!(
            charge_post_spans(&batch, &mut budget),
            Err(DecodeError::Budget(BudgetError::TooManySpans {
                max: 50_000
            }))
        );
    }

    #[test]
    fn a_broken_tail_is_refused_before_prost_builds_the_spans_in_front() {
        let spans: Vec<u8> = [0x0a, 0x00].repeat(10_000);
        let mut batch = vec![0x0a];
        prost::encoding::encode_varint(spans.len() as u64, &mut batch);
        batch.extend_from_slice(&spans);
        batch.push(0x0a); // a length-delimited field with no length
        let mut budget = DecodeBudget::default();
        assert!(matches!(
            charge_post_spans(&batch, &mut budget),
            Err(DecodeError::BadProtobuf(_))
        ));
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn the_charge_covers_the_prost_message() {
        let req = pb::PostSpansRequest {
            batch: Some(pb::Batch {
                spans: vec![pb::Span::default(); 10],
                process: Some(pb::Process::default()),
            }),
        };
        let body = req.encode_to_vec();
        let mut budget = DecodeBudget::default();
        charge_post_spans(&body, &mut budget).expect("fits");
        assert_eq!(budget.spans(), 10);
        assert!(budget.used() >= 10 * (size_of::<pb::Span>() + size_of::<Span>()));
    }
}
