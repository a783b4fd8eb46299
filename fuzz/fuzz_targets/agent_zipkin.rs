//! One UDP datagram on the 5775 port carrying `emitZipkinBatch`: the
//! compact envelope (clew-codec-jaeger), then the Zipkin args struct
//! (clew-codec-zipkin). Inputs that are not an `emitZipkinBatch` envelope
//! are also decoded as bare args, so the fuzzer reaches the span list
//! without having to discover the envelope first.
#![no_main]

use clew_codec_jaeger::{EMIT_ZIPKIN_BATCH, Protocol, parse_agent_envelope};
use clew_codec_zipkin::agent::decode_emit_zipkin_batch_args;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let datagram = bytes::Bytes::copy_from_slice(data);
    match parse_agent_envelope(&datagram, Protocol::Compact) {
        Ok(env) if env.method == EMIT_ZIPKIN_BATCH => {
            let _ = decode_emit_zipkin_batch_args(&datagram, env.args);
        }
        _ => {
            let _ = decode_emit_zipkin_batch_args(&datagram, &datagram);
        }
    }
});
