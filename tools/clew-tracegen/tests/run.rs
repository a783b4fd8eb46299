//! End-to-end runs of the generator against small in-test receivers that
//! decode what arrives with Clew's own Jaeger codec.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use clew_codec_jaeger::{Protocol, decode_batch, decode_emit_batch_args, parse_agent_envelope};
use clew_model::{Span, TraceId};
use clew_tracegen::{RunConfig, Stop, TraceShape, TransportKind, run};

fn config(transport: TransportKind, target: String, stop: Stop) -> RunConfig {
    RunConfig {
        transport,
        target,
        workers: 2,
        stop,
        shape: TraceShape::default(),
        batch_spans: 500,
        rate: 0,
        pool_spans: 1_000,
        progress: false,
        seed: 3,
    }
}

/// Receives datagrams until the sender has been quiet for a second, then
/// decodes them. Decoding after receiving keeps the loop fast enough that a
/// burst does not overflow the socket's receive buffer. The first datagram
/// may take longer: the generator builds its payload pools first (seconds,
/// unoptimised, on a loaded machine).
fn receive_udp(socket: &UdpSocket, protocol: Protocol) -> Vec<Span> {
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut datagrams = Vec::new();
    let mut buf = vec![0u8; 65_536];
    while let Ok(n) = socket.recv(&mut buf) {
        datagrams.push(Bytes::copy_from_slice(&buf[..n]));
        socket
            .set_read_timeout(Some(Duration::from_secs(1)))
            .expect("timeout");
    }
    let mut got = Vec::new();
    for datagram in datagrams {
        assert!(
            datagram.len() <= 65_000,
            "datagram of {} bytes",
            datagram.len()
        );
        let env = parse_agent_envelope(&datagram, protocol).expect("envelope");
        let batch = decode_emit_batch_args(&datagram, env.args, protocol).expect("batch");
        got.extend(batch.spans);
    }
    got
}

fn by_trace(spans: &[Span]) -> HashMap<TraceId, Vec<&Span>> {
    let mut m: HashMap<TraceId, Vec<&Span>> = HashMap::new();
    for s in spans {
        m.entry(s.trace_id).or_default().push(s);
    }
    m
}

#[test]
fn udp_compact_sends_exactly_the_requested_whole_traces() {
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let target = server.local_addr().expect("addr").to_string();
    let cfg = config(TransportKind::UdpCompact, target, Stop::Traces(25));
    let drain = std::thread::spawn(move || receive_udp(&server, Protocol::Compact));
    let summary = run(&cfg).expect("run");
    assert_eq!(summary.spans_sent, 250);
    assert_eq!(summary.errors, 0);
    assert_eq!(summary.transport, "udp-compact");

    let spans = drain.join().expect("drain");
    assert_eq!(spans.len(), 250);
    let traces = by_trace(&spans);
    assert_eq!(traces.len(), 25, "25 distinct trace IDs");
    for spans in traces.values() {
        assert_eq!(spans.len(), 10);
        let roots: Vec<_> = spans.iter().filter(|s| s.references.is_empty()).collect();
        assert_eq!(roots.len(), 1);
        assert_eq!(&*roots[0].operation_name, "lets-go");
    }
}

#[test]
fn udp_binary_round_after_round_gets_fresh_trace_ids() {
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let target = server.local_addr().expect("addr").to_string();
    let mut cfg = config(TransportKind::UdpBinary, target, Stop::Traces(60));
    cfg.workers = 1;
    cfg.pool_spans = 100; // 10 traces per round: 6 rounds
    cfg.batch_spans = 50;
    // 12 binary datagrams of ~27 KB overflow a default receive buffer in one
    // burst; pacing them over 0.1 s lets the receiver keep up.
    cfg.rate = 6_000;
    let drain = std::thread::spawn(move || receive_udp(&server, Protocol::Binary));
    let summary = run(&cfg).expect("run");
    assert_eq!(summary.spans_sent, 600);
    assert_eq!(summary.batches, 12);
    let spans = drain.join().expect("drain");
    assert_eq!(spans.len(), 600);
    let traces = by_trace(&spans);
    assert_eq!(traces.len(), 60, "every round re-stamps its traces");
    assert!(traces.values().all(|t| t.len() == 10));
}

