//! Overload from many senders at once, and hostile queries over a full store.

use std::time::{Duration, Instant};

use anyhow::Result;
use clew_tracegen::{RunConfig, Stop, TraceShape, TransportKind};

use super::{Case, Ctx, Outcome};
use crate::http;
use crate::probe::fmt_duration;

fn tracegen(
    kind: TransportKind,
    target: String,
    workers: usize,
    stop: Stop,
    seed: u64,
) -> RunConfig {
    RunConfig {
        transport: kind,
        target,
        workers,
        stop,
        shape: TraceShape::default(),
        batch_spans: 500,
        rate: 0,
        pool_spans: 20_000,
        progress: false,
        seed,
    }
}

/// Every ingest protocol at full speed from 14 sender threads at once.
fn overload(c: &Ctx<'_>) -> Result<Outcome> {
    let stop = Stop::After(c.opts.overload);
    let senders = [
        (TransportKind::HttpThrift, "collector_http", 4),
        (TransportKind::OtlpHttp, "otlp_http", 3),
        (TransportKind::OtlpGrpc, "otlp_grpc", 3),
        (TransportKind::ZipkinProto, "zipkin_http", 2),
        (TransportKind::UdpCompact, "agent_compact", 2),
    ];
    let handles: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(i, (kind, listener, workers))| {
            let cfg = tracegen(
                *kind,
                c.addr(listener).to_string(),
                *workers,
                stop,
                1000 + i as u64,
            );
            std::thread::spawn(move || clew_tracegen::run(&cfg))
        })
        .collect();
    let mut sent = 0u64;
    let mut failed = 0u64;
    let mut errors = 0u64;
    let mut secs = 0f64;
    let mut notes = Vec::new();
    for h in handles {
        match h.join() {
            Ok(Ok(s)) => {
                sent += s.spans_sent;
                failed += s.spans_failed;
                errors += s.errors;
                secs = secs.max(s.elapsed_s);
            }
            Ok(Err(e)) => notes.push(format!("sender: {e}")),
            Err(_) => notes.push("sender thread panicked".into()),
        }
    }
    let secs = secs.max(1e-3);
    Ok(Outcome {
        client: format!(
            "14 senders, {:.0} s: {:.0} k spans/s accepted by the transport, {} k spans in {} refused requests",
            secs,
            sent as f64 / secs / 1e3,
            failed / 1000,
            errors
        ),
        refused: failed,
        must_count: true,
        notes,
        failures: Vec::new(),
    })
}

/// Stores `query_spans` spans, then asks for everything several ways at once.
fn hostile_queries(c: &Ctx<'_>) -> Result<Outcome> {
    let load = tracegen(
        TransportKind::HttpThrift,
        c.addr("collector_http").to_string(),
        2,
        Stop::Traces((c.opts.query_spans / 10) as u64),
        77,
    );
    let loaded = clew_tracegen::run(&load).map(|s| s.spans_sent).unwrap_or(0);
    std::thread::sleep(Duration::from_secs(2));
    let services = http::request(
        c.addr("query_http"),
        "GET",
        "/api/services",
        &[],
        &[],
        Duration::from_secs(10),
    )?;
    let svc = String::from_utf8_lossy(&services.head)
        .split('"')
        .find(|s| s.starts_with("tracegen"))
        .unwrap_or("tracegen-00")
        .to_string();
    let q = [
        ("query_http", format!("/api/traces?service={svc}&limit=0")),
        (
            "query_http",
            format!("/api/traces?service={svc}&limit=1000000000&lookback=custom&start=0"),
        ),
        ("query_http", "/api/traces?limit=0".to_string()),
        (
            "query_http",
            format!(
                "/api/v3/traces?query.service_name={svc}&query.num_traces=1000000000&query.start_time_min=1970-01-01T00:00:00Z&query.start_time_max=2100-01-01T00:00:00Z"
            ),
        ),
        (
            "zipkin_http",
            format!("/api/v2/traces?serviceName={svc}&limit=1000000000&lookback=86400000000"),
        ),
        (
            "query_http",
            "/api/dependencies?endTs=4102444800000&lookback=4102444800000".to_string(),
        ),
    ];
    let until = Instant::now() + c.opts.hold;
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let q: Vec<_> = q
                .iter()
                .map(|(l, path)| (c.addr(l), path.clone()))
                .collect();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut i = t;
                while Instant::now() < until {
                    let (addr, path) = &q[i % q.len()];
                    i += 1;
                    seen.push((
                        i % q.len(),
                        http::request(*addr, "GET", path, &[], &[], Duration::from_secs(60)),
                    ));
                }
                seen
            })
        })
        .collect();
    let mut n = 0;
    let mut worst_bytes = 0u64;
    let mut worst_time = Duration::ZERO;
    let mut statuses: std::collections::BTreeMap<String, usize> = Default::default();
    for h in handles {
        for (_, r) in h.join().unwrap_or_default() {
            n += 1;
            match r {
                Ok(r) => {
                    worst_bytes = worst_bytes.max(r.body_bytes);
                    worst_time = worst_time.max(r.elapsed);
                    *statuses.entry(r.status.to_string()).or_default() += 1;
                }
                Err(e) => {
                    worst_time = worst_time.max(Duration::from_secs(60));
                    *statuses.entry(super::short_error(&e)).or_default() += 1
                }
            }
        }
    }
    let st: Vec<String> = statuses.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
    Ok(Outcome {
        client: format!(
            "{} k spans stored; {n} queries (limit=0, 10^9, no service, v3, Zipkin, dependencies) from 4 threads: {}; largest answer {} MB, slowest {}",
            loaded / 1000,
            st.join(", "),
            worst_bytes / 1_000_000,
            fmt_duration(worst_time)
        ),
        refused: 0,
        must_count: false,
        notes: Vec::new(),
        failures: Vec::new(),
    })
}

/// The load cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "overload",
            quick: false,
            what: "every ingest protocol at full speed from 14 senders (≥ 3× what the server can store)",
            run: overload,
        },
        Case {
            name: "hostile-queries",
            quick: true,
            what: "limit=0, limit=10^9, no service, v3 and Zipkin unbounded searches over a full store",
            run: hostile_queries,
        },
    ]
}
