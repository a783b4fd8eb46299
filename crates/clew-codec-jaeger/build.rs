//! Generates the `jaeger.api_v2` protobuf *messages* from `proto/`.
//!
//! protox compiles the .proto files in pure Rust, so a fresh machine needs
//! no `protoc`. Only messages are generated here: codec crates stay free of
//! tonic, and the crates that serve the gRPC services (ingest, query)
//! generate their stubs with `extern_path` pointing back at these types.

use std::io;

const PROTOS: &[&str] = &[
    "proto/jaeger/api_v2/model.proto",
    "proto/jaeger/api_v2/collector.proto",
    "proto/jaeger/api_v2/sampling.proto",
    "proto/jaeger/api_v2/query.proto",
];

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(PROTOS, ["proto"]).map_err(io::Error::other)?;
    prost_build::Config::new()
        // Binary values and IDs become `Bytes`, so decoding a request can
        // share its buffer instead of copying every ID and binary tag.
        .bytes(["."])
        .compile_fds(fds)
}
