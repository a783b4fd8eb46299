//! OTLP `ExportTraceServiceRequest` bytes through the zero-copy decoder (the
//! path OTLP gRPC and HTTP/protobuf ingest take) and the prost decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let body = bytes::Bytes::copy_from_slice(data);
    let _ = clew_codec_otlp::decode(&body);
    let _ = clew_codec_otlp::decode_prost(data);
});
