//! Golden files: payloads written from Zipkin's specs as tracers send them,
//! and the model (and Zipkin output) they must produce.

mod common;

use bytes::Bytes;
use clew_codec_zipkin::thrift::{self, Protocol};
use clew_codec_zipkin::{json_v1, json_v2, proto_v2};
use common::render;

fn read(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[test]
fn v2_json_maps_to_the_model() {
    let spans = json_v2::decode(&read("zipkin/v2-client-server.json")).expect("decodes");
    render::check("zipkin/v2-client-server.model.json", &render::spans(&spans));
}

#[test]
fn v2_proto_of_the_same_spans_maps_identically() {
    let spans = json_v2::decode(&read("zipkin/v2-client-server.json")).expect("decodes");
    let mut body = Vec::new();
    proto_v2::encode(&spans, &mut body);
    let again = proto_v2::decode(&body).expect("decodes");
    render::check("zipkin/v2-client-server.model.json", &render::spans(&again));
}

#[test]
fn model_encodes_back_to_v2_json() {
    let spans = json_v2::decode(&read("zipkin/v2-client-server.json")).expect("decodes");
    let mut body = Vec::new();
    json_v2::encode(&spans, &mut body).expect("encodes");
    let out: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let input: serde_json::Value =
        serde_json::from_slice(&read("zipkin/v2-client-server.json")).expect("JSON");
    assert_eq!(out, input, "v2 JSON survives the model unchanged");
}

#[test]
fn v1_merged_rpc_splits_into_client_and_shared_server() {
    let spans = json_v1::decode(&read("zipkin/v1-merged-rpc.json")).expect("decodes");
    render::check("zipkin/v1-merged-rpc.model.json", &render::spans(&spans));
}

#[test]
fn hand_assembled_compact_thrift_decodes() {
    let text = String::from_utf8(read("zipkin/v1-server-compact.hex")).expect("text");
    let bytes: Vec<u8> = (0..text.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text.trim()[i..i + 2], 16).expect("hex"))
        .collect();
    let body = Bytes::from(bytes);
    let spans = thrift::decode_span_list(&body, &body, Protocol::Compact).expect("decodes");
    render::check(
        "zipkin/v1-server-compact.model.json",
        &render::spans(&spans),
    );
}
