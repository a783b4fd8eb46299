//! Conformance: a tag is found wherever it lives, whatever its type, and
//! whichever protocol carried it.
//!
//! Jaeger v2 matches a tag filter against span attributes, resource
//! (process) attributes, event (log) attributes, instrumentation-scope
//! attributes and link attributes, comparing the value's text form — Go's
//! text, so a float64 `42.0` is found by `42`, and `72.5` by `72.5`.
//! Jaeger's storage-integration fixtures "Scope Attributes" and "Link
//! Attributes" check the last two; these cases check every place with a
//! string, an integer, a float, a whole-number float and a bool.
//!
//! The spans are not built by hand: each fixture is real wire bytes decoded
//! by the codec the ingest path uses — jaeger.thrift `Batch` in the binary
//! (HTTP 14268, UDP 6832) and compact (UDP 6831) protocols, OTLP/JSON as a
//! client writes it, and the same OTLP request as protobuf through the
//! zero-copy decoder. Thrift has no scope or link attributes, so those places
//! are checked over OTLP only.

use clew_codec_jaeger::{Protocol, decode_batch, encode_batch};
use clew_model::{Bytes, KeyValue, Log, Span};
use prost::Message;

use super::fixtures::{MS, T0, found, process, query_all, span, tag, write};
use crate::query::TagFilter;
use crate::{TraceReader, TraceWriter};

/// Keys and the text a filter gives for each value type.
const STRING: (&str, &str) = ("placed.string", "sameplacevalue");
const INT: (&str, &str) = ("placed.int", "123");
const FLOAT: (&str, &str) = ("placed.float", "72.5");
/// A whole-number float64 (what a JavaScript client sends for `42`).
const WHOLE: (&str, &str) = ("placed.whole", "42");
const BOOL: (&str, &str) = ("placed.bool", "true");

fn typed_values() -> Vec<KeyValue> {
    vec![
        KeyValue::string(STRING.0, STRING.1),
        KeyValue::i64(INT.0, 123),
        KeyValue::f64(FLOAT.0, 72.5),
        KeyValue::f64(WHOLE.0, 42.0),
        KeyValue::bool(BOOL.0, true),
    ]
}

fn filters() -> Vec<TagFilter> {
    [STRING, INT, FLOAT, WHOLE, BOOL]
        .iter()
        .map(|(k, v)| tag(k, v))
        .collect()
}

/// One fixture: the service its trace is written under, and its trace.
struct Placed {
    service: String,
    trace: u64,
    spans: Vec<Span>,
}

/// Span, process and log placements, sent as a jaeger.thrift `Batch`.
fn over_thrift(protocol: Protocol, name: &str, first_trace: u64) -> Vec<Placed> {
    ["span", "process", "log"]
        .iter()
        .enumerate()
        .map(|(i, place)| {
            let trace = first_trace + i as u64;
            let service = format!("placed-{name}-{place}");
            let process_tags = if *place == "process" {
                typed_values()
            } else {
                vec![KeyValue::string("hostname", "h1")]
            };
            let p = process(&service, process_tags);
            let mut s = span(trace, 1, "op", &p, trace, 1);
            s.tags.push(KeyValue::string("other", "x"));
            match *place {
                "span" => s.tags.extend(typed_values()),
                "log" => s.logs.push(Log {
                    timestamp: T0 + trace * MS,
                    fields: typed_values(),
                }),
                _ => {}
            }
            let mut body = Vec::new();
            encode_batch(&p, &[s], protocol, &mut body);
            let spans = match decode_batch(&Bytes::from(body), protocol) {
                Ok(batch) => batch.spans,
                Err(e) => panic!("placement: thrift fixture does not decode: {e}"),
            };
            Placed {
                service,
                trace,
                spans,
            }
        })
        .collect()
}

/// OTLP/JSON attributes holding the typed values, as clients write them
/// (64-bit integers as strings).
const OTLP_VALUES: &str = r#"[
    {"key": "placed.string", "value": {"stringValue": "sameplacevalue"}},
    {"key": "placed.int", "value": {"intValue": "123"}},
    {"key": "placed.float", "value": {"doubleValue": 72.5}},
    {"key": "placed.whole", "value": {"doubleValue": 42}},
    {"key": "placed.bool", "value": {"boolValue": true}}
]"#;

/// An OTLP/JSON request with one span whose `place` holds [`OTLP_VALUES`].
fn otlp_request(service: &str, trace: u64, place: &str) -> String {
    let values = OTLP_VALUES.trim_start_matches('[').trim_end_matches(']');
    let at = |p: &str, otherwise: &str| {
        if p == place {
            values.to_string()
        } else {
            otherwise.to_string()
        }
    };
    let resource = at(
        "process",
        r#"{"key": "host.name", "value": {"stringValue": "h1"}}"#,
    );
    let span_attrs = at("span", r#"{"key": "more", "value": {"stringValue": "y"}}"#);
    let (scope, event, link) = (at("scope", ""), at("log", ""), at("link", ""));
    let start = T0 + trace * MS;
    let end = start + MS;
    format!(
        r#"{{"resourceSpans": [{{
            "resource": {{"attributes": [
                {{"key": "service.name", "value": {{"stringValue": "{service}"}}}},
                {resource}
            ]}},
            "scopeSpans": [{{
                "scope": {{"name": "placement-library", "version": "1.1.1", "attributes": [{scope}]}},
                "spans": [{{
                    "traceId": "{trace:032x}",
                    "spanId": "0000000000000001",
                    "name": "op",
                    "kind": 2,
                    "startTimeUnixNano": "{start}",
                    "endTimeUnixNano": "{end}",
                    "attributes": [{{"key": "other", "value": {{"stringValue": "x"}}}}, {span_attrs}],
                    "events": [{{"timeUnixNano": "{start}", "name": "ev", "attributes": [{event}]}}],
                    "links": [{{
                        "traceId": "000000000000000000000000000000ff",
                        "spanId": "00000000000000ff",
                        "attributes": [{link}]
                    }}]
                }}]
            }}]
        }}]}}"#
    )
}

