//! The read APIs added for issue 4 — api_v2 and api_v3 gRPC, API v3 HTTP
//! and Zipkin's read API — over one MemoryStore fixture. One test binary
//! (several modules) keeps link time down on small machines.

mod api_v3_http;
mod fixture;
mod grpc_v2;
mod grpc_v3;
mod summaries;
mod zipkin;
