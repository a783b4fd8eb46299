use super::*;
use clew_model::{KeyValue, RefType, SpanKind, TraceId, Value};

/// The shape the OTLP/JSON spec's example and the JS/Python SDKs send.
const SDK_BODY: &str = r#"{
  "resourceSpans": [{
    "resource": {"attributes": [
      {"key": "service.name", "value": {"stringValue": "checkout"}},
      {"key": "host.cpus", "value": {"intValue": 8}}
    ]},
    "scopeSpans": [{
      "scope": {"name": "my.library", "version": "1.0.0", "attributes": [
        {"key": "my.scope.attribute", "value": {"stringValue": "some scope attribute"}}]},
      "spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "parentSpanId": "EEE19B7EC3C1B173",
        "name": "I'm a server span",
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": 1544712661000000000,
        "kind": 2,
        "attributes": [
          {"key": "my.span.attr", "value": {"stringValue": "some value"}},
          {"key": "ratio", "value": {"doubleValue": "NaN"}},
          {"key": "list", "value": {"arrayValue": {"values": [{"intValue": "1"}, {"boolValue": true}]}}},
          {"key": "raw", "value": {"bytesValue": "AQI="}},
          {"key": "empty", "value": {}}
        ],
        "events": [{"timeUnixNano": "1544712660500000000", "name": "cache miss",
                    "attributes": [{"key": "k", "value": {"stringValue": "v"}}]}],
        "links": [{"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "0000000000000001",
                   "attributes": [{"key": "opentracing.ref_type", "value": {"stringValue": "child_of"}}]}],
        "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
        "unknownField": {"ignored": true}
      }]
    }]
  }]
}"#;

#[test]
fn decodes_what_sdks_send() {
    let d = decode(SDK_BODY.as_bytes()).expect("decodes");
    assert_eq!(d.rejected.total(), 0);
    let s = &d.spans[0];
    assert_eq!(s.trace_id.to_hex32(), "5b8efff798038103d269b633813fc60c");
    assert_eq!(s.span_id.to_string(), "eee19b7ec3c1b174");
    assert_eq!(
        s.parent_span_id().map(|p| p.to_string()).as_deref(),
        Some("eee19b7ec3c1b173")
    );
    assert_eq!(s.start_time, 1_544_712_660_000_000_000);
    assert_eq!(s.duration, 1_000_000_000);
    assert_eq!(s.kind(), SpanKind::Server);
    assert!(s.is_error());
    assert_eq!(&*s.process.service_name, "checkout");
    assert_eq!(s.process.tags, vec![KeyValue::i64("host.cpus", 8)]);
    assert!(matches!(s.tag("ratio"), Some(Value::F64(f)) if f.is_nan()));
    assert_eq!(
        s.tag("list"),
        Some(&Value::Array(vec![Value::I64(1), Value::Bool(true)]))
    );
    assert_eq!(s.tag("raw"), Some(&Value::Binary(vec![1u8, 2].into())));
    assert_eq!(s.tag("empty"), Some(&Value::Str("".into())));
    assert_eq!(
        s.tag("otel.status_code").and_then(Value::as_str),
        Some("ERROR")
    );
    assert_eq!(
        s.tag("otel.status_description").and_then(Value::as_str),
        Some("boom")
    );
    assert_eq!(
        s.tag("otel.scope.name").and_then(Value::as_str),
        Some("my.library")
    );
    assert_eq!(
        s.tag("otel.scope.version").and_then(Value::as_str),
        Some("1.0.0")
    );
    assert_eq!(
        s.logs[0].fields,
        vec![
            KeyValue::string("event", "cache miss"),
            KeyValue::string("k", "v")
        ]
    );
    assert_eq!(s.references.len(), 2);
    assert_eq!(s.references[1].ref_type, RefType::ChildOf);
    assert!(s.references[1].tags.is_empty());
    assert_eq!(
        s.references[1].trace_id,
        TraceId::new(0x5b8e_fff7_9803_8103, 0xd269_b633_813f_c60c)
    );
}

#[test]
fn json_round_trips_through_the_model() {
    let d = decode(SDK_BODY.as_bytes()).expect("decodes");
    let again = decode(&encode(&d.spans)).expect("re-decodes");
    // NaN != NaN, so compare the text forms of the tags and everything else directly.
    assert_eq!(format!("{:?}", again.spans), format!("{:?}", d.spans));
}

#[test]
fn output_follows_the_otlp_json_rules() {
    let d = decode(SDK_BODY.as_bytes()).expect("decodes");
    let v: serde_json::Value = serde_json::from_slice(&encode(&d.spans)).expect("json");
    let span = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["traceId"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(span["startTimeUnixNano"], "1544712660000000000");
    assert_eq!(span["kind"], 2);
    assert_eq!(span["status"]["code"], 2);
    assert_eq!(
        span["attributes"][2]["value"]["arrayValue"]["values"][0]["intValue"],
        "1"
    );
    assert_eq!(span["attributes"][1]["value"]["doubleValue"], "NaN");
}

#[test]
fn malformed_json_is_an_error_and_bad_ids_are_rejections() {
    assert!(matches!(decode(b"{"), Err(OtlpError::Json(_))));
    assert!(
        decode(br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}"#).is_err()
    );
    let d = decode(
        br#"{"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId":"0102","spanId":"0000000000000001"},
            {"traceId":"0000000000000000000000000000000f","spanId":"0000000000000001"}]}]}]}"#,
    )
    .expect("decodes");
    assert_eq!(d.spans.len(), 1);
    assert_eq!(d.rejected.count(crate::RejectReason::TraceIdLength), 1);
    assert_eq!(
        &*d.spans[0].process.service_name,
        crate::keys::NO_SERVICE_NAME
    );
}

#[test]
fn response_reports_partial_success() {
    let mut r = Rejections::default();
    assert_eq!(encode_response(&r), b"{}");
    r.add(crate::RejectReason::SpanIdLength);
    let v: serde_json::Value = serde_json::from_slice(&encode_response(&r)).expect("json");
    assert_eq!(v["partialSuccess"]["rejectedSpans"], "1");
}
