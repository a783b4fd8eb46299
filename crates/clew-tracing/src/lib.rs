//! Clew for the tokio-rs ecosystem.
//!
//! * [`ClewLayer`]: a `tracing_subscriber::Layer` that turns `tracing`
//!   spans into Clew spans (fields become tags) and events into span logs.
//! * [`ServerLayer`] / [`ClientLayer`]: `tower` middleware for HTTP. The
//!   server side extracts the caller's context from the request headers and
//!   wraps the handler in a `server` span; the client side starts a
//!   `client` span and injects its context into the outgoing headers.
//!
//! ```
//! use clew_client::{Tracer, reporter::InMemoryReporter};
//! use clew_tracing::ClewLayer;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let reporter = InMemoryReporter::new();
//! let tracer = Tracer::builder("svc").reporter(reporter.clone()).build();
//! let subscriber = tracing_subscriber::registry().with(ClewLayer::new(tracer));
//! tracing::subscriber::with_default(subscriber, || {
//!     let _outer = tracing::info_span!("request", user = 42).entered();
//!     tracing::info!(cache = "miss", "looked up");
//! });
//! let spans = reporter.spans();
//! assert_eq!(spans[0].operation_name, "request");
//! assert_eq!(spans[0].logs.len(), 1);
//! ```

#![deny(missing_docs)]

mod fields;
mod http_layer;
mod layer;

pub use http_layer::{
    ClientLayer, ClientService, OperationNamer, ResponseFuture, ServerLayer, ServerService,
};
pub use layer::ClewLayer;
