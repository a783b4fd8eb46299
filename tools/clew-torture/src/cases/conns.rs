//! Connection floods: 10,000 idle connections, and 10,000 slowloris
//! connections that trickle headers or a body one byte at a time.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Case, Ctx, Outcome};

/// The ingest TCP listeners an attacker fills (admin and query are kept
/// for the probes: the target is that they keep answering).
const INGEST_TCP: [&str; 6] = [
    "collector_http",
    "zipkin_http",
    "otlp_http",
    "otlp_grpc",
    "collector_grpc",
    "sampling_http",
];

/// Opens up to `n` connections round-robin over the ingest listeners.
fn open(c: &Ctx<'_>, n: usize) -> (Vec<TcpStream>, u64) {
    let addrs: Vec<SocketAddr> = INGEST_TCP.iter().map(|l| c.addr(l)).collect();
    let mut conns = Vec::with_capacity(n);
    let mut failed = 0u64;
    for i in 0..n {
        match TcpStream::connect_timeout(&addrs[i % addrs.len()], Duration::from_millis(500)) {
            Ok(s) => {
                let _ = s.set_nonblocking(true);
                conns.push(s);
            }
            Err(_) => failed += 1,
        }
    }
    (conns, failed)
}

/// Whether the server closed `s` (EOF, reset, or it answered and closed).
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // an error reply; EOF follows if it closes
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

fn idle(c: &Ctx<'_>) -> Result<Outcome> {
    let limit = crate::server::raise_nofile();
    let start = Instant::now();
    let (mut conns, failed) = open(c, c.opts.conns);
    let opened = conns.len();
    let open_time = start.elapsed();
    std::thread::sleep(c.opts.hold);
    let closed = conns
        .iter_mut()
        .map(closed_by_server)
        .filter(|&c| c)
        .count();
    drop(conns);
    Ok(Outcome {
        client: format!(
            "opened {opened}/{} in {:.1} s ({failed} refused or timed out); server closed {closed} within {} s",
            c.opts.conns,
            open_time.as_secs_f64(),
            c.opts.hold.as_secs()
        ),
        refused: failed + closed as u64,
        must_count: false,
        notes: vec![format!("client RLIMIT_NOFILE {limit}")],
        failures: Vec::new(),
    })
}

fn slowloris(c: &Ctx<'_>) -> Result<Outcome> {
    crate::server::raise_nofile();
    let (mut conns, failed) = open(c, c.opts.conns);
    let opened = conns.len();
    // Even connections trickle header lines; odd ones send complete headers
    // promising a 1 MB body and trickle that.
    let mut alive: Vec<bool> = vec![true; conns.len()];
    for (i, s) in conns.iter_mut().enumerate() {
        let head: &[u8] = if i % 2 == 0 {
            b"POST /api/traces HTTP/1.1\r\nHost: x\r\n"
        } else {
            b"POST /api/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-thrift\r\nContent-Length: 1000000\r\n\r\n"
        };
        if s.write_all(head).is_err() {
            alive[i] = false;
        }
    }
    let start = Instant::now();
    let mut round = 0u64;
    while start.elapsed() < c.opts.hold * 2 {
        round += 1;
        let tick = Instant::now();
        for (i, s) in conns.iter_mut().enumerate() {
            if !alive[i] {
                continue;
            }
            let byte: &[u8] = if i % 2 == 0 { b"X" } else { b"\0" };
            match s.write(byte) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => alive[i] = false,
            }
            if i % 2 == 0 && round.is_multiple_of(20) {
                let _ = s.write(b": y\r\n");
            }
        }
        std::thread::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed()));
    }
    let closed = conns
        .iter_mut()
        .enumerate()
        .map(|(i, s)| !alive[i] || closed_by_server(s))
        .filter(|&c| c)
        .count();
    Ok(Outcome {
        client: format!(
            "{opened}/{} connections trickling 1 byte/s for {} s ({failed} refused); server closed {closed}",
            c.opts.conns,
            (c.opts.hold * 2).as_secs()
        ),
        refused: failed + closed as u64,
        must_count: false,
        notes: if closed == 0 {
            vec!["no slow connection was closed: no header-read or body timeout".into()]
        } else {
            Vec::new()
        },
        failures: Vec::new(),
    })
}

/// The connection cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "idle-connections",
            quick: true,
            what: "10,000 idle TCP connections over the ingest listeners",
            run: idle,
        },
        Case {
            name: "slowloris",
            quick: false,
            what: "10,000 connections sending headers or body at 1 byte/s",
            run: slowloris,
        },
    ]
}
