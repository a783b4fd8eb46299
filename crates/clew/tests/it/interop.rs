//! Real third-party clients send a known trace; it must come back from
//! `/api/traces/{id}` with every tag, log and reference intact.
//!
//! Needs `CLEW_PYTHON` (a Python with `jaeger-client`) and `CLEW_NODE_DIR`
//! (a folder with Node `jaeger-client` installed); the test command
//! (`scripts/test-all.sh`) sets both up. Without them the tests say so and
//! pass only if `CLEW_REQUIRE_INTEROP` is unset, so `cargo test` works on a
//! bare checkout while CI always runs them.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::harness::{Clew, process_of, span_by_op, tag};

fn tool(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var_os("CLEW_REQUIRE_INTEROP").is_none(),
                "{var} is not set but CLEW_REQUIRE_INTEROP is: run scripts/test-all.sh"
            );
            eprintln!("skipping: {var} not set (scripts/test-all.sh sets it)");
            None
        }
    }
}

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Runs `tests/interop/python/<script> args…` with `CLEW_PYTHON`; `None`
/// (test skipped) when it is not set.
pub(crate) fn python(script_and_args: &[&str]) -> Option<Value> {
    let python = tool("CLEW_PYTHON")?;
    let (script, args) = script_and_args.split_first().expect("a script name");
    let script = interop_dir().join("python").join(script);
    Some(run_json(Command::new(python).arg(script).args(args)))
}

/// Runs `tests/interop/node/<script> args…` with the modules of
/// `CLEW_NODE_DIR`; `None` (test skipped) when it is not set.
pub(crate) fn node(script_and_args: &[&str]) -> Option<Value> {
    let dir = tool("CLEW_NODE_DIR")?;
    let (script, args) = script_and_args.split_first().expect("a script name");
    let script = interop_dir().join("node").join(script);
    Some(run_json(
        Command::new("node")
            .arg(script)
            .args(args)
            .env("NODE_PATH", PathBuf::from(dir).join("node_modules")),
    ))
}

