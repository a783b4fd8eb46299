//! Jaeger tracegen's span shape as one OTLP export request, shared by the
//! decode bench and the `decode_loop` profiling driver so both measure the
//! same payload.

use clew_codec_otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
use clew_codec_otlp::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use clew_codec_otlp::proto::resource::v1::Resource;
use clew_codec_otlp::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

pub const SPANS: usize = 512;

fn attr(key: &str, v: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        }),
    }
}

pub fn tracegen_request() -> ExportTraceServiceRequest {
    let mut spans = Vec::with_capacity(SPANS);
    let mut n = 0u64;
    for i in 0..SPANS {
        let trace = (i / 10) as u64 + 1;
        let root = i % 10 == 0;
        let mut s = Span {
            trace_id: [trace.to_be_bytes(), 7u64.to_be_bytes()].concat(),
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64 * 1000,
            end_time_unix_nano: 1_700_000_000_000_100_000 + i as u64 * 1000,
            ..Default::default()
        };
        if root {
            s.name = "lets-go".into();
            s.kind = 2;
            s.attributes = vec![
                attr("peer.service", "tracegen-server".into()),
                attr("peer.host.ipv4", "10.0.0.1".into()),
            ];
        } else {
            s.name = format!("child-span-{:02}", i % 10);
            s.kind = 3;
            s.parent_span_id = ((i - i % 10) as u64 + 1).to_be_bytes().to_vec();
            s.attributes = (0..11)
                .map(|_| {
                    n += 1;
                    attr(
                        &format!("attr_{:02}", n % 97),
                        format!("val_{:03}", n % 1000),
                    )
                })
                .collect();
        }
        spans.push(s);
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![attr("service.name", "tracegen-00".into())],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "tracegen".into(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}