#[test]
fn rate_caps_spans_per_second_across_workers() {
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let target = server.local_addr().expect("addr").to_string();
    let mut cfg = config(
        TransportKind::UdpCompact,
        target,
        Stop::After(Duration::from_millis(1500)),
    );
    cfg.rate = 2_000;
    cfg.batch_spans = 50;
    let drain = std::thread::spawn(move || receive_udp(&server, Protocol::Compact).len());
    let summary = run(&cfg).expect("run");
    // The cap: a payload is sent no earlier than its place on the shared
    // schedule, so by the end no more than rate × elapsed went out, plus
    // the payload each worker claimed last. Bounds that hold however slow
    // the machine is (a loaded CI host sends fewer, never more); unpaced,
    // the same run sends hundreds of thousands of spans.
    let cap = cfg.rate as f64 * summary.elapsed_s + (cfg.batch_spans * cfg.workers) as f64;
    assert!(
        summary.spans_sent as f64 <= cap,
        "sent {} spans in {:.3} s at --rate {}",
        summary.spans_sent,
        summary.elapsed_s,
        cfg.rate
    );
    assert!(summary.spans_sent >= cfg.batch_spans as u64);
    assert_eq!(drain.join().expect("drain") as u64, summary.spans_sent);
}

/// A minimal HTTP/1.1 collector: decodes each body, answers 202, counts connections.
fn spawn_collector(
    listener: TcpListener,
    connections: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<Vec<Span>> {
    std::thread::spawn(move || {
        let mut handlers = Vec::new();
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            connections.fetch_add(1, Ordering::SeqCst);
            handlers.push(std::thread::spawn(move || {
                let mut spans = Vec::new();
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut out = stream;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if line.trim() == "STOP" {
                        break;
                    }
                    assert_eq!(line.trim(), "POST /api/traces HTTP/1.1");
                    let mut len = 0;
                    loop {
                        line.clear();
                        reader.read_line(&mut line).expect("header");
                        let l = line.trim().to_ascii_lowercase();
                        if l.is_empty() {
                            break;
                        }
                        if let Some(v) = l.strip_prefix("content-length:") {
                            len = v.trim().parse().expect("length");
                        }
                    }
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).expect("body");
                    let batch =
                        decode_batch(&Bytes::from(body), Protocol::Binary).expect("decodes");
                    spans.extend(batch.spans);
                    out.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                        .expect("reply");
                }
                spans
            }));
            if handlers.len() > 2 {
                // The generator has at most two workers; a third connection is the stop signal.
                break;
            }
        }
        let mut all = Vec::new();
        for h in handlers {
            all.extend(h.join().expect("handler"));
        }
        all
    })
}

#[test]
fn http_thrift_posts_batches_over_one_connection_per_worker() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let collector = spawn_collector(listener, connections.clone());

    let cfg = config(
        TransportKind::HttpThrift,
        addr.to_string(),
        Stop::Traces(240),
    );
    let summary = run(&cfg).expect("run");
    assert_eq!(summary.spans_sent, 2_400);
    assert_eq!(summary.errors, 0);
    // 1,200 spans per worker in payloads of at most 500: 3 requests each.
    assert_eq!(summary.batches, 6);

    let mut stop = std::net::TcpStream::connect(addr).expect("stop connection");
    stop.write_all(b"STOP\r\n").expect("stop");
    drop(stop);
    let spans = collector.join().expect("collector");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        3,
        "two workers + the stop signal"
    );
    assert_eq!(spans.len(), 2_400);
    let traces = by_trace(&spans);
    assert_eq!(traces.len(), 240);
    assert!(traces.values().all(|t| t.len() == 10));
}

#[test]
fn a_refused_connection_is_counted_not_fatal() {
    // Bind then drop to find a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let mut cfg = config(
        TransportKind::HttpThrift,
        format!("127.0.0.1:{port}"),
        Stop::Traces(100),
    );
    cfg.workers = 1;
    let summary = run(&cfg).expect("run completes");
    assert_eq!(summary.spans_sent, 0);
    assert_eq!(summary.errors, 2);
    assert_eq!(summary.spans_failed, 1_000);
}

#[test]
fn the_binary_prints_a_json_summary_on_stdout() {
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let target = server.local_addr().expect("addr").to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_clew-tracegen"))
        .args([
            "--transport",
            "udp-compact",
            "--target",
            &target,
            "--traces",
            "3",
            "--quiet",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    let last = stdout.lines().last().expect("a line");
    let json: serde_json::Value = serde_json::from_str(last).expect("json");
    assert_eq!(json["transport"], "udp-compact");
    assert_eq!(json["spans_sent"], 30);
    assert_eq!(json["errors"], 0);
    assert_eq!(receive_udp(&server, Protocol::Compact).len(), 30);
}
