//! Every carrier reads the same context from the same headers: an
//! `http::HeaderMap`, a `HashMap` and a `BTreeMap` holding one header set
//! (names in any case) must give equal extractions for every format.

use std::collections::{BTreeMap, HashMap};

use clew_client::SpanContext;
use clew_client::propagation::{CompositePropagator, Extractor, PropagationFormat, Propagator};
use proptest::prelude::*;

const FORMATS: [PropagationFormat; 7] = [
    PropagationFormat::Jaeger,
    PropagationFormat::TraceContext,
    PropagationFormat::Baggage,
    PropagationFormat::B3,
    PropagationFormat::B3Multi,
    PropagationFormat::XRay,
    PropagationFormat::CloudTrace,
];

const NAMES: [&str; 16] = [
    "uber-trace-id",
    "uberctx-user",
    "uberctx-Tenant",
    "jaeger-debug-id",
    "jaeger-baggage",
    "traceparent",
    "tracestate",
    "baggage",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
    "x-amzn-trace-id",
    "x-cloud-trace-context",
];

/// What a context is, with baggage as a sorted list: carriers iterate in
/// different orders, and baggage order is not part of any format.
fn summary(c: Option<SpanContext>) -> Option<String> {
    let c = c?;
    let mut bag: Vec<(String, String)> = c
        .baggage_items()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    bag.sort();
    Some(format!(
        "{c} deferred={} debug_id={:?} state={:?} baggage={bag:?}",
        c.is_sampling_deferred(),
        c.debug_id(),
        c.trace_state()
    ))
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        // Anything, non-ASCII included.
        ".{0,40}",
        // The characters the formats are made of.
        "[0-9a-fA-F]{0,33}",
        "[0-9a-f]{16}-[0-9a-f]{16}(-[01dx])?(-[0-9a-z]{1,16})?",
        "[0-9a-f]{32}/[0-9+]{1,4}(;o=[0-9x]{0,2})?",
        "Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16}(;Sampled=[01?x])?",
        "00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]",
        "[0-9a-f]{1,16}:[0-9a-f]{1,16}:[0-9a-f]{1,16}:[0-9a-f]{1,2}",
        // Baggage lists with valid and invalid members.
        "([a-zé ]{1,4}=[a-z0-9%é\" +]{0,5}(;[a-z ]{1,3})?,){1,4}",
        "(1|0|d|true|True|false|\\?)",
    ]
}

/// A header set: names from the formats' vocabulary in random case, unique
/// case-insensitively (an HTTP header map merges names that differ only in
/// case; a string map keeps both, and no format defines which one wins).
fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((0..NAMES.len(), any::<u32>(), value()), 0..10).prop_map(|hs| {
        let mut seen = std::collections::HashSet::new();
        hs.into_iter()
            .filter(|(i, _, _)| seen.insert(*i))
            .map(|(i, case, v)| {
                let name: String = NAMES[i]
                    .chars()
                    .enumerate()
                    .map(|(n, ch)| {
                        if case >> (n % 32) & 1 == 1 {
                            ch.to_ascii_uppercase()
                        } else {
                            ch.to_ascii_lowercase()
                        }
                    })
                    .collect();
                (name, v)
            })
            // What an HTTP header cannot hold (control characters) is in
            // neither carrier.
            .filter(|(_, v)| http::HeaderValue::from_str(v).is_ok())
            .collect()
    })
}

fn propagators() -> Vec<(String, Box<dyn Propagator>)> {
    let mut out: Vec<(String, Box<dyn Propagator>)> = FORMATS
        .iter()
        .map(|f| {
            (
                format!("{f:?}"),
                Box::new(CompositePropagator::from_formats(&[*f])) as _,
            )
        })
        .collect();
    out.push((
        "all".into(),
        Box::new(CompositePropagator::from_formats(&FORMATS)),
    ));
    out
}

fn check(hs: &[(String, String)]) -> Result<(), TestCaseError> {
    let hash: HashMap<String, String> = hs.iter().cloned().collect();
    let tree: BTreeMap<String, String> = hs.iter().cloned().collect();
    let mut http = http::HeaderMap::new();
    for (k, v) in hs {
        http.insert(
            http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            http::HeaderValue::from_str(v).expect("value"),
        );
    }
    for (name, p) in propagators() {
        let want = summary(p.extract(&hash as &dyn Extractor));
        prop_assert_eq!(
            &summary(p.extract(&http as &dyn Extractor)),
            &want,
            "{} HeaderMap vs HashMap on {:?}",
            name,
            hs
        );
        prop_assert_eq!(
            &summary(p.extract(&tree as &dyn Extractor)),
            &want,
            "{} BTreeMap vs HashMap on {:?}",
            name,
            hs
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn carriers_extract_the_same_context(hs in headers()) {
        check(&hs)?;
    }
}

/// The case the issue found: one non-ASCII member used to drop the whole
/// `baggage` header from a `HeaderMap` while a `HashMap` kept the rest.
#[test]
fn non_ascii_baggage_member_is_dropped_alone_in_every_carrier() {
    let hs = vec![(
        "Baggage".to_string(),
        "user=alice,city=z\u{fc}rich,tenant=t1".to_string(),
    )];
    check(&hs).expect("carriers agree");
    let p = PropagationFormat::Baggage.propagator();
    let mut http = http::HeaderMap::new();
    http.insert(
        "baggage",
        http::HeaderValue::from_str(&hs[0].1).expect("value"),
    );
    let c = p.extract(&http).expect("valid members kept");
    let items: Vec<_> = c.baggage_items().collect();
    assert_eq!(items, [("user", "alice"), ("tenant", "t1")]);
}
