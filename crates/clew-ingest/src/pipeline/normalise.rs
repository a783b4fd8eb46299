//! Checks and fix-ups applied to every span before it is queued, whatever
//! protocol it came in by.

use std::sync::Arc;

use clew_model::{KeyValue, Process, Span, Str, Value, validate_span};

use crate::config::FieldLimits;
use crate::metrics::IngestMetrics;
use crate::source::Source;

/// Service name given to spans whose process has none, as OTel SDKs name it.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// Warning attached to spans whose service name was replaced.
pub const EMPTY_SERVICE_WARNING: &str = "service name was empty; replaced with unknown_service";

/// Drops spans that fail [`validate_span`] (counting each by reason),
/// gives spans without a service name [`UNKNOWN_SERVICE`], and cuts every
/// name, key, value and list down to `limits` (see [`enforce_limits`]).
/// Returns how many spans were rejected.
pub(crate) fn validate_and_normalise(
    spans: &mut Vec<Span>,
    source: Source,
    metrics: &IngestMetrics,
    limits: &FieldLimits,
) -> usize {
    let before = spans.len();
    spans.retain(|span| match validate_span(span) {
        Ok(()) => true,
        Err(e) => {
            metrics.record_rejected(source, e.reason());
            false
        }
    });
    // Spans of one batch share one process, so remember the last replacement
    // instead of allocating a new process per span.
    let mut last: Option<(Arc<Process>, Arc<Process>)> = None;
    for span in spans.iter_mut() {
        if !span.process.service_name.is_empty() {
            continue;
        }
        let fixed = match &last {
            Some((orig, fixed)) if Arc::ptr_eq(orig, &span.process) => fixed.clone(),
            _ => {
                let mut p = (*span.process).clone();
                p.service_name = UNKNOWN_SERVICE.into();
                let fixed = Arc::new(p);
                last = Some((span.process.clone(), fixed.clone()));
                fixed
            }
        };
        span.process = fixed;
        span.warnings.push(EMPTY_SERVICE_WARNING.to_string());
    }
    let mut last_process: Option<(Arc<Process>, Arc<Process>)> = None;
    for span in spans.iter_mut() {
        enforce_limits(span, limits, metrics, &mut last_process);
    }
    before - spans.len()
}

/// Warning prefix on a span whose fields were cut to the configured limits.
pub const TRUNCATED_WARNING: &str = "truncated to the server's limits:";

/// Cuts an over-long name, key or value (at a character boundary) and
/// over-long lists (tags, logs, array elements) to `limits`, as
/// OpenTelemetry SDKs' attribute limits do. What was cut is counted in
/// `clew_span_fields_truncated_total{field}` and said in one span warning,
/// so a reader of the trace knows it is not what the client sent. Strings
/// are slices, so cutting copies nothing. A process shared by the batch is
/// fixed once (`last` remembers the last one seen).
fn enforce_limits(
    span: &mut Span,
    limits: &FieldLimits,
    metrics: &IngestMetrics,
    last: &mut Option<(Arc<Process>, Arc<Process>)>,
) {
    let mut cut: Vec<&'static str> = Vec::new();
    if cut_str(&mut span.operation_name, limits.operation_name_bytes) {
        cut.push("operation_name");
    }
    cut_tags(&mut span.tags, limits, &mut cut);
    if span.logs.len() > limits.logs {
        span.logs.truncate(limits.logs);
        cut.push("logs");
    }
    for log in &mut span.logs {
        cut_tags(&mut log.fields, limits, &mut cut);
    }
    for r in &mut span.references {
        cut_tags(&mut r.tags, limits, &mut cut);
    }
    let process_needs_cut = span.process.service_name.len() > limits.service_name_bytes
        || tags_need_cut(&span.process.tags, limits);
    if process_needs_cut {
        let fixed = match last {
            Some((orig, fixed)) if Arc::ptr_eq(orig, &span.process) => fixed.clone(),
            _ => {
                let mut p = (*span.process).clone();
                let mut process_cut = Vec::new();
                if cut_str(&mut p.service_name, limits.service_name_bytes) {
                    process_cut.push("service_name");
                }
                cut_tags(&mut p.tags, limits, &mut process_cut);
                for field in &process_cut {
                    metrics.record_truncated(field);
                }
                let fixed = Arc::new(p);
                *last = Some((span.process.clone(), fixed.clone()));
                fixed
            }
        };
        span.process = fixed;
        cut.push("process");
    }
    if cut.is_empty() {
        return;
    }
    for field in &cut {
        if *field != "process" {
            metrics.record_truncated(field);
        }
    }
    // Name each field once, however many times it was cut.
    cut.sort_unstable();
    cut.dedup();
    span.warnings
        .push(format!("{TRUNCATED_WARNING} {}", cut.join(", ")));
}

fn tags_need_cut(tags: &[KeyValue], limits: &FieldLimits) -> bool {
    tags.len() > limits.tags
        || tags
            .iter()
            .any(|kv| kv.key.len() > limits.tag_key_bytes || value_needs_cut(&kv.value, limits))
}

fn value_needs_cut(v: &Value, limits: &FieldLimits) -> bool {
    match v {
        Value::Str(s) => s.len() > limits.tag_value_bytes,
        Value::Binary(b) => b.len() > limits.tag_value_bytes,
        Value::Array(a) => {
            a.len() > limits.array_elements || a.iter().any(|x| value_needs_cut(x, limits))
        }
        Value::Map(m) => tags_need_cut(m, limits),
        _ => false,
    }
}

