//! Tag keys the OTLP ↔ model mapping reads and writes.
//!
//! OTLP has structure the Jaeger-shaped model lacks (status, scope, trace
//! state, dropped counts, link flags). Those become tags appended after a
//! span's own attributes, under the keys below, and the encoder takes the
//! *last* tag with each key back out. Jaeger's own translator uses the first
//! group of keys; the rest are Clew's, chosen so a round trip loses nothing.
//! Scope attributes are not tags: they live in [`clew_model::Span::scope`],
//! so search finds them and Jaeger's JSON leaves them out, as Jaeger does.

/// Span status code tag: `OK` or `ERROR` (absent when unset). Jaeger's key.
pub const STATUS_CODE: &str = "otel.status_code";
/// Span status message tag. Jaeger's key.
pub const STATUS_DESCRIPTION: &str = "otel.status_description";
/// Instrumentation scope name tag. Jaeger's key.
pub const SCOPE_NAME: &str = "otel.scope.name";
/// Instrumentation scope version tag. Jaeger's key.
pub const SCOPE_VERSION: &str = "otel.scope.version";
/// W3C trace state of a span (or of a link, as a reference tag). Jaeger's key.
pub const TRACE_STATE: &str = "w3c.tracestate";
/// Link attribute naming the OpenTracing reference type (`child_of` /
/// `follows_from`), as recent OpenTelemetry translators write it.
pub const REF_TYPE: &str = "opentracing.ref_type";
/// [`REF_TYPE`] value for CHILD_OF.
pub const REF_CHILD_OF: &str = "child_of";
/// Jaeger's attribute carrying span warnings through OTLP.
pub const WARNINGS: &str = "@jaeger@warnings";

/// Dropped attribute count of the instrumentation scope.
pub const SCOPE_DROPPED_ATTRIBUTES: &str = "otel.scope.dropped_attributes_count";
/// Schema URL of the scope's spans.
pub const SCOPE_SCHEMA_URL: &str = "otel.scope.schema_url";
/// Dropped attribute count of a span, event (log field) or link (reference tag).
pub const DROPPED_ATTRIBUTES: &str = "otel.dropped_attributes_count";
/// Dropped event count of a span.
pub const DROPPED_EVENTS: &str = "otel.dropped_events_count";
/// Dropped link count of a span.
pub const DROPPED_LINKS: &str = "otel.dropped_links_count";
/// Flags of a link (reference tag); a span's own flags are `Span::flags`.
pub const LINK_FLAGS: &str = "otel.link.flags";
/// Process tag: dropped attribute count of the resource.
pub const RESOURCE_DROPPED_ATTRIBUTES: &str = "otel.resource.dropped_attributes_count";
/// Process tag: schema URL of the resource.
pub const RESOURCE_SCHEMA_URL: &str = "otel.resource.schema_url";

/// Resource attribute holding the service name.
pub const SERVICE_NAME: &str = "service.name";
/// Service name Jaeger gives a resource without `service.name`.
pub const NO_SERVICE_NAME: &str = "OTLPResourceNoServiceName";
