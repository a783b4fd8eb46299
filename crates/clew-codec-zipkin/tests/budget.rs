//! Issue 7: the probe that took 11.5 GB — a Zipkin thrift list declaring
//! millions of empty span structs — fails fast against the budget.

use clew_codec_zipkin::ZipkinError;
use clew_codec_zipkin::thrift::{Protocol, decode_span_list_with};
use clew_model::{BudgetError, Bytes, DecodeBudget, DecodeLimits};

#[test]
fn a_list_of_two_million_empty_structs_is_refused_by_count() {
    let n: u32 = 2_000_000;
    let mut b = vec![0x0c];
    b.extend_from_slice(&n.to_be_bytes());
    b.resize(b.len() + n as usize, 0);
    let body = Bytes::from(b);
    let mut budget = DecodeBudget::new(DecodeLimits {
        max_spans: 50_000,
        max_bytes: 128 << 20,
    });
    let err = decode_span_list_with(&body, &body, Protocol::Binary, &mut budget)
        .expect_err("too many spans");
    assert!(
        matches!(
            err,
            ZipkinError::Budget(BudgetError::TooManySpans { max: 50_000 })
        ),
        "{err}"
    );
}

#[test]
fn a_lying_list_header_reserves_nothing_it_cannot_back() {
    // Declares 20 M spans but holds none: an EOF error, not a 20 M reservation.
    let mut b = vec![0x0c];
    b.extend_from_slice(&20_000_000u32.to_be_bytes());
    let body = Bytes::from(b);
    let mut budget = DecodeBudget::default();
    let err =
        decode_span_list_with(&body, &body, Protocol::Binary, &mut budget).expect_err("truncated");
    assert!(
        matches!(err, ZipkinError::Thrift(_) | ZipkinError::Budget(_)),
        "{err}"
    );
}
