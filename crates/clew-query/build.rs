//! Generates the gRPC service stubs of `jaeger.api_v2.QueryService` and
//! `jaeger.api_v3.QueryService` (plus api_v3's own messages).
//!
//! The .proto files live with the codec crate, which owns the api_v2
//! messages; here every api_v2 type points back at those (`extern_path`) and
//! OTLP's `TracesData` points at the opentelemetry-proto types re-exported
//! by clew-codec-otlp, so one Rust type exists per protobuf type. protox
//! compiles in pure Rust: no `protoc` needed.

use std::io;

const PROTO_ROOT: &str = "../clew-codec-jaeger/proto";
const PROTOS: &[&str] = &[
    "../clew-codec-jaeger/proto/jaeger/api_v2/query.proto",
    "../clew-codec-jaeger/proto/jaeger/api_v3/query_service.proto",
];

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    let fds = protox::compile(PROTOS, [PROTO_ROOT]).map_err(io::Error::other)?;
    tonic_prost_build::configure()
        .build_server(true)
        // Clients are generated too: the tests use them, and so can tools.
        .build_client(true)
        .extern_path(".jaeger.api_v2", "::clew_codec_jaeger::api_v2::pb")
        .extern_path(
            ".opentelemetry.proto.trace.v1",
            "::clew_codec_otlp::proto::trace::v1",
        )
        .compile_fds(fds)
}
