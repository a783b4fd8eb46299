//! Zipkin's wire formats ↔ Clew's span model. Pure functions, no I/O.
//!
//! | format | module | used by |
//! |---|---|---|
//! | v2 JSON | [`json_v2`] | `POST /api/v2/spans` (`application/json`), Zipkin read API |
//! | v2 proto3 `ListOfSpans` | [`proto_v2`] | `POST /api/v2/spans` (`application/x-protobuf`) |
//! | v1 JSON | [`json_v1`] | `POST /api/v1/spans` (`application/json`) |
//! | v1 thrift `list<zipkincore.Span>` | [`thrift`] | agent UDP 5775 `emitZipkinBatch`, `POST /api/v1/spans` (`application/x-thrift`) |
//!
//! Every format converts through [`ZipkinSpan`] (Zipkin's v2 shape); v1 spans
//! are first split into v2 spans the way Zipkin does (see [`v1`]). The
//! mapping to the model is in [`mapping`], whose docs list the tag and
//! process conventions (`span.kind`, `peer.*`, `zipkin.shared`, `ip`/`port`,
//! `error` / `error.message`). Decoders either decode a whole payload or
//! return a [`ZipkinError`] (Zipkin has no partial success); checking IDs
//! for zero is left to the ingest path's `clew_model::validate_span`.
//!
//! ```
//! let body = br#"[{"traceId":"0000000000000001","id":"0000000000000002",
//!   "name":"get","kind":"SERVER","localEndpoint":{"serviceName":"api"}}]"#;
//! let spans = clew_codec_zipkin::json_v2::decode(body)?;
//! assert_eq!(&*spans[0].process.service_name, "api");
//! assert_eq!(spans[0].kind_tag(), "server");
//! # Ok::<(), clew_codec_zipkin::ZipkinError>(())
//! ```

pub mod agent;
mod error;
mod json_common;
pub mod json_v1;
pub mod json_v2;
pub mod limits;
pub mod mapping;
pub mod proto;
pub mod proto_v2;
mod span;
pub mod thrift;
pub mod v1;

pub use error::ZipkinError;
pub use json_common::JsonEndpoint;
pub use span::{Annotation, Endpoint, Kind, ZipkinSpan};
