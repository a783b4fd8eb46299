//! OTLP → model rules shared by the prost decoder and the zero-copy one.
//!
//! Both decoders reduce the wire data to [`RawSpan`] and friends, and this
//! module alone decides what model span comes out, so the two paths cannot
//! drift apart (a property test checks they agree).

use std::sync::Arc;

use clew_model::{
    KeyValue, Log, Process, RefType, Reference, Scope, Span, SpanId, Str, TraceId, Value,
    keys as mkeys,
};

use crate::keys;
use crate::reject::RejectReason;

/// A tag with a static key: `Str::from_static` shares the key instead of
/// copying it for every span.
pub(crate) fn tag(key: &'static str, value: Value) -> KeyValue {
    KeyValue {
        key: Str::from_static(key),
        value,
    }
}

/// Builds the process of a resource: `service.name` (the first string one)
/// becomes the service, other attributes the tags, then the dropped count
/// and schema URL when set.
pub(crate) fn process_from(
    mut attributes: Vec<KeyValue>,
    dropped: u32,
    schema_url: Str,
) -> Process {
    let at = attributes
        .iter()
        .position(|kv| &*kv.key == keys::SERVICE_NAME && matches!(kv.value, Value::Str(_)));
    let service_name = match at.map(|i| attributes.remove(i).value) {
        Some(Value::Str(s)) => s,
        _ => Str::from_static(keys::NO_SERVICE_NAME),
    };
    if dropped != 0 {
        attributes.push(tag(
            keys::RESOURCE_DROPPED_ATTRIBUTES,
            Value::I64(dropped.into()),
        ));
    }
    if !schema_url.is_empty() {
        attributes.push(tag(keys::RESOURCE_SCHEMA_URL, Value::Str(schema_url)));
    }
    Process {
        service_name,
        tags: attributes,
    }
}

/// What every span of one `ScopeSpans` gets: the tags Jaeger shows for the
/// scope (`otel.scope.name`, `otel.scope.version`, dropped count, schema URL)
/// and the scope's attributes, shared by all its spans.
pub(crate) struct ScopeTags {
    tags: Vec<KeyValue>,
    scope: Option<Arc<Scope>>,
}

impl ScopeTags {
    /// How many tags [`finish`] appends for the scope.
    pub(crate) fn len(&self) -> usize {
        self.tags.len()
    }
}

/// The scope part of every span of a `ScopeSpans`.
pub(crate) fn scope_tags(
    name: Str,
    version: Str,
    attributes: Vec<KeyValue>,
    dropped: u32,
    schema_url: Str,
) -> ScopeTags {
    let mut tags = Vec::new();
    if !name.is_empty() {
        tags.push(tag(keys::SCOPE_NAME, Value::Str(name)));
    }
    if !version.is_empty() {
        tags.push(tag(keys::SCOPE_VERSION, Value::Str(version)));
    }
    if dropped != 0 {
        tags.push(tag(
            keys::SCOPE_DROPPED_ATTRIBUTES,
            Value::I64(dropped.into()),
        ));
    }
    if !schema_url.is_empty() {
        tags.push(tag(keys::SCOPE_SCHEMA_URL, Value::Str(schema_url)));
    }
    let scope = (!attributes.is_empty()).then(|| Arc::new(Scope { attributes }));
    ScopeTags { tags, scope }
}

/// An event becomes a log whose first field is `event` = name (when named).
pub(crate) fn event_to_log(time: u64, name: Str, attributes: Vec<KeyValue>, dropped: u32) -> Log {
    let mut fields = Vec::with_capacity(attributes.len() + 2);
    if !name.is_empty() {
        fields.push(tag(mkeys::EVENT, Value::Str(name)));
    }
    fields.extend(attributes);
    if dropped != 0 {
        fields.push(tag(keys::DROPPED_ATTRIBUTES, Value::I64(dropped.into())));
    }
    Log {
        timestamp: time,
        fields,
    }
}

