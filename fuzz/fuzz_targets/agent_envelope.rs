//! One UDP datagram as the agent listener handles it: the first byte picks
//! the protocol, then envelope parsing and, for `emitBatch`, the args decode.
#![no_main]

use clew_codec_jaeger::{EMIT_BATCH, Protocol, decode_emit_batch_args, parse_agent_envelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let protocol = if pick & 1 == 0 { Protocol::Compact } else { Protocol::Binary };
    let datagram = bytes::Bytes::copy_from_slice(rest);
    if let Ok(env) = parse_agent_envelope(&datagram, protocol) {
        if env.method == EMIT_BATCH {
            let _ = decode_emit_batch_args(&datagram, env.args, protocol);
        }
    }
});
