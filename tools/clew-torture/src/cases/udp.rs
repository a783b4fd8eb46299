//! Datagrams on every agent UDP port: random bytes, valid batches cut
//! short, and full-size datagrams of empty structs under a lying list.

use std::net::UdpSocket;
use std::time::Instant;

use anyhow::Result;
use clew_codec_jaeger::Protocol;
use clew_tracegen::shape::SplitMix64;

use super::{Case, Ctx, Outcome};
use crate::payload as p;
use crate::server::UDP_LISTENERS;

/// Sends datagrams from `make` to every agent port for the configured time
/// (split across ports), as fast as one thread can.
fn flood(c: &Ctx<'_>, make: fn(&str, &mut SplitMix64) -> Vec<u8>) -> Result<Outcome> {
    let per_port = c.opts.udp / UDP_LISTENERS.len() as u32;
    let mut sent = 0u64;
    let mut bytes = 0u64;
    let mut errors = 0u64;
    let mut rng = SplitMix64::new(42);
    for port in UDP_LISTENERS {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.connect(c.addr(port))?;
        let start = Instant::now();
        while start.elapsed() < per_port {
            let d = make(port, &mut rng);
            match sock.send(&d) {
                Ok(n) => {
                    sent += 1;
                    bytes += n as u64;
                }
                Err(_) => errors += 1,
            }
        }
    }
    Ok(Outcome {
        client: format!(
            "{sent} datagrams ({} MB) to 3 ports in {:.0} s{}",
            bytes / 1_000_000,
            c.opts.udp.as_secs_f64(),
            if errors > 0 {
                format!(", {errors} send errors")
            } else {
                String::new()
            }
        ),
        refused: sent,
        must_count: true,
        notes: Vec::new(),
        failures: Vec::new(),
    })
}

fn protocol(port: &str) -> Protocol {
    if port == "agent_binary" {
        Protocol::Binary
    } else {
        Protocol::Compact
    }
}

fn random(_: &str, rng: &mut SplitMix64) -> Vec<u8> {
    let n = 1 + (rng.next_u64() % 65_000) as usize;
    p::random_bytes(rng, n)
}

fn truncated(port: &str, rng: &mut SplitMix64) -> Vec<u8> {
    let mut d = p::emit_batch(20, rng.next_u64() % 1000, protocol(port));
    let cut = 1 + (rng.next_u64() as usize) % (d.len() - 1);
    d.truncate(cut);
    d
}

fn empty_structs(port: &str, _: &mut SplitMix64) -> Vec<u8> {
    const N: usize = 64_900;
    match port {
        "agent_binary" => {
            let mut d = vec![0x80, 0x01, 0x00, 0x04];
            d.extend_from_slice(&9u32.to_be_bytes());
            d.extend_from_slice(b"emitBatch");
            d.extend_from_slice(&1u32.to_be_bytes());
            d.extend_from_slice(&[0x0c, 0x00, 0x01]);
            d.extend_from_slice(&p::jaeger_batch_empty_structs(N as u32, N));
            d.push(0x00);
            d
        }
        "agent_zipkin_compact" => p::emit_zipkin_batch_empty_structs(N as u32, N),
        _ => p::emit_batch_compact_empty_structs(N as u32, N),
    }
}

/// The UDP cases.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "udp-random",
            quick: false,
            what: "random datagrams of 1–65,000 bytes on 6831, 6832, 5775",
            run: |c| flood(c, random),
        },
        Case {
            name: "udp-truncated",
            quick: false,
            what: "valid emitBatch datagrams cut at a random byte",
            run: |c| flood(c, truncated),
        },
        Case {
            name: "udp-empty-structs",
            quick: true,
            what: "65,000-byte datagrams of 64,900 empty span structs (1 byte each)",
            run: |c| flood(c, empty_structs),
        },
    ]
}
