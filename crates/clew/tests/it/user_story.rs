//! The story this project started from: a program configures a Jaeger-style
//! tracer (const sampler, logging reporter, flush every second, agent on the
//! legacy port 5775), starts `hello` and its child `world`, and the person
//! then finds that trace in Clew.
//!
//! The program is Clew's own client library, as in
//! `crates/clew-client/examples/hello.rs` (whose printed
//! `Reporting span …` lines are checked by the client's own tests); here it
//! runs in-process against a real `clew` so the whole path is covered.

use std::time::Duration;

use clew_client::config::SamplerType;
use serde_json::json;

use crate::harness::{Clew, process_of, span_by_op};

#[test]
fn hello_world_from_the_rust_client_reaches_the_query_api() {
    let clew = Clew::start(&[]);
    let (tracer, closer) = clew_client::Config::new("hello-world")
        .sampler(SamplerType::Const, 1.0)
        .log_spans(true)
        .flush_interval(Duration::from_secs(1))
        .agent(clew.addr("agent_zipkin_compact").to_string())
        .build()
        .expect("tracer config");
    let hello = tracer.span("hello").start();
    let world = tracer.span("world").child_of(&hello).start();
    let trace_id = hello.context().trace_id().to_string();
    let (hello_id, world_id) = (hello.context().span_id(), world.context().span_id());
    world.finish();
    hello.finish();
    closer.close();

    let trace = clew.wait_for_trace(&trace_id, 2);
    let hello = span_by_op(&trace, "hello");
    let world = span_by_op(&trace, "world");
    assert_eq!(hello["spanID"], hello_id.to_string());
    assert_eq!(world["spanID"], world_id.to_string());
    assert_eq!(
        world["references"],
        json!([{"refType": "CHILD_OF", "traceID": trace_id, "spanID": hello_id.to_string()}])
    );
    assert_eq!(hello["flags"], 1, "const sampler marks the trace sampled");
    let process = process_of(&trace, hello);
    assert_eq!(process["serviceName"], "hello-world");
    let ptags = process["tags"].as_array().expect("process tags");
    for key in ["jaeger.version", "hostname", "ip", "client-uuid"] {
        assert!(
            ptags.iter().any(|t| t["key"] == key),
            "{key} missing: {process}"
        );
    }
    let (_, services) = clew.get_json("/api/services");
    assert_eq!(services["data"], json!(["hello-world"]));
}

#[test]
fn the_rust_client_http_sender_reaches_the_collector() {
    let clew = Clew::start(&[]);
    let (tracer, closer) = clew_client::Config::new("http-client")
        .sampler(SamplerType::Const, 1.0)
        .collector_endpoint(clew.url("collector_http", "/api/traces"))
        .build()
        .expect("tracer config");
    let mut span = tracer.span("upload").start();
    span.set_tag("bytes", 42i64);
    let trace_id = span.context().trace_id().to_string();
    span.finish();
    closer.close();
    let trace = clew.wait_for_trace(&trace_id, 1);
    let upload = span_by_op(&trace, "upload");
    assert!(
        upload["tags"]
            .as_array()
            .is_some_and(|t| t.contains(&json!({"key": "bytes", "type": "int64", "value": 42}))),
        "{upload}"
    );
}
