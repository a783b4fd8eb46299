//! Spans sent over Jaeger's collector and agent wire formats come back from
//! the query API in the JSON shapes the Jaeger UI and Grafana expect.

use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clew_codec_jaeger::{Protocol, encode_batch, encode_emit_batch_message};
use clew_model::{KeyValue, Log, Process, Reference, Span, SpanId, TraceId};
use serde_json::{Value, json};

use crate::harness::{Clew, TempDir, span_by_op, tag};

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos() as u64
        - 60_000_000_000
}

pub(crate) struct Fixture {
    frontend: Arc<Process>,
    driver: Arc<Process>,
    front_spans: Vec<Span>,
    driver_spans: Vec<Span>,
}

/// frontend `GET /dispatch` (server) → frontend `HTTP GET` (client) → driver `FindNearest` (server).
pub(crate) fn fixture(trace: TraceId) -> Fixture {
    let t0 = now_ns();
    let mut frontend = Process::new("frontend");
    frontend.tags.push(KeyValue::string("hostname", "host-a"));
    frontend.tags.push(KeyValue::string("region", "eu"));
    let frontend = Arc::new(frontend);
    let driver = Arc::new(Process::new("driver"));

    let mut root = Span::new(trace, SpanId(0x10), "GET /dispatch", frontend.clone());
    root.start_time = t0;
    root.duration = 50_000_000;
    root.flags = 1;
    root.tags = vec![
        KeyValue::string("span.kind", "server"),
        KeyValue::i64("http.status_code", 200),
        KeyValue::i64("big", 9_007_199_254_740_993),
        KeyValue::binary("blob", vec![1u8, 2, 3]),
        KeyValue::f64("ratio", 0.25),
    ];
    root.logs = vec![Log {
        timestamp: t0 + 1_000_000,
        fields: vec![
            KeyValue::string("event", "dispatching"),
            KeyValue::string("customer", "123"),
        ],
    }];

    let mut client = Span::new(trace, SpanId(0x11), "HTTP GET", frontend.clone());
    client.start_time = t0 + 2_000_000;
    client.duration = 30_000_000;
    client.flags = 1;
    client.references = vec![Reference::child_of(trace, SpanId(0x10))];
    client.tags = vec![KeyValue::string("span.kind", "client")];

    let mut server = Span::new(trace, SpanId(0x12), "FindNearest", driver.clone());
    server.start_time = t0 + 3_000_000;
    server.duration = 20_000_000;
    server.flags = 1;
    server.references = vec![Reference::child_of(trace, SpanId(0x11))];
    server.tags = vec![
        KeyValue::string("span.kind", "server"),
        KeyValue::string("db", "redis"),
    ];

    Fixture {
        frontend,
        driver,
        front_spans: vec![root, client],
        driver_spans: vec![server],
    }
}

fn post_thrift(clew: &Clew, body: Vec<u8>, content_type: &str) -> (u16, String) {
    let resp = reqwest::blocking::Client::new()
        .post(clew.url("collector_http", "/api/traces?format=jaeger.thrift"))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .expect("POST /api/traces");
    (resp.status().as_u16(), resp.text().unwrap_or_default())
}

pub(crate) fn send_fixture_over_http(clew: &Clew, f: &Fixture) {
    for (process, spans) in [(&f.frontend, &f.front_spans), (&f.driver, &f.driver_spans)] {
        let mut body = Vec::new();
        encode_batch(process, spans, Protocol::Binary, &mut body);
        let (status, text) = post_thrift(clew, body, "application/x-thrift");
        assert_eq!(status, 202, "{text}");
    }
}

