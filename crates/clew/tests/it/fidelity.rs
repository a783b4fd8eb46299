//! Jaeger's JSON and search semantics, exactly (issue 8).
//!
//! Node's `jaeger-client` sends every JavaScript number as a float64 tag.
//! Jaeger prints a float64 the way Go's `encoding/json` does (`42`, not
//! `42.0`; `1e+21`, `1e-7`) and its tag search compares that same text, so
//! `int.tag=42` finds the span. These tests read the exact JSON text back
//! from Clew's Jaeger API, API v3 and Zipkin API, and search by it.
//!
//! They also check what only OpenTelemetry can send: a tag that lives only in
//! an instrumentation scope's attributes or only in a link's attributes
//! finds its trace through `/api/traces`, over OTLP/JSON and protobuf.
//!
//! The Node tests need `CLEW_NODE_DIR` (see `interop.rs`); they say
//! "skipping" without it, and fail if `CLEW_REQUIRE_INTEROP` is set.

use serde_json::Value;

use crate::harness::Clew;
use crate::interop::node;

/// Tag values as Node's client sends them (all numbers float64) and the
/// exact `{"key","type","value"}` text Jaeger writes for them.
const SPAN_TAGS: &[(&str, &str, &str)] = &[
    ("str.tag", "string", r#""text""#),
    ("int.tag", "float64", "42"),
    ("neg.tag", "float64", "-7"),
    ("zero.tag", "float64", "0"),
    ("negzero.tag", "float64", "-0"),
    ("float.tag", "float64", "2.5"),
    ("sum.tag", "float64", "0.30000000000000004"),
    ("big.tag", "float64", "1e+21"),
    ("below.big.tag", "float64", "100000000000000000000"),
    ("tiny.tag", "float64", "1e-7"),
    ("small.tag", "float64", "0.000001"),
    ("bool.tag", "bool", "true"),
    ("false.tag", "bool", "false"),
];
const LOG_FIELDS: &[(&str, &str, &str)] = &[
    ("log.int", "float64", "3"),
    ("log.float", "float64", "0.25"),
    ("log.bool", "bool", "true"),
    ("log.str", "string", r#""s""#),
];
const PROCESS_TAGS: &[(&str, &str, &str)] = &[
    ("proc.int", "float64", "7"),
    ("proc.float", "float64", "0.5"),
    ("proc.bool", "bool", "false"),
    ("proc.str", "string", r#""p""#),
];

/// Percent-encodes a query parameter value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GET on a listener; (status, body text).
fn get_text(url: &str) -> (u16, String) {
    let resp = reqwest::blocking::get(url).expect("GET");
    (resp.status().as_u16(), resp.text().expect("body"))
}

/// Trace IDs `/api/traces?service=&tags=` finds for one `key=value` filter,
/// in both of Jaeger's spellings (`tags` JSON and `tag=key:value`).
fn search(clew: &Clew, service: &str, key: &str, value: &str) -> Vec<String> {
    let json = serde_json::json!({ key: value }).to_string();
    let mut answers = Vec::new();
    for param in [
        format!("tags={}", encode(&json)),
        format!("tag={}", encode(&format!("{key}:{value}"))),
    ] {
        let (status, body) = clew.get_json(&format!(
            "/api/traces?service={}&{param}&lookback=1h",
            encode(service)
        ));
        assert_eq!(status, 200, "search {key}={value}: {body}");
        let ids: Vec<String> = body["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t["traceID"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        answers.push(ids);
    }
    assert_eq!(
        answers[0], answers[1],
        "tags= and tag= agree for {key}={value}"
    );
    answers.swap_remove(0)
}

/// The trace ID a client printed, in Clew's text form.
fn normalise(id: &str) -> String {
    if id.len() <= 16 {
        format!("{id:0>16}")
    } else {
        format!("{id:0>32}")
    }
}

fn node_typed_tags(clew: &Clew, args: &[&str], service: &str) {
    let mut argv = vec!["jaeger_client_types.js"];
    argv.extend_from_slice(args);
    argv.push(service);
    let Some(sent) = node(&argv) else {
        return;
    };
    let trace_id = normalise(sent["traceID"].as_str().expect("traceID"));
    clew.wait_for_trace(&trace_id, 1);

    // The exact JSON text of every tag, log field and process tag.
    let (status, text) = get_text(&clew.query(&format!("/api/traces/{trace_id}")));
    assert_eq!(status, 200, "{text}");
    for (key, kind, value) in SPAN_TAGS.iter().chain(LOG_FIELDS).chain(PROCESS_TAGS) {
        let want = format!(r#"{{"key":"{key}","type":"{kind}","value":{value}}}"#);
        assert!(text.contains(&want), "{service}: want {want} in {text}");
    }
    let (_, pretty) = get_text(&clew.query(&format!("/api/traces/{trace_id}?prettyPrint=true")));
    assert!(
        pretty.contains("\"value\": 42\n"),
        "{service}: prettyPrint writes 42 too: {pretty}"
    );

    // Search compares the same text: `int.tag=42` finds the span; text that
    // only means the same number does not (Jaeger compares strings).
    for (key, _, value) in SPAN_TAGS.iter().chain(LOG_FIELDS).chain(PROCESS_TAGS) {
        let value = value.trim_matches('"');
        assert_eq!(
            search(clew, service, key, value),
            vec![trace_id.clone()],
            "{service}: {key}={value} finds the trace"
        );
    }
    for (key, value) in [
        ("int.tag", "42.0"),
        ("big.tag", "1e21"),
        ("tiny.tag", "0.0000001"),
        ("proc.int", "7.0"),
    ] {
        assert!(
            search(clew, service, key, value).is_empty(),
            "{service}: {key}={value} must not match"
        );
    }

    // API v3 (OTLP/JSON) and Zipkin print the same numbers.
    let (status, v3) = get_text(&clew.query(&format!("/api/v3/traces/{trace_id}")));
    assert_eq!(status, 200, "{v3}");
    for want in [
        r#"{"key":"int.tag","value":{"doubleValue":42}}"#,
        r#"{"key":"big.tag","value":{"doubleValue":1e+21}}"#,
        r#"{"key":"tiny.tag","value":{"doubleValue":1e-7}}"#,
        r#"{"key":"proc.int","value":{"doubleValue":7}}"#,
    ] {
        assert!(v3.contains(want), "{service}: want {want} in {v3}");
    }
    let (status, zipkin) = get_text(&clew.url("zipkin_http", &format!("/api/v2/trace/{trace_id}")));
    assert_eq!(status, 200, "{zipkin}");
    for want in [
        r#""int.tag":"42""#,
        r#""big.tag":"1e+21""#,
        r#""tiny.tag":"1e-7""#,
    ] {
        assert!(zipkin.contains(want), "{service}: want {want} in {zipkin}");
    }
}

#[test]
fn node_jaeger_client_typed_tags_over_udp_6832_read_back_as_jaeger_writes_them() {
    let clew = Clew::start(&[]);
    let port = clew.addr("agent_binary").port().to_string();
    node_typed_tags(&clew, &["udp", "127.0.0.1", &port], "node-types-udp");
}

#[test]
fn node_jaeger_client_typed_tags_over_http_14268_read_back_as_jaeger_writes_them() {
    let clew = Clew::start(&[]);
    let url = clew.url("collector_http", "/api/traces");
    node_typed_tags(&clew, &["http", &url], "node-types-http");
}

/// Jaeger's "Scope Attributes" and "Link Attributes" fixtures over OTLP/JSON:
/// a tag that exists only in the scope's (or only in a link's) attributes
/// finds the trace, whatever the value's type.
#[test]
fn scope_and_link_attributes_alone_find_their_trace_over_otlp_json() {
    let clew = Clew::start(&[]);
    let attrs = |prefix: &str| {
        format!(
            r#"[{{"key": "{prefix}1", "value": {{"stringValue": "sameplacevalue"}}}},
                {{"key": "{prefix}2", "value": {{"intValue": "123"}}}},
                {{"key": "{prefix}3", "value": {{"doubleValue": 72.5}}}},
                {{"key": "{prefix}4", "value": {{"boolValue": true}}}}]"#
        )
    };
    let body = format!(
        r#"{{"resourceSpans": [
          {{"resource": {{"attributes": [{{"key": "service.name", "value": {{"stringValue": "query24-service"}}}}]}},
            "scopeSpans": [{{"scope": {{"name": "testing-library", "version": "1.1.1", "attributes": {scope}}},
              "spans": [{{"traceId": "00000000000000000000000000000225", "spanId": "0000000000000002",
                "name": "placeholder", "startTimeUnixNano": "{start}", "endTimeUnixNano": "{end}"}}]}}]}},
          {{"resource": {{"attributes": [{{"key": "service.name", "value": {{"stringValue": "query25-service"}}}}]}},
            "scopeSpans": [{{"scope": {{}},
              "spans": [{{"traceId": "00000000000000000000000000000226", "spanId": "0000000000000004",
                "name": "query25-operation", "startTimeUnixNano": "{start}", "endTimeUnixNano": "{end}",
                "links": [{{"traceId": "000000000000000000000000000000ff", "spanId": "00000000000000ff",
                  "attributes": {link}}}]}}]}}]}}
        ]}}"#,
        scope = attrs("sameplacescopeattribute"),
        link = attrs("sameplacelinkattribute"),
        start = now_ns() - 1_000_000_000,
        end = now_ns(),
    );
    let resp = reqwest::blocking::Client::new()
        .post(clew.url("otlp_http", "/v1/traces"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .expect("POST OTLP/JSON");
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text());
    clew.wait_for_trace("0000000000000225", 1);
    clew.wait_for_trace("0000000000000226", 1);
    for (service, prefix, trace) in [
        (
            "query24-service",
            "sameplacescopeattribute",
            "0000000000000225",
        ),
        (
            "query25-service",
            "sameplacelinkattribute",
            "0000000000000226",
        ),
    ] {
        // Jaeger's query: all four typed tags at once, as the UI sends them.
        let tags = serde_json::json!({
            format!("{prefix}1"): "sameplacevalue",
            format!("{prefix}2"): "123",
            format!("{prefix}3"): "72.5",
            format!("{prefix}4"): "true",
        });
        let (status, v) = clew.get_json(&format!(
            "/api/traces?service={service}&tags={}",
            encode(&tags.to_string())
        ));
        assert_eq!(status, 200, "{v}");
        let ids: Vec<&str> = v["data"]
            .as_array()
            .map(|a| a.iter().filter_map(|t| t["traceID"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(ids, vec![trace], "{service}: {v}");
        for (n, value) in ["sameplacevalue", "123", "72.5", "true"].iter().enumerate() {
            let key = format!("{prefix}{}", n + 1);
            assert_eq!(search(&clew, service, &key, value), vec![trace.to_owned()]);
        }
    }
    // Scope attributes come back in API v3's scope; Jaeger's UI JSON has no
    // place for them (Jaeger's translator drops them there too).
    let (_, v3) = get_text(&clew.query("/api/v3/traces/00000000000000000000000000000225"));
    assert!(
        v3.contains(r#""key":"sameplacescopeattribute3","value":{"doubleValue":72.5}"#),
        "{v3}"
    );
}

/// The OpenTelemetry JS SDK puts `link.kind=retry` on a link only; the trace
/// holding that link is found by it over OTLP protobuf and JSON.
#[test]
fn node_otel_sdk_link_attributes_find_their_trace() {
    let clew = Clew::start(&[]);
    let url = clew.url("otlp_http", "/v1/traces");
    for kind in ["otlp-proto", "otlp-json"] {
        let service = format!("node-links-{kind}");
        let Some(sent) = node(&["otel_sdk_trace.js", kind, &url, &service]) else {
            return;
        };
        let later: &Value = &sent["laterTraceID"];
        let later = normalise(later.as_str().expect("laterTraceID"));
        clew.wait_for_trace(&later, 1);
        assert_eq!(
            search(&clew, &service, "link.kind", "retry"),
            vec![later.clone()],
            "{kind}: the link attribute finds the trace"
        );
    }
}

fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
