//! Golden files: payloads written from the OTLP spec as SDKs send them, and
//! the model (and OTLP output) they must produce.

mod common;

use bytes::Bytes;
use common::render;
use prost::Message;

fn read(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[test]
fn js_sdk_json_maps_to_the_model() {
    let decoded = clew_codec_otlp::json::decode(&read("otlp/js-sdk-http.json")).expect("decodes");
    assert_eq!(decoded.rejected.total(), 0);
    render::check(
        "otlp/js-sdk-http.model.json",
        &render::spans(&decoded.spans),
    );
}

#[test]
fn the_same_payload_as_protobuf_maps_identically() {
    let req = clew_codec_otlp::json::parse_request(&read("otlp/js-sdk-http.json")).expect("parses");
    let body = Bytes::from(req.encode_to_vec());
    let decoded = clew_codec_otlp::decode(&body).expect("decodes");
    render::check(
        "otlp/js-sdk-http.model.json",
        &render::spans(&decoded.spans),
    );
}

#[test]
fn model_encodes_back_to_otlp_json() {
    let decoded = clew_codec_otlp::json::decode(&read("otlp/js-sdk-http.json")).expect("decodes");
    let out: serde_json::Value =
        serde_json::from_slice(&clew_codec_otlp::json::encode(&decoded.spans)).expect("JSON");
    render::check("otlp/js-sdk-http.encoded.json", &out);
}