#[test]
fn collector_http_batches_are_searchable_in_jaeger_json() {
    let clew = Clew::start(&[]);
    let f = fixture(TraceId::new(0, 0xabc));
    send_fixture_over_http(&clew, &f);
    let trace = clew.wait_for_trace("abc", 3);

    // Trace JSON, as the UI reads it.
    assert_eq!(trace["traceID"], "0000000000000abc");
    let root = span_by_op(&trace, "GET /dispatch");
    assert_eq!(root["spanID"], "0000000000000010");
    assert_eq!(root["flags"], 1);
    assert_eq!(root["duration"], 50_000);
    assert_eq!(root["startTime"], f.front_spans[0].start_time / 1000);
    assert_eq!(tag(root, "http.status_code"), Some(("int64", &json!(200))));
    assert_eq!(
        tag(root, "big"),
        Some(("int64", &json!("9007199254740993")))
    );
    assert_eq!(tag(root, "blob"), Some(("binary", &json!("AQID"))));
    assert_eq!(tag(root, "ratio"), Some(("float64", &json!(0.25))));
    assert_eq!(
        root["logs"][0]["timestamp"],
        (f.front_spans[0].start_time + 1_000_000) / 1000
    );
    let server = span_by_op(&trace, "FindNearest");
    assert_eq!(
        server["references"],
        json!([{"refType": "CHILD_OF", "traceID": "0000000000000abc", "spanID": "0000000000000011"}])
    );
    let processes = trace["processes"].as_object().expect("processes");
    assert_eq!(processes.len(), 2);
    assert_eq!(
        trace["processes"][root["processID"].as_str().expect("pid")]["serviceName"],
        "frontend"
    );
    assert_eq!(
        trace["processes"][server["processID"].as_str().expect("pid")]["serviceName"],
        "driver"
    );

    // Services and operations.
    let (_, services) = clew.get_json("/api/services");
    assert_eq!(services["data"], json!(["driver", "frontend"]));
    assert_eq!(services["total"], 2);
    assert_eq!(services["errors"], Value::Null);
    let (_, ops) = clew.get_json("/api/services/frontend/operations");
    assert_eq!(ops["data"], json!(["GET /dispatch", "HTTP GET"]));
    let (_, ops) = clew.get_json("/api/operations?service=frontend&spanKind=server");
    assert_eq!(
        ops["data"],
        json!([{"name": "GET /dispatch", "spanKind": "server"}])
    );

    // Search: tags in JSON and key:value form, in span tags, process tags and logs.
    let found = |q: &str| -> Vec<String> {
        let (status, v) = clew.get_json(&format!("/api/traces?{q}"));
        assert_eq!(status, 200, "{q}: {v}");
        v["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|t| t["traceID"].to_string())
            .collect()
    };
    let hit = vec!["\"0000000000000abc\"".to_string()];
    assert_eq!(
        found("service=driver&tags=%7B%22db%22%3A%22redis%22%7D"),
        hit
    );
    assert_eq!(found("service=driver&tag=db:redis"), hit);
    assert_eq!(
        found("service=frontend&tags=%7B%22region%22%3A%22eu%22%7D"),
        hit
    );
    assert_eq!(found("service=frontend&tag=customer:123"), hit);
    assert_eq!(
        found("service=frontend&tag=http.status_code:200&operation=GET%20%2Fdispatch"),
        hit
    );
    assert!(found("service=driver&tag=db:mysql").is_empty());
    assert_eq!(found("service=frontend&minDuration=40ms"), hit);
    assert!(found("service=driver&minDuration=40ms").is_empty());
    assert!(found("service=frontend&maxDuration=1ms").is_empty());

    // Dependencies from the client→server edge across services.
    let (_, deps) =
        clew.get_json("/api/dependencies?endTs=99999999999999&lookback=999999999999999");
    assert_eq!(
        deps["data"],
        json!([{"parent": "frontend", "child": "driver", "callCount": 1}])
    );
}

#[test]
fn missing_trace_is_404_with_the_jaeger_envelope() {
    let clew = Clew::start(&[]);
    let resp = reqwest::blocking::get(clew.query("/api/traces/ffffffffffffffff")).expect("GET");
    assert_eq!(resp.status().as_u16(), 404);
    let v: Value = serde_json::from_str(&resp.text().expect("body")).expect("JSON");
    assert_eq!(v["data"], Value::Null);
    assert_eq!(v["errors"][0]["code"], 404);
    assert_eq!(v["errors"][0]["msg"], "trace not found");
    let (status, v) = clew.get_json("/api/traces?limit=5");
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["errors"][0]["msg"], "parameter 'service' is required");
}

