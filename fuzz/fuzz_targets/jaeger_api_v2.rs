//! Jaeger gRPC `PostSpansRequest` bytes: protobuf decode, then the api_v2 →
//! model conversion the collector gRPC service runs.
#![no_main]

use clew_codec_jaeger::api_v2::{batch_to_model, pb};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = pb::PostSpansRequest::decode(data) {
        if let Some(batch) = req.batch {
            let _ = batch_to_model(batch);
        }
    }
});
