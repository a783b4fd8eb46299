//! Every Zipkin ingest format; the first byte picks v2 JSON, v2 proto3, v1
//! JSON, or v1 thrift (compact or binary).
#![no_main]

use clew_codec_zipkin::thrift::{self, Protocol};
use clew_codec_zipkin::{json_v1, json_v2, proto_v2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    match pick % 5 {
        0 => drop(json_v2::decode(rest)),
        1 => {
            drop(proto_v2::decode(rest));
            drop(proto_v2::decode_each(rest));
        }
        2 => drop(json_v1::decode(rest)),
        n => {
            let protocol = if n == 3 { Protocol::Compact } else { Protocol::Binary };
            let buf = bytes::Bytes::copy_from_slice(rest);
            let _ = thrift::decode_span_list(&buf, &buf, protocol);
        }
    }
});
