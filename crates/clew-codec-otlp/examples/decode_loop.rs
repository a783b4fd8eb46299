//! Profiling driver: decodes the decode bench's tracegen payload (512 spans)
//! `N` times (first argument, default 200). Deterministic, so instruction
//! counts compare across changes on a loaded machine:
//!
//! `valgrind --tool=callgrind --toggle-collect='decode_loop::decode_once' target/release/examples/decode_loop`
//!
//! Instructions inside `decode_once` are the decode + map cost; the spans
//! are dropped outside it. Per span, take the difference of two runs
//! (e.g. N = 40 and N = 20) divided by `20 × 512`, which leaves out the
//! one-off costs (key interning, first allocations).

#[path = "../benches/tracegen/mod.rs"]
mod tracegen;

use bytes::Bytes;
use clew_codec_otlp::{Decoded, OtlpError};
use prost::Message;

/// The measured call, kept out of line so callgrind can toggle on it
/// whatever the optimiser inlines inside.
#[inline(never)]
fn decode_once(body: &Bytes) -> Result<Decoded, OtlpError> {
    clew_codec_otlp::decode(body)
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let body = Bytes::from(tracegen::tracegen_request().encode_to_vec());
    let mut spans = 0;
    for _ in 0..rounds {
        match decode_once(&body) {
            Ok(d) => spans += std::hint::black_box(d).spans.len(),
            Err(e) => {
                eprintln!("decode failed: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("{spans} spans decoded ({} per round)", tracegen::SPANS);
}
