//! The query gRPC services on port 16685: `jaeger.api_v2.QueryService`
//! (what jaeger-query clients and Grafana's Jaeger gRPC mode call) and
//! `jaeger.api_v3.QueryService` (OTLP `TracesData` out).
//!
//! Stubs are generated at build time (see `build.rs`); api_v2 messages come
//! from `clew_codec_jaeger::api_v2::pb`, OTLP ones from `clew_codec_otlp`.

mod api_v2;
mod api_v3;
mod convert;

use tonic::Status;
use tonic::metadata::MetadataValue;
use tonic::service::Routes;

use crate::QueryState;
use crate::limits::{SearchError, WARNING_METADATA_KEY};

pub use api_v2::QueryServiceV2;
pub use api_v3::QueryServiceV3;

/// Generated `jaeger.api_v2.QueryService` server and client (messages are
/// `clew_codec_jaeger::api_v2::pb`).
#[allow(missing_docs, clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod proto_v2 {
    include!(concat!(env!("OUT_DIR"), "/jaeger.api_v2.rs"));
}

/// Generated `jaeger.api_v3` messages, server and client.
#[allow(missing_docs, clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod proto_v3 {
    include!(concat!(env!("OUT_DIR"), "/jaeger.api_v3.rs"));
}

/// Jaeger's query gRPC port.
pub const QUERY_GRPC_PORT: u16 = 16685;

/// Most spans per streamed `SpansResponseChunk`, as in Jaeger.
pub const MAX_SPANS_PER_CHUNK: usize = 10;

/// Both query services, ready for `tonic::transport::Server::builder()
/// .add_routes(..)` or to be turned into an axum router with
/// `Routes::into_axum_router`.
pub fn grpc_query_services(state: QueryState) -> Routes {
    Routes::new(proto_v2::query_service_server::QueryServiceServer::new(
        QueryServiceV2::new(state.clone()),
    ))
    .add_service(proto_v3::query_service_server::QueryServiceServer::new(
        QueryServiceV3::new(state),
    ))
}

/// A storage failure: INTERNAL with the error text.
fn store_status(e: &clew_store::StoreError) -> Status {
    tracing::error!(error = %e, "gRPC query failed in storage");
    Status::internal(e.to_string())
}

/// A bounded search that found nothing: the store's error, or UNAVAILABLE
/// when the store did not answer within the query's time budget.
fn search_status(e: &SearchError) -> Status {
    match e {
        SearchError::Store(e) => store_status(e),
        SearchError::TimedOut(budget) => Status::unavailable(SearchError::timeout_message(*budget)),
    }
}

/// A streamed answer carrying the limit warnings, if any, as
/// `clew-warning` response metadata (gRPC has no `errors` field).
fn with_warnings<T>(body: T, warnings: &[String]) -> tonic::Response<T> {
    let mut response = tonic::Response::new(body);
    if !warnings.is_empty() {
        // Our warnings are ASCII; anything else is dropped rather than sent broken.
        if let Ok(v) = MetadataValue::try_from(warnings.join("; ")) {
            response.metadata_mut().insert(WARNING_METADATA_KEY, v);
        }
    }
    response
}
