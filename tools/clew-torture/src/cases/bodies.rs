//! Request bodies at the body limit built for the worst amplification:
//! lying list sizes, empty structs and messages, deep nesting, huge strings
//! and arrays, invalid UTF-8, compression bombs, lying lengths.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clew_codec_jaeger::Protocol;

use super::{Case, Ctx, Outcome, Seen, concurrently, grpc_call, post};
use crate::grpc::{self, JAEGER_POST_SPANS, OTLP_EXPORT};
use crate::http;
use crate::payload as p;

const THRIFT: &str = "application/x-thrift";
const JSON: &str = "application/json";
const PROTO: &str = "application/x-protobuf";
/// "50 MB strings", or as much as fits under the body limit.
const BIG_STRING: usize = 50_000_000;
/// The UTF-8 that is not.
const BAD_UTF8: &[u8] = b"torture-\xff\xfe\xc3\x28-\xed\xa0\x80";

/// Room left for framing under a limit.
fn fit(limit: usize) -> usize {
    limit.saturating_sub(4096)
}

fn big(limit: usize) -> usize {
    BIG_STRING.min(fit(limit))
}

/// POSTs `body` to an HTTP listener, `copies` at once.
fn send(
    c: &Ctx<'_>,
    listener: &str,
    path: &'static str,
    ctype: &'static str,
    gzip: bool,
    body: Vec<u8>,
) -> Result<Outcome> {
    let f = post(
        c.addr(listener),
        path,
        ctype,
        gzip,
        Arc::new(body),
        c.opts.request_timeout,
    );
    Ok(concurrently(c.opts.copies, f))
}

/// A unary gRPC call, `copies` at once; `msg` is framed here.
fn send_grpc(
    c: &Ctx<'_>,
    listener: &str,
    path: &'static str,
    msg: &[u8],
    gzip: bool,
) -> Result<Outcome> {
    let body = grpc::frame(msg, gzip);
    Ok(concurrently(
        c.opts.copies,
        grpc_call(c.addr(listener), path, body, gzip, c.opts.request_timeout),
    ))
}

/// A body of `size` bytes: a Jaeger thrift batch whose operation name is
/// `marker` rewritten to `bytes`.
fn jaeger_with_name_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut body = p::jaeger_batch_big_strings(4, Protocol::Binary);
    // The 4-byte name "xxxx": replace it (and its length) with the raw bytes.
    if let Some(at) = body
        .windows(8)
        .position(|w| w == [0, 0, 0, 4, b'x', b'x', b'x', b'x'])
    {
        let mut out = body[..at].to_vec();
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
        out.extend_from_slice(&body[at + 8..]);
        body = out;
    }
    body
}

/// The gzip bomb for a format, expanding to `total` bytes.
fn bomb(kind: &str, total: usize) -> Vec<u8> {
    match kind {
        "zipkin-v1-thrift" => p::gzip_bomb(&[0x0c, 0x7f, 0xff, 0xff, 0xff], &[0], total, &[]),
        "json-array" => p::gzip_bomb(b"[", b"{},", total, b"{}]"),
        "zipkin-v2-proto" => p::gzip_bomb(&[], &[0x0a, 0x00], total, &[]),
        "otlp-proto" => {
            let n = total.saturating_sub(64) / 2;
            p::gzip_bomb(&p::otlp_prefix(2 * n), &[0x12, 0x00], total, &[])
        }
        "otlp-json" => p::gzip_bomb(
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":["#,
            b"{},",
            total,
            b"{}]}]}]}",
        ),
        "jaeger-proto" => {
            let n = total.saturating_sub(64) / 2;
            let mut tail = Vec::new();
            let mut process = Vec::new();
            p::pb_bytes(&mut process, 1, b"torture");
            p::pb_bytes(&mut tail, 2, &process);
            let mut head = Vec::new();
            p::pb_header(&mut head, 1, 2 * n + tail.len());
            p::gzip_bomb(&head, &[0x0a, 0x00], head.len() + 2 * n + tail.len(), &tail)
        }
        _ => {
            let mut head = p::jaeger_batch_empty_structs(i32::MAX as u32, 0);
            head.pop();
            p::gzip_bomb(&head, &[0], total, &[])
        }
    }
}

