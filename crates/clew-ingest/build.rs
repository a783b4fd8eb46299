//! Generates the gRPC service stubs of `jaeger.api_v2.CollectorService` and
//! `jaeger.api_v2.SamplingManager` (port 14250).
//!
//! The .proto files and the generated *messages* belong to
//! clew-codec-jaeger; `extern_path` points every `jaeger.api_v2` type back at
//! them so one Rust type exists per protobuf type. protox compiles in pure
//! Rust, so no `protoc` is needed. Clients are generated too: the
//! integration tests talk to the servers through them.

use std::io;

const PROTO_ROOT: &str = "../clew-codec-jaeger/proto";
const PROTOS: &[&str] = &[
    "../clew-codec-jaeger/proto/jaeger/api_v2/collector.proto",
    "../clew-codec-jaeger/proto/jaeger/api_v2/sampling.proto",
];

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}/jaeger/api_v2");
    let fds = protox::compile(PROTOS, [PROTO_ROOT]).map_err(io::Error::other)?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .extern_path(".jaeger.api_v2", "::clew_codec_jaeger::api_v2::pb")
        .compile_fds(fds)
}