/// Every placement, sent as OTLP/JSON or as the same request in protobuf.
fn over_otlp(protobuf: bool, first_trace: u64) -> Vec<Placed> {
    ["span", "process", "log", "scope", "link"]
        .iter()
        .enumerate()
        .map(|(i, place)| {
            let trace = first_trace + i as u64;
            let name = if protobuf { "otlp-proto" } else { "otlp-json" };
            let service = format!("placed-{name}-{place}");
            let json = otlp_request(&service, trace, place);
            let decoded = if protobuf {
                let req = match clew_codec_otlp::json::parse_request(json.as_bytes()) {
                    Ok(req) => req,
                    Err(e) => panic!("placement: OTLP/JSON fixture does not parse: {e}"),
                };
                clew_codec_otlp::decode(&Bytes::from(req.encode_to_vec()))
            } else {
                clew_codec_otlp::json::decode(json.as_bytes())
            };
            let spans = match decoded {
                Ok(d) if d.rejected.total() == 0 => d.spans,
                Ok(d) => panic!("placement: OTLP fixture rejected: {:?}", d.rejected),
                Err(e) => panic!("placement: OTLP fixture does not decode: {e}"),
            };
            Placed {
                service,
                trace,
                spans,
            }
        })
        .collect()
}

/// Every place × every value type × every protocol: each fixture's trace is
/// found by each typed filter alone and by all of them together, and by
/// nothing that only looks alike.
pub(super) async fn tags_are_found_wherever_they_live<S: TraceWriter + TraceReader>(store: S) {
    let mut fixtures = over_thrift(Protocol::Binary, "thrift-binary", 100);
    fixtures.extend(over_thrift(Protocol::Compact, "thrift-compact", 110));
    fixtures.extend(over_otlp(false, 120));
    fixtures.extend(over_otlp(true, 130));
    for f in &fixtures {
        write(&store, f.spans.clone()).await;
    }
    for f in &fixtures {
        let mut q = query_all();
        q.service = Some(f.service.clone());
        q.tags = filters();
        assert_eq!(
            found(&store, &q).await,
            vec![f.trace],
            "{}: all typed filters match on one span",
            f.service
        );
        for filter in filters() {
            q.tags = vec![filter.clone()];
            assert_eq!(
                found(&store, &q).await,
                vec![f.trace],
                "{}: {}={} matches",
                f.service,
                filter.key,
                filter.value
            );
        }
        for (key, near_miss) in [
            (WHOLE.0, "42.0"),
            (FLOAT.0, "72.50"),
            (INT.0, "123.0"),
            (BOOL.0, "True"),
            (STRING.0, "SamePlaceValue"),
        ] {
            q.tags = vec![tag(key, near_miss)];
            assert!(
                found(&store, &q).await.is_empty(),
                "{}: {key}={near_miss} must not match (values compare as Go's text)",
                f.service
            );
        }
    }
    // Without a service filter, each typed filter finds every fixture.
    let mut q = query_all();
    q.tags = vec![tag(WHOLE.0, WHOLE.1)];
    let mut all = found(&store, &q).await;
    all.sort_unstable();
    let mut want: Vec<u64> = fixtures.iter().map(|f| f.trace).collect();
    want.sort_unstable();
    assert_eq!(all, want, "a typed filter finds the tag in every place");
}

/// Jaeger's storage-integration cases "Scope Attributes" and "Link
/// Attributes": a tag that exists only in a scope's or a link's attributes,
/// and nowhere else in the trace, finds the trace; others do not.
pub(super) async fn scope_and_link_attributes_alone_find_their_trace<
    S: TraceWriter + TraceReader,
>(
    store: S,
) {
    let scope = over_otlp(false, 140).into_iter().nth(3);
    let link = over_otlp(true, 150).into_iter().nth(4);
    let (Some(scope), Some(link)) = (scope, link) else {
        panic!("placement: fixtures missing");
    };
    let decoy = process("placed-decoy", vec![]);
    write(&store, vec![span(160, 1, "op", &decoy, 160, 1)]).await;
    write(&store, scope.spans.clone()).await;
    write(&store, link.spans.clone()).await;
    let s = &scope.spans[0];
    assert!(
        s.scope.as_ref().is_some_and(|sc| sc.attributes.len() == 5),
        "scope attributes are kept through ingest"
    );
    assert!(
        !s.tags.iter().any(|t| t.key.starts_with("placed.")),
        "scope attributes are not span tags"
    );
    assert!(
        link.spans[0].references.iter().any(|r| r.tags.len() >= 5),
        "link attributes are kept through ingest"
    );
    let mut q = query_all();
    q.tags = filters();
    let mut hits = found(&store, &q).await;
    hits.sort_unstable();
    assert_eq!(
        hits,
        vec![scope.trace, link.trace],
        "scope and link attributes match"
    );
    q.service = Some(scope.service.clone());
    assert_eq!(
        found(&store, &q).await,
        vec![scope.trace],
        "Scope Attributes"
    );
    q.service = Some(link.service.clone());
    assert_eq!(found(&store, &q).await, vec![link.trace], "Link Attributes");
    let got = store.get_trace(s.trace_id).await.ok().flatten();
    assert_eq!(
        got.and_then(|t| t.spans.into_iter().next())
            .and_then(|s| s.scope),
        s.scope.clone(),
        "get_trace returns the scope"
    );
}
