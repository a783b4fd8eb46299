//! OTLP → model over prost's owned messages (the gRPC path, where tonic has
//! already decoded the request, and the reference the zero-copy decoder is
//! tested against).

use std::sync::Arc;

use clew_model::Str;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1 as pb;
use prost::Message;

use crate::assemble::{self, RawLink, RawSpan};
use crate::error::OtlpError;
use crate::reject::Decoded;
use crate::value::attributes_from_pb;

/// Decodes a protobuf `ExportTraceServiceRequest` with prost, then maps it.
/// [`crate::decode`] gives the same result faster.
pub fn decode_prost(body: &[u8]) -> Result<Decoded, OtlpError> {
    Ok(request_to_model(ExportTraceServiceRequest::decode(body)?))
}

/// Maps a decoded request (for example from tonic) to model spans.
pub fn request_to_model(req: ExportTraceServiceRequest) -> Decoded {
    resource_spans_to_model(req.resource_spans)
}

/// Maps `ResourceSpans` (an export request's or a `TracesData`'s) to model spans.
pub fn resource_spans_to_model(resource_spans: Vec<pb::ResourceSpans>) -> Decoded {
    let mut out = Decoded::default();
    for rs in resource_spans {
        let (attrs, dropped) = rs
            .resource
            .map(|r| (r.attributes, r.dropped_attributes_count))
            .unwrap_or_default();
        let process = Arc::new(assemble::process_from(
            attributes_from_pb(attrs),
            dropped,
            Str::from(rs.schema_url),
        ));
        for ss in rs.scope_spans {
            let scope = ss.scope.unwrap_or_default();
            let scope_tags = assemble::scope_tags(
                Str::from(scope.name),
                Str::from(scope.version),
                attributes_from_pb(scope.attributes),
                scope.dropped_attributes_count,
                Str::from(ss.schema_url),
            );
            out.spans.reserve(ss.spans.len());
            for span in ss.spans {
                match span_to_model(span, &scope_tags, &process) {
                    Ok(s) => out.spans.push(s),
                    Err(reason) => out.rejected.add(reason),
                }
            }
        }
    }
    out
}

fn span_to_model(
    span: pb::Span,
    scope_tags: &assemble::ScopeTags,
    process: &Arc<clew_model::Process>,
) -> Result<clew_model::Span, crate::RejectReason> {
    let pb::Span {
        trace_id,
        span_id,
        trace_state,
        parent_span_id,
        flags,
        name,
        kind,
        start_time_unix_nano,
        end_time_unix_nano,
        attributes,
        dropped_attributes_count,
        events,
        dropped_events_count,
        links,
        dropped_links_count,
        status,
    } = span;
    // The links' IDs are borrowed by `RawLink` while the rest of each link
    // moves into it, so they are taken out first.
    let mut links = links;
    let link_ids: Vec<(Vec<u8>, Vec<u8>)> = links
        .iter_mut()
        .map(|l| {
            (
                std::mem::take(&mut l.trace_id),
                std::mem::take(&mut l.span_id),
            )
        })
        .collect();
    let raw_links = links
        .into_iter()
        .zip(&link_ids)
        .map(|(l, (t, s))| RawLink {
            trace_id: t,
            span_id: s,
            trace_state: Str::from(l.trace_state),
            attributes: attributes_from_pb(l.attributes),
            dropped_attributes: l.dropped_attributes_count,
            flags: l.flags,
        })
        .collect();
    let status = status.unwrap_or_default();
    let raw = RawSpan {
        trace_id: &trace_id,
        span_id: &span_id,
        parent_span_id: &parent_span_id,
        trace_state: Str::from(trace_state),
        flags,
        name: Str::from(name),
        kind,
        start: start_time_unix_nano,
        end: end_time_unix_nano,
        attributes: attributes_from_pb(attributes),
        dropped_attributes: dropped_attributes_count,
        logs: events
            .into_iter()
            .map(|e| {
                assemble::event_to_log(
                    e.time_unix_nano,
                    Str::from(e.name),
                    attributes_from_pb(e.attributes),
                    e.dropped_attributes_count,
                )
            })
            .collect(),
        dropped_events: dropped_events_count,
        links: raw_links,
        dropped_links: dropped_links_count,
        status_code: status.code,
        status_message: Str::from(status.message),
    };
    assemble::finish(raw, scope_tags, process)
}