fn run_json(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("run client");
    assert!(
        out.status.success(),
        "client failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    let last = line.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("client output not JSON ({e}): {line}"))
}

/// The IDs the client printed, normalised to Clew's text form.
fn ids(sent: &Value) -> (String, String, String, String) {
    let norm16 = |v: &Value| format!("{:0>16}", v.as_str().expect("id"));
    let trace = sent["traceID"].as_str().expect("traceID");
    let trace = if trace.len() <= 16 {
        format!("{trace:0>16}")
    } else {
        format!("{trace:0>32}")
    };
    (
        trace,
        norm16(&sent["root"]),
        norm16(&sent["child"]),
        norm16(&sent["follower"]),
    )
}

/// How a client encodes the integer tag `int.tag=42`: Python sends a LONG,
/// Node (whose numbers are all doubles) a DOUBLE.
#[derive(Clone, Copy)]
enum Numbers {
    Typed,
    AllDoubles,
}

/// Checks the trace the interop scripts send (same shape for Python and Node).
fn assert_known_trace(trace: &Value, sent: &Value, service: &str, numbers: Numbers) {
    let (trace_id, root_id, child_id, follower_id) = ids(sent);
    assert_eq!(trace["traceID"], trace_id.as_str());
    assert_eq!(trace["spans"].as_array().map(Vec::len), Some(3), "{trace}");

    let root = span_by_op(trace, "hello");
    assert_eq!(root["spanID"], root_id.as_str());
    assert_eq!(root["references"], serde_json::json!([]));
    assert_eq!(tag(root, "str.tag"), Some(("string", &Value::from("text"))));
    let int_tag = match numbers {
        Numbers::Typed => ("int64", Value::from(42)),
        Numbers::AllDoubles => ("float64", Value::from(42)),
    };
    assert_eq!(tag(root, "int.tag"), Some((int_tag.0, &int_tag.1)));
    assert_eq!(tag(root, "bool.tag"), Some(("bool", &Value::from(true))));
    assert_eq!(tag(root, "float.tag"), Some(("float64", &Value::from(2.5))));
    assert_eq!(
        tag(root, "sampler.type"),
        Some(("string", &Value::from("const")))
    );
    let log = &root["logs"][0];
    assert!(
        log["timestamp"]
            .as_u64()
            .is_some_and(|t| t > 1_500_000_000_000_000),
        "{log}"
    );
    let fields: Vec<(&str, &Value)> = log["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| (f["key"].as_str().unwrap_or(""), &f["value"]))
        .collect();
    assert!(
        fields.contains(&("event", &Value::from("greeting"))),
        "{log}"
    );
    assert!(fields.contains(&("who", &Value::from("world"))), "{log}");

    let child = span_by_op(trace, "world");
    assert_eq!(child["spanID"], child_id.as_str());
    assert_eq!(
        child["references"],
        serde_json::json!([{"refType": "CHILD_OF", "traceID": trace_id, "spanID": root_id}])
    );
    assert_eq!(
        tag(child, "span.kind"),
        Some(("string", &Value::from("client")))
    );
    let child_log = &child["logs"][0]["fields"];
    assert!(
        child_log
            .as_array()
            .expect("fields")
            .iter()
            .any(|f| f["key"] == "count" && f["value"].as_f64() == Some(3.0)),
        "{child_log}"
    );

    let follower = span_by_op(trace, "later");
    assert_eq!(follower["spanID"], follower_id.as_str());
    assert_eq!(
        follower["references"],
        serde_json::json!([{"refType": "FOLLOWS_FROM", "traceID": trace_id, "spanID": root_id}])
    );

    for span in [root, child, follower] {
        assert!(span["duration"].as_u64().is_some(), "{span}");
        assert!(
            span["startTime"]
                .as_u64()
                .is_some_and(|t| t > 1_500_000_000_000_000)
        );
        let process = process_of(trace, span);
        assert_eq!(process["serviceName"], service);
        let ptags = process["tags"].as_array().expect("process tags");
        let has = |k: &str| ptags.iter().any(|t| t["key"] == k);
        assert!(
            has("deployment") && has("hostname") && has("jaeger.version"),
            "{process}"
        );
    }
}

fn python_to(clew: &Clew, listener: &str, service: &str) {
    let port = clew.addr(listener).port().to_string();
    let Some(sent) = python(&["jaeger_client_trace.py", "127.0.0.1", &port, service]) else {
        return;
    };
    let (trace_id, ..) = ids(&sent);
    let trace = clew.wait_for_trace(&trace_id, 3);
    assert_known_trace(&trace, &sent, service, Numbers::Typed);
    let (_, services) = clew.get_json("/api/services");
    assert!(
        services["data"]
            .as_array()
            .expect("data")
            .contains(&Value::from(service))
    );
}

#[test]
fn python_jaeger_client_over_udp_compact_6831() {
    let clew = Clew::start(&[]);
    python_to(&clew, "agent_compact", "py-6831");
}

#[test]
fn python_jaeger_client_over_legacy_udp_5775() {
    let clew = Clew::start(&[]);
    python_to(&clew, "agent_zipkin_compact", "py-5775");
}

#[test]
fn node_jaeger_client_over_udp_binary_6832() {
    let clew = Clew::start(&[]);
    let port = clew.addr("agent_binary").port().to_string();
    let Some(sent) = node(&[
        "jaeger_client_trace.js",
        "udp",
        "127.0.0.1",
        &port,
        "node-udp",
    ]) else {
        return;
    };
    let (trace_id, ..) = ids(&sent);
    assert_known_trace(
        &clew.wait_for_trace(&trace_id, 3),
        &sent,
        "node-udp",
        Numbers::AllDoubles,
    );
}

#[test]
fn node_jaeger_client_over_http_14268() {
    let clew = Clew::start(&[]);
    let url = clew.url("collector_http", "/api/traces");
    let Some(sent) = node(&["jaeger_client_trace.js", "http", &url, "node-http"]) else {
        return;
    };
    let (trace_id, ..) = ids(&sent);
    assert_known_trace(
        &clew.wait_for_trace(&trace_id, 3),
        &sent,
        "node-http",
        Numbers::AllDoubles,
    );
}
