//! Spans sent by the client over UDP, HTTP and OTLP come back intact from a
//! running Clew's query API.
//!
//! Needs a server: `CLEW_QUERY_URL` (e.g. `http://127.0.0.1:16686`) plus
//! `CLEW_AGENT_ADDR` (UDP compact, e.g. `127.0.0.1:6831`),
//! `CLEW_COLLECTOR_URL` (e.g. `http://127.0.0.1:14268/api/traces`) and/or
//! `CLEW_OTLP_URL` (e.g. `http://127.0.0.1:4318`) and `CLEW_OTLP_GRPC_URL`
//! (e.g. `http://127.0.0.1:4317`), the last two with the `otlp` feature.
//! `CLEW_SAMPLING_URL` (e.g. `http://127.0.0.1:5778`) checks the remote
//! sampler. Each check is skipped with a message when its variable is unset.

use std::time::{Duration, Instant};

use clew_client::reporter::{RemoteReporter, RemoteReporterOptions};
use clew_client::sampler::ConstSampler;
use clew_client::sender::{HttpSender, HttpSenderOptions, Sender, UdpSender};
use clew_client::{Tag, Tracer};
use serde_json::Value;

fn env(name: &str) -> Option<String> {
    let v = std::env::var(name).ok().filter(|v| !v.is_empty());
    if v.is_none() {
        eprintln!("skipped: {name} is not set (needs a running Clew)");
    }
    v
}

/// Sends a two-span trace through `sender` and returns its trace ID.
fn send_trace(service: &str, sender: impl Sender + 'static) -> String {
    let tracer = Tracer::builder(service)
        .sampler(ConstSampler(true))
        .reporter(RemoteReporter::new(
            sender,
            RemoteReporterOptions::default(),
        ))
        .build();
    let mut root = tracer.span("roundtrip-root").with_tag("k.str", "v").start();
    root.set_tag("k.int", 42)
        .set_tag("k.bool", true)
        .set_tag("k.float", 1.5);
    let mut child = tracer.span("roundtrip-child").child_of(&root).start();
    child.log([Tag::new("event", "checkpoint"), Tag::new("n", 3)]);
    child.finish();
    let id = root.context().trace_id().to_string();
    root.finish();
    tracer.close();
    assert_eq!(
        tracer.reporter_stats().failed,
        0,
        "{:?}",
        tracer.reporter_stats()
    );
    id
}

fn fetch_trace(query: &str, id: &str) -> Value {
    let url = format!("{}/api/traces/{id}", query.trim_end_matches('/'));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(resp) = ureq::get(&url).call()
            && let Ok(body) = resp.into_string()
            && let Ok(v) = serde_json::from_str::<Value>(&body)
            && v["data"][0]["spans"]
                .as_array()
                .is_some_and(|s| s.len() == 2)
        {
            return v["data"][0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "trace {id} never appeared at {url}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn check(trace: &Value, service: &str) {
    let spans = trace["spans"].as_array().expect("spans");
    let by_name = |n: &str| spans.iter().find(|s| s["operationName"] == n).expect(n);
    let root = by_name("roundtrip-root");
    let child = by_name("roundtrip-child");
    let pid = root["processID"].as_str().expect("processID");
    assert_eq!(trace["processes"][pid]["serviceName"], service);
    let tag = |s: &Value, k: &str| {
        s["tags"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["key"] == k))
            .map(|t| t["value"].clone())
    };
    assert_eq!(tag(root, "k.str"), Some(Value::from("v")));
    assert_eq!(tag(root, "k.int"), Some(Value::from(42)));
    assert_eq!(tag(root, "k.bool"), Some(Value::from(true)));
    assert_eq!(tag(root, "k.float"), Some(Value::from(1.5)));
    assert_eq!(tag(root, "sampler.type"), Some(Value::from("const")));
    assert_eq!(child["references"][0]["spanID"], root["spanID"]);
    assert_eq!(child["logs"][0]["fields"].as_array().map(Vec::len), Some(2));
}

#[test]
fn udp_spans_come_back_from_the_query_api() {
    let (Some(agent), Some(query)) = (env("CLEW_AGENT_ADDR"), env("CLEW_QUERY_URL")) else {
        return;
    };
    let id = send_trace(
        "clew-client-udp",
        UdpSender::new(agent.as_str()).expect("udp sender"),
    );
    check(&fetch_trace(&query, &id), "clew-client-udp");
}

#[test]
fn http_spans_come_back_from_the_query_api() {
    let (Some(collector), Some(query)) = (env("CLEW_COLLECTOR_URL"), env("CLEW_QUERY_URL")) else {
        return;
    };
    let id = send_trace(
        "clew-client-http",
        HttpSender::new(collector, HttpSenderOptions::default()),
    );
    check(&fetch_trace(&query, &id), "clew-client-http");
}

#[cfg(feature = "otlp")]
#[test]
fn otlp_grpc_spans_come_back_from_the_query_api() {
    let (Some(otlp), Some(query)) = (env("CLEW_OTLP_GRPC_URL"), env("CLEW_QUERY_URL")) else {
        return;
    };
    let sender = clew_client::sender::OtlpGrpcSender::new(otlp).expect("grpc sender");
    let id = send_trace("clew-client-otlp-grpc", sender);
    check(&fetch_trace(&query, &id), "clew-client-otlp-grpc");
}

#[cfg(feature = "otlp")]
#[test]
fn otlp_spans_come_back_from_the_query_api() {
    let (Some(otlp), Some(query)) = (env("CLEW_OTLP_URL"), env("CLEW_QUERY_URL")) else {
        return;
    };
    let id = send_trace(
        "clew-client-otlp",
        clew_client::sender::OtlpHttpSender::new(otlp),
    );
    check(&fetch_trace(&query, &id), "clew-client-otlp");
}

#[test]
fn remote_sampler_applies_the_servers_strategy() {
    use clew_client::sampler::{RemoteSampler, RemoteSamplerOptions, Sampler, SamplerKind};
    let Some(base) = env("CLEW_SAMPLING_URL") else {
        return;
    };
    let mut o = RemoteSamplerOptions::new("clew-client-sampling");
    o.endpoint = format!("{}/sampling", base.trim_end_matches('/'));
    o.initial = std::sync::Arc::new(ConstSampler(false));
    let s = RemoteSampler::new(o);
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.sample(clew_client::TraceId::new(0, 1), "op").tags.kind == SamplerKind::Const {
        assert!(
            Instant::now() < deadline,
            "strategy from {base} never applied"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    s.close();
}