/// A link as read from the wire.
pub(crate) struct RawLink<'a> {
    pub trace_id: &'a [u8],
    pub span_id: &'a [u8],
    pub trace_state: Str,
    pub attributes: Vec<KeyValue>,
    pub dropped_attributes: u32,
    pub flags: u32,
}

/// A span as read from the wire, attributes and events already converted.
#[derive(Default)]
pub(crate) struct RawSpan<'a> {
    pub trace_id: &'a [u8],
    pub span_id: &'a [u8],
    pub parent_span_id: &'a [u8],
    pub trace_state: Str,
    pub flags: u32,
    pub name: Str,
    pub kind: i32,
    pub start: u64,
    pub end: u64,
    pub attributes: Vec<KeyValue>,
    pub dropped_attributes: u32,
    pub logs: Vec<Log>,
    pub dropped_events: u32,
    pub links: Vec<RawLink<'a>>,
    pub dropped_links: u32,
    pub status_code: i32,
    pub status_message: Str,
}

fn trace_id_of(b: &[u8]) -> Option<TraceId> {
    (b.len() == 16)
        .then(|| TraceId::from_bytes(b).ok())
        .flatten()
}

fn span_id_of(b: &[u8]) -> Option<SpanId> {
    SpanId::from_bytes(b).ok()
}

/// How many tags [`finish`] appends to a span's attributes (kind, status,
/// the scope's `scope_tags`, trace state, dropped counts), so a decoder can
/// allocate the tag vector once at its final size.
pub(crate) fn appended_tags(raw: &RawSpan<'_>, scope_tags: usize) -> usize {
    usize::from(kind_name(raw.kind).is_some())
        + usize::from(matches!(raw.status_code, 1 | 2))
        + usize::from(!raw.status_message.is_empty())
        + usize::from(raw.status_code == 2)
        + scope_tags
        + usize::from(!raw.trace_state.is_empty())
        + usize::from(raw.dropped_attributes != 0)
        + usize::from(raw.dropped_events != 0)
        + usize::from(raw.dropped_links != 0)
}

/// Applies the mapping to one span, or says why it is refused.
pub(crate) fn finish(
    raw: RawSpan<'_>,
    scope_tags: &ScopeTags,
    process: &Arc<Process>,
) -> Result<Span, RejectReason> {
    let extra = appended_tags(&raw, scope_tags.len());
    let trace_id = trace_id_of(raw.trace_id).ok_or(RejectReason::TraceIdLength)?;
    let span_id = span_id_of(raw.span_id).ok_or(RejectReason::SpanIdLength)?;
    let parent = match raw.parent_span_id {
        [] => None,
        b => Some(span_id_of(b).ok_or(RejectReason::ParentSpanIdLength)?),
    };
    let mut links = Vec::with_capacity(raw.links.len());
    for l in &raw.links {
        let t = trace_id_of(l.trace_id).ok_or(RejectReason::LinkIdLength)?;
        let s = span_id_of(l.span_id).ok_or(RejectReason::LinkIdLength)?;
        links.push((t, s));
    }
    if trace_id.is_zero() {
        return Err(RejectReason::ZeroTraceId);
    }
    if span_id.is_zero() {
        return Err(RejectReason::ZeroSpanId);
    }
    let parent = parent.filter(|p| !p.is_zero());

    let mut references = Vec::with_capacity(links.len() + usize::from(parent.is_some()));
    if let Some(p) = parent {
        references.push(Reference::child_of(trace_id, p));
    }
    for (l, (t, s)) in raw.links.into_iter().zip(links) {
        references.push(link_to_reference(l, t, s, trace_id, parent.is_some()));
    }

    let mut tags = raw.attributes;
    let warnings = take_warnings(&mut tags);
    let kind = kind_name(raw.kind);
    tags.reserve_exact(extra);
    if let Some(kind) = kind {
        tags.push(tag(mkeys::SPAN_KIND, Value::Str(Str::from_static(kind))));
    }
    match raw.status_code {
        1 => tags.push(tag(keys::STATUS_CODE, Value::Str(Str::from_static("OK")))),
        2 => tags.push(tag(
            keys::STATUS_CODE,
            Value::Str(Str::from_static("ERROR")),
        )),
        _ => {}
    }
    if !raw.status_message.is_empty() {
        tags.push(tag(
            keys::STATUS_DESCRIPTION,
            Value::Str(raw.status_message),
        ));
    }
    if raw.status_code == 2 {
        tags.push(tag(mkeys::ERROR, Value::Bool(true)));
    }
    tags.extend_from_slice(&scope_tags.tags);
    if !raw.trace_state.is_empty() {
        tags.push(tag(keys::TRACE_STATE, Value::Str(raw.trace_state)));
    }
    for (key, n) in [
        (keys::DROPPED_ATTRIBUTES, raw.dropped_attributes),
        (keys::DROPPED_EVENTS, raw.dropped_events),
        (keys::DROPPED_LINKS, raw.dropped_links),
    ] {
        if n != 0 {
            tags.push(tag(key, Value::I64(n.into())));
        }
    }

    Ok(Span {
        trace_id,
        span_id,
        operation_name: raw.name,
        references,
        flags: raw.flags,
        start_time: raw.start,
        duration: raw.end.saturating_sub(raw.start),
        tags,
        logs: raw.logs,
        process: process.clone(),
        scope: scope_tags.scope.clone(),
        warnings,
    })
}