#[test]
fn agent_udp_compact_and_binary_datagrams_are_stored() {
    let clew = Clew::start(&[]);
    let f = fixture(TraceId::new(0x1234, 0x5678));
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut dgram = Vec::new();
    encode_emit_batch_message(
        &f.frontend,
        &f.front_spans,
        1,
        Protocol::Compact,
        &mut dgram,
    );
    udp.send_to(&dgram, clew.addr("agent_compact"))
        .expect("send compact");
    dgram.clear();
    encode_emit_batch_message(&f.driver, &f.driver_spans, 2, Protocol::Binary, &mut dgram);
    udp.send_to(&dgram, clew.addr("agent_binary"))
        .expect("send binary");
    let trace = clew.wait_for_trace("00000000000012340000000000005678", 3);
    assert_eq!(trace["traceID"], "00000000000012340000000000005678");
    // Leading zeros are optional when asking.
    let (status, _) = clew.get_json("/api/traces/12340000000000005678");
    assert_eq!(status, 200);
}

#[test]
fn bad_input_is_rejected_counted_and_harmless() {
    let clew = Clew::start(&[]);
    let (status, body) = post_thrift(
        &clew,
        b"\x0c\xff\xff not thrift".to_vec(),
        "application/x-thrift",
    );
    assert_eq!(status, 400);
    let v: Value = serde_json::from_str(&body).expect("JSON error body");
    assert!(v["error"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    let (status, _) = post_thrift(&clew, vec![], "text/plain");
    assert_eq!(status, 400);

    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    for port in ["agent_compact", "agent_binary", "agent_zipkin_compact"] {
        udp.send_to(b"garbage datagram", clew.addr(port))
            .expect("send");
    }
    // A span with a zero trace ID is rejected; its valid sibling is kept.
    let f = fixture(TraceId::new(0, 0x77));
    let mut bad = f.front_spans.clone();
    bad[1].trace_id = TraceId::new(0, 0);
    let mut body = Vec::new();
    encode_batch(&f.frontend, &bad, Protocol::Binary, &mut body);
    assert_eq!(post_thrift(&clew, body, "application/x-thrift").0, 202);
    let trace = clew.wait_for_trace("77", 1);
    assert_eq!(trace["spans"].as_array().map(Vec::len), Some(1));

    // The process is still up and counted all of it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = reqwest::blocking::get(clew.url("admin_http", "/metrics"))
            .expect("metrics")
            .text()
            .expect("text");
        let rejected_span = metrics
            .lines()
            .any(|l| l.contains("zero_trace_id") && !l.ends_with(" 0"));
        let rejected_dgrams = metrics
            .lines()
            .filter(|l| l.starts_with("clew_agent_datagrams_rejected") && !l.ends_with(" 0"))
            .count();
        if rejected_span && rejected_dgrams >= 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rejections not counted:\n{metrics}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sampling_strategies_are_served_to_clients() {
    let dir = TempDir::new("sampling");
    let file = dir.0.join("strategies.json");
    std::fs::write(
        &file,
        r#"{"default_strategy": {"type": "probabilistic", "param": 0.5},
            "service_strategies": [{"service": "limited", "type": "ratelimiting", "param": 7}]}"#,
    )
    .expect("write strategies");
    let clew = Clew::start(&[
        "--sampling-strategies-file",
        file.to_str().expect("utf-8 path"),
    ]);
    let get = |path: &str| -> Value {
        reqwest::blocking::get(clew.url("sampling_http", path))
            .expect("GET")
            .json()
            .expect("JSON")
    };
    assert_eq!(
        get("/sampling?service=limited"),
        json!({"strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": 7}})
    );
    assert_eq!(
        get("/sampling?service=other"),
        json!({"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.5}})
    );
    assert_eq!(get("/?service=limited")["strategyType"], 1);
    assert_eq!(get("/baggageRestrictions?service=x"), json!([]));
    let resp = reqwest::blocking::get(clew.url("sampling_http", "/sampling")).expect("GET");
    assert_eq!(resp.status().as_u16(), 400);

    let default = Clew::start(&[]);
    let v: Value = reqwest::blocking::get(default.url("sampling_http", "/sampling?service=x"))
        .expect("GET")
        .json()
        .expect("JSON");
    assert_eq!(v["probabilisticSampling"]["samplingRate"], 1.0);
}