fn cut_tags(tags: &mut Vec<KeyValue>, limits: &FieldLimits, cut: &mut Vec<&'static str>) {
    if !tags_need_cut(tags, limits) {
        return;
    }
    if tags.len() > limits.tags {
        tags.truncate(limits.tags);
        cut.push("tags");
    }
    for kv in tags.iter_mut() {
        if cut_str(&mut kv.key, limits.tag_key_bytes) {
            cut.push("tag_key");
        }
        cut_value(&mut kv.value, limits, cut);
    }
}

fn cut_value(v: &mut Value, limits: &FieldLimits, cut: &mut Vec<&'static str>) {
    match v {
        Value::Str(s) if s.len() > limits.tag_value_bytes => {
            cut_str(s, limits.tag_value_bytes);
            cut.push("tag_value");
        }
        Value::Binary(b) if b.len() > limits.tag_value_bytes => {
            b.truncate(limits.tag_value_bytes);
            cut.push("tag_value");
        }
        Value::Array(a) => {
            if a.len() > limits.array_elements {
                a.truncate(limits.array_elements);
                cut.push("array_elements");
            }
            for x in a.iter_mut() {
                cut_value(x, limits, cut);
            }
        }
        Value::Map(m) => {
            if m.len() > limits.array_elements {
                m.truncate(limits.array_elements);
                cut.push("array_elements");
            }
            cut_tags(m, limits, cut);
        }
        _ => {}
    }
}

/// Cuts `s` to at most `max` bytes at a character boundary; true if it did.
fn cut_str(s: &mut Str, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    *s = s.slice_ref(&s[..end]);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FieldLimits;
    use crate::source::{Format, Transport};
    use clew_model::{Log, SpanId, TraceId};

    const SRC: Source = Source::new(Transport::Http, Format::JaegerThriftBinary);

    #[test]
    fn rejects_invalid_and_renames_empty_service() {
        let metrics = IngestMetrics::unregistered();
        let empty = Arc::new(Process::new(""));
        let named = Arc::new(Process::new("svc"));
        let mut spans = vec![
            Span::new(TraceId::new(0, 1), SpanId(1), "a", empty.clone()),
            Span::new(TraceId::new(0, 0), SpanId(2), "zero trace", named.clone()),
            Span::new(TraceId::new(0, 1), SpanId(0), "zero span", named.clone()),
            Span::new(TraceId::new(0, 1), SpanId(3), "b", empty),
            Span::new(TraceId::new(0, 1), SpanId(4), "c", named),
        ];
        let limits = crate::IngestConfig::default().field_limits();
        assert_eq!(
            validate_and_normalise(&mut spans, SRC, &metrics, &limits),
            2
        );
        let ops: Vec<&str> = spans.iter().map(|s| &*s.operation_name).collect();
        assert_eq!(ops, ["a", "b", "c"]);
        assert_eq!(&*spans[0].process.service_name, UNKNOWN_SERVICE);
        assert!(Arc::ptr_eq(&spans[0].process, &spans[1].process));
        assert_eq!(spans[0].warnings, [EMPTY_SERVICE_WARNING]);
        assert_eq!(&*spans[2].process.service_name, "svc");
        assert!(spans[2].warnings.is_empty());
        assert_eq!(metrics.spans_rejected(SRC, "zero_trace_id"), 1);
        assert_eq!(metrics.spans_rejected(SRC, "zero_span_id"), 1);
    }

    #[test]
    fn over_long_fields_are_cut_counted_and_said() {
        let metrics = IngestMetrics::unregistered();
        let limits = FieldLimits {
            service_name_bytes: 4,
            operation_name_bytes: 2,
            tag_key_bytes: 3,
            tag_value_bytes: 4,
            tags: 2,
            logs: 1,
            array_elements: 2,
        };
        let process = Arc::new(Process::new("a-long-service"));
        let mut span = Span::new(TraceId::new(0, 1), SpanId(1), "héllo world", process);
        span.tags = vec![
            KeyValue::string("key-too-long", "value-too-long"),
            KeyValue {
                key: "arr".into(),
                value: Value::Array(vec![Value::I64(1), Value::I64(2), Value::I64(3)]),
            },
            KeyValue::bool("dropped", true),
        ];
        span.logs = vec![
            Log {
                timestamp: 0,
                fields: vec![]
            };
            2
        ];
        let mut spans = vec![span.clone(), span];
        validate_and_normalise(&mut spans, SRC, &metrics, &limits);
        let s = &spans[0];
        assert_eq!(&*s.operation_name, "h", "cut at a character boundary");
        assert_eq!(&*s.process.service_name, "a-lo");
        assert!(Arc::ptr_eq(&spans[0].process, &spans[1].process));
        assert_eq!(s.tags.len(), 2);
        assert_eq!(
            (&*s.tags[0].key, s.tags[0].value.to_text()),
            ("key", "valu".into())
        );
        assert_eq!(
            s.tags[1].value,
            Value::Array(vec![Value::I64(1), Value::I64(2)])
        );
        assert_eq!(s.logs.len(), 1);
        assert!(
            s.warnings[0].starts_with(TRUNCATED_WARNING),
            "{:?}",
            s.warnings
        );
        assert_eq!(metrics.fields_truncated("operation_name"), 2);
        assert_eq!(metrics.fields_truncated("service_name"), 1);
        assert_eq!(metrics.fields_truncated("tags"), 2);
    }
}