/// The `span.kind` tag value of an OTLP kind; unspecified and unknown kinds have none.
pub(crate) fn kind_name(kind: i32) -> Option<&'static str> {
    Some(match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => return None,
    })
}

/// Jaeger's warnings attribute (a string array) becomes the span's warnings.
fn take_warnings(tags: &mut Vec<KeyValue>) -> Vec<String> {
    let Some(i) = tags.iter().rposition(|kv| &*kv.key == keys::WARNINGS) else {
        return Vec::new();
    };
    let Value::Array(items) = &tags[i].value else {
        return Vec::new();
    };
    if !items.iter().all(|v| matches!(v, Value::Str(_))) {
        return Vec::new();
    }
    let items: Vec<String> = items
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    tags.remove(i);
    items
}

/// A link becomes a reference. Its type comes from the `opentracing.ref_type`
/// attribute (FOLLOWS_FROM without it). A `child_of` attribute is dropped,
/// since the reference type now says it, except when the result would look
/// like the span's parent (same trace, no tags) in a span without
/// `parent_span_id`: the encoder would otherwise turn it into the parent.
fn link_to_reference(
    l: RawLink<'_>,
    trace_id: TraceId,
    span_id: SpanId,
    span_trace: TraceId,
    has_parent: bool,
) -> Reference {
    let mut tags = l.attributes;
    let ref_at = tags.iter().rposition(|kv| &*kv.key == keys::REF_TYPE);
    let child_of = ref_at.is_some_and(|i| tags[i].value.as_str() == Some(keys::REF_CHILD_OF));
    let mut extra = Vec::new();
    if !l.trace_state.is_empty() {
        extra.push(tag(keys::TRACE_STATE, Value::Str(l.trace_state)));
    }
    if l.dropped_attributes != 0 {
        extra.push(tag(
            keys::DROPPED_ATTRIBUTES,
            Value::I64(l.dropped_attributes.into()),
        ));
    }
    if l.flags != 0 {
        extra.push(tag(keys::LINK_FLAGS, Value::I64(l.flags.into())));
    }
    if let (true, Some(i)) = (child_of, ref_at) {
        let looks_like_parent =
            !has_parent && trace_id == span_trace && tags.len() == 1 && extra.is_empty();
        if !looks_like_parent {
            tags.remove(i);
        }
    }
    tags.extend(extra);
    Reference {
        ref_type: if child_of {
            RefType::ChildOf
        } else {
            RefType::FollowsFrom
        },
        trace_id,
        span_id,
        tags,
    }
}
