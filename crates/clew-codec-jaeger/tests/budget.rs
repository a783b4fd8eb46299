//! Issue 7: a small body that declares millions of elements fails fast,
//! before it allocates, instead of becoming gigabytes of spans.

use clew_codec_jaeger::{DecodeError, Protocol, decode_batch_with};
use clew_model::{BudgetError, Bytes, DecodeBudget, DecodeLimits};

/// `Batch { 1: Process { 1: "svc" }, 2: list<Span> of `n` empty structs }`
/// in the binary protocol: one stop byte per span.
fn empty_spans(n: u32) -> Bytes {
    let mut b = vec![
        0x0c, 0x00, 0x01, // field 1: struct
        0x0b, 0x00, 0x01, 0, 0, 0, 3, b's', b'v', b'c', 0x00, // service name, stop
        0x0f, 0x00, 0x02, 0x0c, // field 2: list<struct>
    ];
    b.extend_from_slice(&n.to_be_bytes());
    b.resize(b.len() + n as usize, 0);
    b.push(0);
    Bytes::from(b)
}

/// A batch with one span whose tag list holds `n` empty tag structs.
fn empty_tags(n: u32) -> Bytes {
    let mut b = vec![
        0x0c, 0x00, 0x01, 0x0b, 0x00, 0x01, 0, 0, 0, 1, b's', 0x00, // process
        0x0f, 0x00, 0x02, 0x0c, 0, 0, 0, 1, // one span
        0x0f, 0x00, 0x0a, 0x0c, // span field 10: list<Tag>
    ];
    b.extend_from_slice(&n.to_be_bytes());
    b.resize(b.len() + n as usize, 0);
    b.extend_from_slice(&[0, 0]);
    Bytes::from(b)
}

#[test]
fn five_million_empty_spans_are_refused_by_count() {
    let body = empty_spans(5_000_000);
    let mut budget = DecodeBudget::new(DecodeLimits {
        max_spans: 50_000,
        max_bytes: 128 << 20,
    });
    let err = decode_batch_with(&body, Protocol::Binary, &mut budget).expect_err("too many");
    assert_eq!(
        err,
        DecodeError::Budget(BudgetError::TooManySpans { max: 50_000 })
    );
    assert!(
        budget.used() < 50_001 * 512,
        "stopped at the limit: {}",
        budget.used()
    );
}

#[test]
fn a_million_empty_tags_are_refused_by_size() {
    let body = empty_tags(1_000_000);
    let mut budget = DecodeBudget::new(DecodeLimits {
        max_spans: 50_000,
        max_bytes: 16 << 20,
    });
    let err = decode_batch_with(&body, Protocol::Binary, &mut budget).expect_err("too big");
    assert_eq!(
        err,
        DecodeError::Budget(BudgetError::TooLarge { max: 16 << 20 })
    );
}

#[test]
fn an_honest_batch_fits_and_is_charged_for_what_it_holds() {
    let body = empty_tags(100);
    let mut budget = DecodeBudget::default();
    let batch = decode_batch_with(&body, Protocol::Binary, &mut budget).expect("decodes");
    assert_eq!(batch.spans.len(), 1);
    // Empty tags have no value and are dropped, but were charged as read.
    assert!(budget.used() >= 100 * std::mem::size_of::<clew_model::KeyValue>());
}
