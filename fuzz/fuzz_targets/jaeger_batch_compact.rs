//! An HTTP-style `Batch` body in the compact protocol: any bytes must give
//! a batch or a `DecodeError`, never a panic, hang or huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let body = bytes::Bytes::copy_from_slice(data);
    let _ = clew_codec_jaeger::decode_batch(&body, clew_codec_jaeger::Protocol::Compact);
});
