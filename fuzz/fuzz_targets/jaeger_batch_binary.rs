//! The HTTP `POST /api/traces` body (binary protocol `Batch`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let body = bytes::Bytes::copy_from_slice(data);
    let _ = clew_codec_jaeger::decode_batch(&body, clew_codec_jaeger::Protocol::Binary);
});