/// A request whose `Content-Length` says 10^18 bytes, followed by 10.
fn content_length_lie(c: &Ctx<'_>) -> Result<Outcome> {
    let targets = [
        ("collector_http", "/api/traces", THRIFT),
        ("zipkin_http", "/api/v2/spans", JSON),
        ("otlp_http", "/v1/traces", PROTO),
        ("query_http", "/api/services", JSON),
        ("admin_http", "/", JSON),
    ];
    let start = std::time::Instant::now();
    let mut waited = Vec::new();
    let seen: Vec<Seen> = targets
        .iter()
        .map(|(l, path, ct)| {
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ct}\r\nContent-Length: 1000000000000000000\r\n\r\n"
            );
            let r = http::exchange(c.addr(l), &[head.as_bytes(), b"0123456789"], Duration::from_secs(5));
            if r.is_err() {
                waited.push(*l);
            }
            Seen::Http(r)
        })
        .collect();
    let mut o = super::summarise(&seen, start.elapsed() / targets.len() as u32);
    o.client = format!("5 listeners: {}", o.client);
    if !waited.is_empty() {
        o.failures.push(format!(
            "no answer within 5 s (waits for the body) on {}",
            waited.join(", ")
        ));
    }
    Ok(o)
}

/// Bodies one MiB over the limit, to every HTTP ingest path.
fn over_limit(c: &Ctx<'_>) -> Result<Outcome> {
    let body = Arc::new(vec![b'['; c.opts.body_bytes + (1 << 20)]);
    let t = c.opts.request_timeout;
    let seen = vec![
        post(
            c.addr("collector_http"),
            "/api/traces",
            THRIFT,
            false,
            body.clone(),
            t,
        )(),
        post(
            c.addr("zipkin_http"),
            "/api/v2/spans",
            JSON,
            false,
            body.clone(),
            t,
        )(),
        post(
            c.addr("otlp_http"),
            "/v1/traces",
            PROTO,
            false,
            body.clone(),
            t,
        )(),
        grpc_call(
            c.addr("otlp_grpc"),
            OTLP_EXPORT,
            grpc::frame(&vec![0u8; c.opts.grpc_bytes + (1 << 20)], false),
            false,
            t,
        )(),
        grpc_call(
            c.addr("collector_grpc"),
            JAEGER_POST_SPANS,
            grpc::frame(&vec![0u8; c.opts.grpc_bytes + (1 << 20)], false),
            false,
            t,
        )(),
    ];
    Ok(super::summarise(&seen, Duration::ZERO))
}

macro_rules! case {
    ($name:literal, $quick:expr, $what:literal, $run:expr) => {
        Case {
            name: $name,
            quick: $quick,
            what: $what,
            run: $run,
        }
    };
}

