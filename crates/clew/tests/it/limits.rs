//! Limits a hostile or clumsy client runs into: connection caps with room
//! kept for admin, idle / header / body timeouts, an absurd
//! `Content-Length`, capped query limits, and zero limits refused at start.
//!
//! No timing assertions: timeouts are set to 1 s and the tests only wait
//! (up to a generous bound) for the server to close the connection, then
//! check what `/metrics` counted.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clew_codec_jaeger::{Protocol, encode_batch};
use clew_model::{Process, Span, SpanId, TraceId};

use crate::harness::Clew;

/// Longest wait for the server to close a connection it should close.
const CLOSE_WITHIN: Duration = Duration::from_secs(60);

fn metrics(clew: &Clew, client: &reqwest::blocking::Client) -> String {
    client
        .get(clew.url("admin_http", "/metrics"))
        .send()
        .expect("GET /metrics")
        .text()
        .expect("metrics text")
}

/// Reads until the server closes the connection (EOF or reset); panics if
/// it is still open after [`CLOSE_WITHIN`]. Returns what was read.
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(CLOSE_WITHIN))
        .expect("read timeout");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the server kept the connection open for {CLOSE_WITHIN:?}")
            }
            // Reset by the server: closed, too.
            Err(_) => return out,
        }
    }
}

#[test]
fn over_the_connection_cap_new_connections_are_refused_and_admin_still_answers() {
    let clew = Clew::start(&[
        "--max-connections",
        "4",
        "--reserved-connections",
        "2",
        "--idle-timeout-secs",
        "600",
        "--header-read-timeout-secs",
        "600",
    ]);
    let addr = clew.addr("collector_http");
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    // The fifth is accepted after the four (one accept queue, in order) and
    // closed at once: the total is used up.
    let mut fifth = TcpStream::connect(addr).expect("connect");
    let _ = fifth.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let answer = read_until_closed(&mut fifth);
    assert!(answer.is_empty(), "a refused connection gets no answer");

    // Admin and query keep reserved room.
    let client = reqwest::blocking::Client::new();
    let health = client
        .get(clew.url("admin_http", "/"))
        .send()
        .expect("health answers");
    assert_eq!(health.status(), 200);
    let services = client
        .get(clew.query("/api/services"))
        .send()
        .expect("query answers");
    assert_eq!(services.status(), 200);

    let text = metrics(&clew, &client);
    assert!(
        text.contains(r#"clew_connections_refused_total{listener="collector_http"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"clew_connections_open{listener="collector_http"} 4"#),
        "{text}"
    );
    drop(held);
}

#[test]
fn silent_connections_are_closed_after_the_idle_timeout() {
    let clew = Clew::start(&[
        "--idle-timeout-secs",
        "1",
        "--header-read-timeout-secs",
        "600",
    ]);
    // HTTP/1: connected, never sends a byte.
    let mut http = TcpStream::connect(clew.addr("zipkin_http")).expect("connect");
    assert!(read_until_closed(&mut http).is_empty());
    // gRPC: the server's SETTINGS go out, then nothing moves.
    let mut grpc = TcpStream::connect(clew.addr("otlp_grpc")).expect("connect");
    read_until_closed(&mut grpc);

    let text = metrics(&clew, &reqwest::blocking::Client::new());
    for listener in ["zipkin_http", "otlp_grpc"] {
        let line =
            format!(r#"clew_connections_timed_out_total{{listener="{listener}",reason="idle"}} 1"#);
        assert!(text.contains(&line), "{line} missing from:\n{text}");
    }
}

#[test]
fn a_slowly_trickled_header_is_cut_at_the_header_read_timeout() {
    let clew = Clew::start(&[
        "--header-read-timeout-secs",
        "1",
        "--idle-timeout-secs",
        "600",
    ]);
    let mut stream = TcpStream::connect(clew.addr("otlp_http")).expect("connect");
    stream
        .write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
        .expect("request line");
    let mut writer = stream.try_clone().expect("clone");
    // A header byte every 200 ms keeps the connection busy (not idle)
    // but never finishes the headers.
    let trickle = std::thread::spawn(move || {
        for _ in 0..300 {
            if writer.write_all(b"X").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    read_until_closed(&mut stream);
    let _ = stream.shutdown(Shutdown::Both);
    let _ = trickle.join();
    let text = metrics(&clew, &reqwest::blocking::Client::new());
    assert!(
        text.contains(
            r#"clew_connections_timed_out_total{listener="otlp_http",reason="header_read"} 1"#
        ),
        "{text}"
    );
}

#[test]
fn a_body_that_never_arrives_in_full_is_cut_at_the_body_timeout() {
    let clew = Clew::start(&[
        "--request-body-timeout-secs",
        "1",
        "--idle-timeout-secs",
        "600",
    ]);
    let mut stream = TcpStream::connect(clew.addr("collector_http")).expect("connect");
    stream
        .write_all(
            b"POST /api/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-thrift\r\n\
              Content-Length: 1000\r\n\r\n0123456789",
        )
        .expect("headers and 10 bytes");
    read_until_closed(&mut stream);
    let text = metrics(&clew, &reqwest::blocking::Client::new());
    assert!(
        text.contains(
            r#"clew_connections_timed_out_total{listener="collector_http",reason="request_body"} 1"#
        ),
        "{text}"
    );
}

#[test]
fn an_absurd_content_length_gets_413_json_before_the_body_is_read() {
    let clew = Clew::start(&[]);
    for (listener, path) in [
        ("collector_http", "/api/traces"),
        ("otlp_http", "/v1/traces"),
        ("zipkin_http", "/api/v2/spans"),
    ] {
        let mut stream = TcpStream::connect(clew.addr(listener)).expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-thrift\r\n\
             Content-Length: 1000000000000000000\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).expect("headers only");
        let answer = String::from_utf8(read_until_closed(&mut stream)).expect("UTF-8 answer");
        assert!(answer.starts_with("HTTP/1.1 413"), "{listener}: {answer}");
        let body = answer.split("\r\n\r\n").nth(1).expect("a body");
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        let msg = json["error"].as_str().expect("error message");
        assert!(msg.contains("Content-Length"), "{msg}");
    }
    let text = metrics(&clew, &reqwest::blocking::Client::new());
    assert!(
        text.contains(
            r#"clew_http_requests_refused_total{listener="collector_http",reason="content_length"} 1"#
        ),
        "{text}"
    );
}

fn send_traces(clew: &Clew, service: &str, count: u64) {
    let process = Arc::new(Process::new(service));
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos() as u64
        - 60_000_000_000;
    let spans: Vec<Span> = (1..=count)
        .map(|i| {
            let mut s = Span::new(TraceId::new(7, i), SpanId(i), "op", process.clone());
            s.start_time = start + i * 1_000;
            s.duration = 1_000;
            s
        })
        .collect();
    let mut body = Vec::new();
    encode_batch(&process, &spans, Protocol::Binary, &mut body);
    let resp = reqwest::blocking::Client::new()
        .post(clew.url("collector_http", "/api/traces?format=jaeger.thrift"))
        .header("Content-Type", "application/x-thrift")
        .body(body)
        .send()
        .expect("POST /api/traces");
    assert_eq!(resp.status(), 202);
}

#[test]
fn zero_and_huge_limits_are_capped_and_the_answer_says_so() {
    let clew = Clew::start(&["--query-max-traces", "3"]);
    send_traces(&clew, "capped", 5);
    // Wait until all five are stored (the cap is on what we return).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) = clew.get_json("/api/traces/00000000000000070000000000000005");
        if v["data"].is_array() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "spans not stored");
        std::thread::sleep(Duration::from_millis(50));
    }
    for limit in ["0", "100000"] {
        let (status, v) = clew.get_json(&format!("/api/traces?service=capped&limit={limit}"));
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["data"].as_array().map(Vec::len), Some(3), "{v}");
        let msg = v["errors"][0]["msg"].as_str().unwrap_or_default();
        assert!(
            msg.contains("query.max_traces") && msg.contains(&format!("limit {limit}")),
            "limit={limit}: {v}"
        );
    }
    let (_, v) = clew.get_json("/api/traces?service=capped&limit=2");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
    assert!(v["errors"].is_null(), "{v}");

    // API v3 has no errors field: the note is a Warning header.
    let resp = reqwest::blocking::get(clew.query(
        "/api/v3/traces?query.service_name=capped&query.num_traces=0\
         &query.start_time_min=2000-01-01T00:00:00Z&query.start_time_max=2100-01-01T00:00:00Z",
    ))
    .expect("GET /api/v3/traces");
    assert_eq!(resp.status(), 200);
    let warning = resp
        .headers()
        .get("warning")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // num_traces=0 means Jaeger's default of 100, which is above the cap.
    assert!(warning.contains("query.max_traces"), "{warning:?}");
}

/// Searches are paced only while ingest keeps half the cores busy (the
/// ingest benchmark shows the pacing): on an idle server they never wait,
/// and the query threads' own CPU does not count as ingest.
#[test]
fn searches_on_an_idle_server_are_not_paced() {
    let clew = Clew::start(&[]);
    send_traces(&clew, "idle", 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) = clew.get_json("/api/traces?service=idle&limit=1500&lookback=2h");
        if v["data"].as_array().map(Vec::len) == Some(200) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "spans not stored: {v}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Enough back-to-back searches to span several of the governor's
    // 100 ms windows.
    let until = std::time::Instant::now() + Duration::from_millis(600);
    while std::time::Instant::now() < until {
        let (status, _) = clew.get_json("/api/traces?service=idle&limit=1500&lookback=2h");
        assert_eq!(status, 200);
    }
    let text = metrics(&clew, &reqwest::blocking::Client::new());
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} not on /metrics"))
    };
    assert_eq!(value("clew_query_cpu_paced_seconds_total "), 0.0);
    assert_eq!(value("clew_query_cpu_ingest_busy "), 0.0);
}

