//! OpenTelemetry SDKs (Python and Node, OTLP gRPC/HTTP and the Zipkin
//! exporter) and py_zipkin send a known trace; it comes back through the
//! Jaeger HTTP API, API v3 (OTLP JSON) and Zipkin's read API with the
//! OTLP ↔ Jaeger mapping applied field by field.

use serde_json::{Value, json};

use crate::harness::{Clew, process_of, span_by_op, tag};
use crate::interop::{node, python};

fn id(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .to_string()
}

/// Jaeger's text form of a 32-hex OTLP trace ID (16 hex when the high half is zero).
fn jaeger_trace_id(hex32: &str) -> String {
    match hex32.strip_prefix("0000000000000000") {
        Some(low) => low.to_string(),
        None => hex32.to_string(),
    }
}

/// The OTel trace (hello SERVER → world CLIENT with ERROR status; `later`
/// in its own trace, linked to hello) as the Jaeger UI reads it.
fn assert_otel_trace_in_jaeger_json(clew: &Clew, sent: &Value, service: &str) {
    let trace_id = jaeger_trace_id(&id(sent, "traceID"));
    let trace = clew.wait_for_trace(&trace_id, 2);
    let root = span_by_op(&trace, "hello");
    assert_eq!(root["spanID"], id(sent, "root"));
    assert_eq!(tag(root, "span.kind"), Some(("string", &json!("server"))));
    assert_eq!(tag(root, "str.tag"), Some(("string", &json!("text"))));
    assert_eq!(tag(root, "int.tag"), Some(("int64", &json!(42))));
    assert_eq!(tag(root, "bool.tag"), Some(("bool", &json!(true))));
    assert_eq!(tag(root, "float.tag"), Some(("float64", &json!(2.5))));
    assert_eq!(
        tag(root, "list.tag"),
        Some(("string", &json!(r#"["a","b"]"#)))
    );
    assert_eq!(
        tag(root, "otel.scope.name"),
        Some(("string", &json!("clew.interop")))
    );
    assert_eq!(
        tag(root, "otel.scope.version"),
        Some(("string", &json!("1.2.3")))
    );
    let log = &root["logs"][0]["fields"];
    assert!(
        log.as_array().is_some_and(
            |f| f.contains(&json!({"key": "event", "type": "string", "value": "greeting"}))
        ),
        "{log}"
    );
    assert!(log.as_array().is_some_and(|f| f.contains(&json!({"key": "who", "type": "string", "value": "world"}))), "{log}");
    let process = process_of(&trace, root);
    assert_eq!(process["serviceName"], service);
    let ptags = process["tags"].as_array().expect("process tags");
    assert!(
        ptags.contains(&json!({"key": "deployment", "type": "string", "value": "interop"})),
        "{process}"
    );
    if service.starts_with("py-") {
        // Python's SDK merges its default resource; the Node script builds
        // its resource from our attributes alone.
        assert!(
            ptags.iter().any(|t| t["key"] == "telemetry.sdk.language"),
            "{process}"
        );
    }

    let child = span_by_op(&trace, "world");
    assert_eq!(child["spanID"], id(sent, "child"));
    assert_eq!(
        child["references"],
        json!([{"refType": "CHILD_OF", "traceID": trace_id, "spanID": id(sent, "root")}])
    );
    assert_eq!(tag(child, "span.kind"), Some(("string", &json!("client"))));
    assert_eq!(
        tag(child, "otel.status_code"),
        Some(("string", &json!("ERROR")))
    );
    assert_eq!(
        tag(child, "otel.status_description"),
        Some(("string", &json!("boom")))
    );
    assert_eq!(tag(child, "error"), Some(("bool", &json!(true))));

    let later_id = jaeger_trace_id(&id(sent, "laterTraceID"));
    let later_trace = clew.wait_for_trace(&later_id, 1);
    let later = span_by_op(&later_trace, "later");
    assert_eq!(
        later["references"],
        json!([{"refType": "FOLLOWS_FROM", "traceID": trace_id, "spanID": id(sent, "root")}])
    );
}

/// The same trace through API v3: OTLP JSON with typed attributes, status
/// and the link with its attributes.
fn assert_otel_trace_in_api_v3(clew: &Clew, sent: &Value) {
    let (status, v) = clew.get_json(&format!("/api/v3/traces/{}", id(sent, "traceID")));
    assert_eq!(status, 200, "{v}");
    let rs = &v["result"]["resourceSpans"][0];
    let spans: Vec<&Value> = rs["scopeSpans"]
        .as_array()
        .expect("scopeSpans")
        .iter()
        .flat_map(|s| s["spans"].as_array().into_iter().flatten())
        .collect();
    let root = spans.iter().find(|s| s["name"] == "hello").expect("hello");
    assert_eq!(root["kind"], 2);
    let attr = |key: &str| {
        root["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|kv| kv["key"] == key))
            .map(|kv| kv["value"].clone())
    };
    assert_eq!(attr("int.tag"), Some(json!({"intValue": "42"})));
    assert_eq!(
        attr("list.tag"),
        Some(json!({"arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}}))
    );
    let child = spans.iter().find(|s| s["name"] == "world").expect("world");
    assert_eq!(child["status"]["code"], 2);
    assert_eq!(child["status"]["message"], "boom");

    let (_, v) = clew.get_json(&format!("/api/v3/traces/{}", id(sent, "laterTraceID")));
    let later = &v["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(later["links"][0]["spanId"], id(sent, "root"));
    let link_attrs = later["links"][0]["attributes"]
        .as_array()
        .expect("link attributes");
    assert!(
        link_attrs.contains(&json!({"key": "link.kind", "value": {"stringValue": "retry"}})),
        "{later}"
    );
}

fn assert_zipkin_read(clew: &Clew, sent: &Value, service: &str) {
    let url = clew.url(
        "zipkin_http",
        &format!("/api/v2/trace/{}", id(sent, "traceID")),
    );
    let spans: Value = reqwest::blocking::get(url)
        .expect("GET")
        .json()
        .expect("JSON");
    let spans = spans.as_array().expect("spans");
    let root = spans.iter().find(|s| s["name"] == "hello").expect("hello");
    assert_eq!(root["kind"], "SERVER");
    assert_eq!(root["localEndpoint"]["serviceName"], service);
    assert_eq!(root["tags"]["str.tag"], "text");
    let child = spans.iter().find(|s| s["name"] == "world").expect("world");
    assert_eq!(child["parentId"], id(sent, "root"));
    assert_eq!(child["kind"], "CLIENT");
}

/// The same trace through the gRPC query services (16685): api_v2 spans
/// with Jaeger-mapped tags, api_v3 OTLP spans with typed attributes.
fn assert_otel_trace_over_query_grpc(clew: &Clew, sent: &Value) {
    use clew_codec_jaeger::api_v2::pb;
    use clew_query::grpc::{proto_v2, proto_v3};
    let trace_hex = id(sent, "traceID");
    let trace_id: clew_model::TraceId = trace_hex.parse().expect("trace id");
    let root_id = u64::from_str_radix(&id(sent, "root"), 16).expect("hex span id");
    let endpoint = clew.url("query_grpc", "");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut v2 = proto_v2::query_service_client::QueryServiceClient::connect(endpoint.clone())
            .await
            .expect("connect v2");
        let request = pb::GetTraceRequest {
            trace_id: trace_id.to_bytes().to_vec().into(),
            ..Default::default()
        };
        let mut stream = v2.get_trace(request).await.expect("GetTrace").into_inner();
        let mut spans = Vec::new();
        while let Some(chunk) = stream.message().await.expect("chunk") {
            spans.extend(chunk.spans);
        }
        let child = spans
            .iter()
            .find(|s| s.operation_name == "world")
            .expect("world over api_v2");
        let tag = |k: &str| child.tags.iter().find(|t| t.key == k).cloned();
        let status = tag("otel.status_code").expect("otel.status_code");
        assert_eq!(
            (status.v_type, status.v_str.as_str()),
            (pb::ValueType::String as i32, "ERROR")
        );
        let error = tag("error").expect("error tag");
        assert_eq!(
            (error.v_type, error.v_bool),
            (pb::ValueType::Bool as i32, true)
        );
        assert_eq!(child.references[0].span_id.as_ref(), &root_id.to_be_bytes());

        let mut v3 = proto_v3::query_service_client::QueryServiceClient::connect(endpoint)
            .await
            .expect("connect v3");
        let request = proto_v3::GetTraceRequest {
            trace_id: trace_hex.clone(),
            ..Default::default()
        };
        let mut stream = v3
            .get_trace(request)
            .await
            .expect("GetTrace v3")
            .into_inner();
        let mut found = false;
        while let Some(data) = stream.message().await.expect("TracesData") {
            let all = data
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans);
            for span in all.filter(|s| s.name == "hello") {
                found = true;
                assert_eq!(span.kind, 2, "SERVER");
                assert_eq!(span.events[0].name, "greeting");
            }
        }
        assert!(found, "hello over api_v3");
    });
}

#[test]
fn python_otel_sdk_over_otlp_grpc() {
    let clew = Clew::start(&[]);
    let endpoint = clew.addr("otlp_grpc").to_string();
    let Some(sent) = python(&["otel_sdk_trace.py", "otlp-grpc", &endpoint, "py-otlp-grpc"]) else {
        return;
    };
    assert_otel_trace_in_jaeger_json(&clew, &sent, "py-otlp-grpc");
    assert_otel_trace_in_api_v3(&clew, &sent);
    assert_otel_trace_over_query_grpc(&clew, &sent);
    assert_zipkin_read(&clew, &sent, "py-otlp-grpc");
}

#[test]
fn python_otel_sdk_over_otlp_http() {
    let clew = Clew::start(&[]);
    let url = clew.url("otlp_http", "/v1/traces");
    let Some(sent) = python(&["otel_sdk_trace.py", "otlp-http", &url, "py-otlp-http"]) else {
        return;
    };
    assert_otel_trace_in_jaeger_json(&clew, &sent, "py-otlp-http");
    assert_otel_trace_in_api_v3(&clew, &sent);
    assert_otel_trace_over_query_grpc(&clew, &sent);
    assert_zipkin_read(&clew, &sent, "py-otlp-http");
}

#[test]
fn node_otel_sdk_over_otlp_http_protobuf_and_json() {
    let clew = Clew::start(&[]);
    let url = clew.url("otlp_http", "/v1/traces");
    for (kind, service) in [
        ("otlp-proto", "node-otlp-proto"),
        ("otlp-json", "node-otlp-json"),
    ] {
        let Some(sent) = node(&["otel_sdk_trace.js", kind, &url, service]) else {
            return;
        };
        assert_otel_trace_in_jaeger_json(&clew, &sent, service);
        assert_otel_trace_in_api_v3(&clew, &sent);
        assert_otel_trace_over_query_grpc(&clew, &sent);
        assert_zipkin_read(&clew, &sent, service);
    }
}

#[test]
fn python_otel_sdk_zipkin_exporter() {
    let clew = Clew::start(&[]);
    let url = clew.url("zipkin_http", "/api/v2/spans");
    let Some(sent) = python(&[
        "otel_sdk_trace.py",
        "zipkin-json",
        &url,
        "py-zipkin-exporter",
    ]) else {
        return;
    };
    let trace_id = jaeger_trace_id(&id(&sent, "traceID"));
    let trace = clew.wait_for_trace(&trace_id, 2);
    let root = span_by_op(&trace, "hello");
    assert_eq!(
        process_of(&trace, root)["serviceName"],
        "py-zipkin-exporter"
    );
    assert_eq!(tag(root, "span.kind"), Some(("string", &json!("server"))));
    assert_eq!(tag(root, "str.tag"), Some(("string", &json!("text"))));
    assert!(
        root["logs"][0]["fields"].to_string().contains("greeting"),
        "{root}"
    );
    let child = span_by_op(&trace, "world");
    assert_eq!(tag(child, "span.kind"), Some(("string", &json!("client"))));
    assert_eq!(
        child["references"],
        json!([{"refType": "CHILD_OF", "traceID": trace_id, "spanID": id(&sent, "root")}])
    );
    assert_eq!(tag(child, "error"), Some(("bool", &json!(true))));
    assert_zipkin_read(&clew, &sent, "py-zipkin-exporter");
}

#[test]
fn py_zipkin_v2_json() {
    let clew = Clew::start(&[]);
    let url = clew.url("zipkin_http", "/api/v2/spans");
    let Some(sent) = python(&["py_zipkin_trace.py", &url, "py-zipkin"]) else {
        return;
    };
    let trace = clew.wait_for_trace(&id(&sent, "traceID"), 2);
    let root = span_by_op(&trace, "hello");
    assert_eq!(root["spanID"], id(&sent, "root"));
    assert_eq!(process_of(&trace, root)["serviceName"], "py-zipkin");
    assert_eq!(tag(root, "str.tag"), Some(("string", &json!("text"))));
    assert!(
        root["logs"].as_array().is_some_and(|logs| logs
            .iter()
            .any(|l| l["fields"].to_string().contains("greeting"))),
        "{root}"
    );
    let child = span_by_op(&trace, "world");
    assert_eq!(tag(child, "db"), Some(("string", &json!("redis"))));
    assert_eq!(child["references"][0]["spanID"], id(&sent, "root"));
}