/// The body cases.
pub fn cases() -> Vec<Case> {
    vec![
        // ---- Jaeger collector HTTP 14268 -------------------------------------
        case!(
            "collector-thrift-empty-structs",
            true,
            "Batch whose span list is body-limit empty structs (1 byte each)",
            |c| {
                let n = fit(c.opts.body_bytes);
                send(
                    c,
                    "collector_http",
                    "/api/traces",
                    THRIFT,
                    false,
                    p::jaeger_batch_empty_structs(n as u32, n),
                )
            }
        ),
        case!(
            "collector-thrift-lying-list",
            false,
            "Batch declaring 2^31-1 spans in 1 KB",
            |c| send(
                c,
                "collector_http",
                "/api/traces",
                THRIFT,
                false,
                p::jaeger_batch_empty_structs(i32::MAX as u32, 1024)
            )
        ),
        case!(
            "collector-thrift-big-strings",
            false,
            "one span whose name and a tag are 50 MB (or the body limit)",
            |c| send(
                c,
                "collector_http",
                "/api/traces",
                THRIFT,
                false,
                p::jaeger_batch_big_strings(big(c.opts.body_bytes) / 2, Protocol::Binary)
            )
        ),
        case!(
            "collector-thrift-invalid-utf8",
            false,
            "one span whose operation name is invalid UTF-8",
            |c| send(
                c,
                "collector_http",
                "/api/traces",
                THRIFT,
                false,
                jaeger_with_name_bytes(BAD_UTF8)
            )
        ),
        // ---- Zipkin 9411 -------------------------------------------------------
        case!(
            "zipkin-v1-thrift-empty-structs",
            true,
            "list<Span> of body-limit empty structs (issue 7's 11.5 GB case)",
            |c| {
                let n = fit(c.opts.body_bytes);
                send(
                    c,
                    "zipkin_http",
                    "/api/v1/spans",
                    THRIFT,
                    false,
                    p::zipkin_thrift_empty_structs(n as u32, n),
                )
            }
        ),
        case!(
            "zipkin-v1-thrift-lying-list",
            false,
            "list<Span> declaring 2^31-1 spans in 1 KB",
            |c| send(
                c,
                "zipkin_http",
                "/api/v1/spans",
                THRIFT,
                false,
                p::zipkin_thrift_empty_structs(i32::MAX as u32, 1024)
            )
        ),
        case!(
            "zipkin-v1-json-deep-nesting",
            false,
            "body-limit of '[' (v1 JSON)",
            |c| send(
                c,
                "zipkin_http",
                "/api/v1/spans",
                JSON,
                false,
                p::deep_json(b"", fit(c.opts.body_bytes))
            )
        ),
        case!(
            "zipkin-v1-json-invalid-utf8",
            false,
            "v1 JSON span whose name is invalid UTF-8",
            |c| send(
                c,
                "zipkin_http",
                "/api/v1/spans",
                JSON,
                false,
                p::zipkin_v1_json_span(BAD_UTF8)
            )
        ),
        case!(
            "zipkin-v2-json-empty-objects",
            false,
            "[{},{},…] to the body limit",
            |c| send(
                c,
                "zipkin_http",
                "/api/v2/spans",
                JSON,
                false,
                p::json_empty_objects(fit(c.opts.body_bytes))
            )
        ),
        case!(
            "zipkin-v2-json-deep-nesting",
            false,
            "body-limit of '[' (v2 JSON)",
            |c| send(
                c,
                "zipkin_http",
                "/api/v2/spans",
                JSON,
                false,
                p::deep_json(b"", fit(c.opts.body_bytes))
            )
        ),
        case!(
            "zipkin-v2-json-big-string",
            false,
            "one span named with 50 MB (or the body limit)",
            |c| send(
                c,
                "zipkin_http",
                "/api/v2/spans",
                JSON,
                false,
                p::zipkin_json_span(&vec![b'x'; big(c.opts.body_bytes)])
            )
        ),
        case!(
            "zipkin-v2-json-invalid-utf8",
            false,
            "v2 JSON span whose name is invalid UTF-8",
            |c| send(
                c,
                "zipkin_http",
                "/api/v2/spans",
                JSON,
                false,
                p::zipkin_json_span(BAD_UTF8)
            )
        ),
        case!(
            "zipkin-v2-proto-empty-spans",
            false,
            "ListOfSpans of body-limit/2 empty messages",
            |c| send(
                c,
                "zipkin_http",
                "/api/v2/spans",
                PROTO,
                false,
                p::zipkin_proto_empty_spans(fit(c.opts.body_bytes) / 2)
            )
        ),
        case!(
            "zipkin-v2-proto-invalid-utf8",
            false,
            "proto3 span whose name is invalid UTF-8",
            |c| send(
                c,
                "zipkin_http",
                "/api/v2/spans",
                PROTO,
                false,
                p::zipkin_proto_span(BAD_UTF8)
            )
        ),
        // ---- OTLP HTTP 4318 ------------------------------------------------------
        case!(
            "otlp-http-proto-empty-spans",
            true,
            "ExportTraceServiceRequest of body-limit/2 empty Span messages",
            |c| send(
                c,
                "otlp_http",
                "/v1/traces",
                PROTO,
                false,
                p::otlp_empty_spans(fit(c.opts.body_bytes) / 2)
            )
        ),
        case!(
            "otlp-http-proto-big-string",
            false,
            "one span with a 50 MB (or body-limit) attribute value",
            |c| send(
                c,
                "otlp_http",
                "/v1/traces",
                PROTO,
                false,
                p::otlp_span(b"big", &vec![b'x'; big(c.opts.body_bytes)], 0)
            )
        ),
        case!(
            "otlp-http-proto-huge-array",
            false,
            "one span with an array attribute of body-limit/2 empty values",
            |c| send(
                c,
                "otlp_http",
                "/v1/traces",
                PROTO,
                false,
                p::otlp_span(b"array", b"v", fit(c.opts.body_bytes) / 2)
            )
        ),
        case!(
            "otlp-http-proto-invalid-utf8",
            false,
            "one span whose name is invalid UTF-8",
            |c| send(
                c,
                "otlp_http",
                "/v1/traces",
                PROTO,
                false,
                p::otlp_span(BAD_UTF8, b"v", 0)
            )
        ),
        case!(
            "otlp-http-json-empty-spans",
            false,
            "OTLP JSON with body-limit of {} spans",
            |c| send(
                c,
                "otlp_http",
                "/v1/traces",
                JSON,
                false,
                p::otlp_json_empty_spans(fit(c.opts.body_bytes))
            )
        ),
        case!(
            "otlp-http-json-deep-nesting",
            false,
            "OTLP JSON nested '[' to the body limit",
            |c| send(
                c,
                "otlp_http",
                "/v1/traces",
                JSON,
                false,
                p::deep_json(br#"{"resourceSpans":"#, fit(c.opts.body_bytes))
            )
        ),
        case!(
            "otlp-http-json-invalid-utf8",
            false,
            "OTLP JSON span whose name is invalid UTF-8",
            |c| send(
                c,
                "otlp_http",
                "/v1/traces",
                JSON,
                false,
                p::otlp_json_span(BAD_UTF8)
            )
        ),
        // ---- OTLP gRPC 4317, Jaeger gRPC 14250 -------------------------------------
        case!(
            "otlp-grpc-empty-spans",
            true,
            "Export of message-limit/2 empty Span messages",
            |c| send_grpc(
                c,
                "otlp_grpc",
                OTLP_EXPORT,
                &p::otlp_empty_spans(fit(c.opts.grpc_bytes) / 2),
                false
            )
        ),
        case!(
            "otlp-grpc-big-string",
            false,
            "one span with a 50 MB (or message-limit) attribute",
            |c| send_grpc(
                c,
                "otlp_grpc",
                OTLP_EXPORT,
                &p::otlp_span(b"big", &vec![b'x'; big(c.opts.grpc_bytes)], 0),
                false
            )
        ),
        case!(
            "otlp-grpc-huge-array",
            false,
            "one span with an array attribute of message-limit/2 empty values",
            |c| send_grpc(
                c,
                "otlp_grpc",
                OTLP_EXPORT,
                &p::otlp_span(b"array", b"v", fit(c.opts.grpc_bytes) / 2),
                false
            )
        ),
        case!(
            "otlp-grpc-lying-length",
            false,
            "gRPC frame declaring 4 GiB, carrying 1 KB",
            |c| Ok(concurrently(
                c.opts.copies,
                grpc_call(
                    c.addr("otlp_grpc"),
                    OTLP_EXPORT,
                    grpc::frame_declaring(&[0u8; 1024], false, u32::MAX),
                    false,
                    c.opts.request_timeout
                )
            ))
        ),
        case!(
            "jaeger-grpc-empty-spans",
            false,
            "PostSpans of message-limit/2 empty Span messages",
            |c| send_grpc(
                c,
                "collector_grpc",
                JAEGER_POST_SPANS,
                &p::jaeger_proto_empty_spans(fit(c.opts.grpc_bytes) / 2),
                false
            )
        ),
        case!(
            "jaeger-grpc-lying-length",
            false,
            "gRPC frame declaring 4 GiB, carrying 1 KB",
            |c| Ok(concurrently(
                c.opts.copies,
                grpc_call(
                    c.addr("collector_grpc"),
                    JAEGER_POST_SPANS,
                    grpc::frame_declaring(&[0u8; 1024], false, u32::MAX),
                    false,
                    c.opts.request_timeout
                )
            ))
        ),
        // ---- limits at the edge ----------------------------------------------------
        case!(
            "over-limit-bodies",
            false,
            "a body 1 MiB over the limit to each ingest listener",
            over_limit
        ),
        case!(
            "content-length-lie",
            true,
            "Content-Length: 10^18 with 10 bytes, to five HTTP listeners",
            content_length_lie
        ),
        // ---- compression bombs -------------------------------------------------------
        case!(
            "gzip-bomb-zipkin-v1-thrift",
            true,
            "gzip expanding to the bomb size of empty structs under a lying list",
            |c| send(
                c,
                "zipkin_http",
                "/api/v1/spans",
                THRIFT,
                true,
                bomb("zipkin-v1-thrift", c.opts.bomb_bytes)
            )
        ),
        case!(
            "gzip-bomb-zipkin-v1-json",
            false,
            "gzip expanding to [{},{},…]",
            |c| send(
                c,
                "zipkin_http",
                "/api/v1/spans",
                JSON,
                true,
                bomb("json-array", c.opts.bomb_bytes)
            )
        ),
        case!(
            "gzip-bomb-zipkin-v2-json",
            false,
            "gzip expanding to [{},{},…]",
            |c| send(
                c,
                "zipkin_http",
                "/api/v2/spans",
                JSON,
                true,
                bomb("json-array", c.opts.bomb_bytes)
            )
        ),
        case!(
            "gzip-bomb-zipkin-v2-proto",
            false,
            "gzip expanding to empty proto3 spans",
            |c| send(
                c,
                "zipkin_http",
                "/api/v2/spans",
                PROTO,
                true,
                bomb("zipkin-v2-proto", c.opts.bomb_bytes)
            )
        ),
        case!(
            "gzip-bomb-otlp-http-proto",
            false,
            "gzip expanding to empty OTLP spans",
            |c| send(
                c,
                "otlp_http",
                "/v1/traces",
                PROTO,
                true,
                bomb("otlp-proto", c.opts.bomb_bytes)
            )
        ),
        case!(
            "gzip-bomb-otlp-http-json",
            false,
            "gzip expanding to OTLP JSON empty spans",
            |c| send(
                c,
                "otlp_http",
                "/v1/traces",
                JSON,
                true,
                bomb("otlp-json", c.opts.bomb_bytes)
            )
        ),
        case!(
            "gzip-bomb-collector",
            false,
            "gzip expanding to empty structs (collector takes no gzip: must refuse)",
            |c| send(
                c,
                "collector_http",
                "/api/traces",
                THRIFT,
                true,
                bomb("collector", c.opts.bomb_bytes)
            )
        ),
        case!(
            "gzip-bomb-otlp-grpc",
            false,
            "grpc-encoding gzip message expanding to empty OTLP spans",
            |c| {
                let b = bomb("otlp-proto", c.opts.bomb_bytes);
                Ok(concurrently(
                    c.opts.copies,
                    grpc_call(
                        c.addr("otlp_grpc"),
                        OTLP_EXPORT,
                        grpc::frame(&b, true),
                        true,
                        c.opts.request_timeout,
                    ),
                ))
            }
        ),
        case!(
            "gzip-bomb-jaeger-grpc",
            false,
            "grpc-encoding gzip message expanding to empty Jaeger spans",
            |c| {
                let b = bomb("jaeger-proto", c.opts.bomb_bytes);
                Ok(concurrently(
                    c.opts.copies,
                    grpc_call(
                        c.addr("collector_grpc"),
                        JAEGER_POST_SPANS,
                        grpc::frame(&b, true),
                        true,
                        c.opts.request_timeout,
                    ),
                ))
            }
        ),
    ]
}