/// Runs `clew` with `args` (and `env`), expecting exit 2 and one line
/// naming `key`.
fn refused(args: &[&str], env: &[(&str, &str)], key: &str) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clew"));
    cmd.args(args)
        .env_remove("CLEW_LOG_LEVEL")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run clew");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(key), "{args:?}: {err}");
}

#[test]
fn nonsense_limits_and_log_filters_are_refused_naming_the_key() {
    refused(&["--memory-max-bytes", "0"], &[], "store.memory_max_bytes");
    refused(
        &["--http-max-body-bytes", "0"],
        &[],
        "ingest.http_max_body_bytes",
    );
    refused(&["--max-connections", "0"], &[], "connections.max_total");
    refused(&["--query-timeout-secs", "0"], &[], "query.timeout_secs");
    let dir = crate::harness::TempDir::new("busy-cpu");
    let config = dir.0.join("clew.toml");
    std::fs::write(&config, "[query]\nbusy_cpu_percent = 0\n").expect("write config");
    refused(
        &["--config", config.to_str().expect("utf-8 path")],
        &[],
        "query.busy_cpu_percent",
    );
    refused(&["--log-level", "verbose"], &[], "log_level");
    refused(&["--log-level", "info,clew=loud"], &[], "log_level");
    refused(&[], &[("RUST_LOG", "loud")], "RUST_LOG");
}
