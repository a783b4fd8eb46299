//! OTLP/JSON request bodies (OTLP HTTP with `application/json`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = clew_codec_otlp::json::decode(data);
});
