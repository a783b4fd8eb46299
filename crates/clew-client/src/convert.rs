//! Finished spans → model spans, on the reporter's background thread.

use std::sync::Arc;

use clew_model::{Log, Process, Reference, SpanId};

use crate::span::FinishedSpan;
use crate::tag::cow_into_str;

/// Converts a finished span into the shared model, attaching `process`.
/// The parent becomes the first reference; sampler tags come first among
/// the tags, as Jaeger clients order them.
pub fn to_model(mut span: FinishedSpan, process: &Arc<Process>) -> clew_model::Span {
    take_model(&mut span, process)
}

/// Like [`to_model`], but moves the contents out of `span` and leaves its
/// allocations (tag and log vectors) behind for reuse.
pub(crate) fn take_model(span: &mut FinishedSpan, process: &Arc<Process>) -> clew_model::Span {
    let ctx = &span.context;
    let has_parent = ctx.parent_id() != SpanId(0);
    let mut references = Vec::with_capacity(span.references.len() + usize::from(has_parent));
    if has_parent {
        references.push(Reference {
            ref_type: span.parent_ref_type,
            trace_id: ctx.trace_id(),
            span_id: ctx.parent_id(),
            tags: Vec::new(),
        });
    }
    references.extend(span.references.iter().map(|r| Reference {
        ref_type: r.ref_type,
        trace_id: r.trace_id,
        span_id: r.span_id,
        tags: Vec::new(),
    }));
    let mut tags = Vec::with_capacity(span.tags.len() + 2);
    if let Some(s) = span.sampler {
        tags.extend(s.model_tags());
    }
    tags.extend(span.tags.drain(..).map(|t| t.into_model()));
    let logs = span
        .logs
        .drain(..)
        .map(|l| Log {
            timestamp: l.timestamp,
            fields: l.fields.into_iter().map(|t| t.into_model()).collect(),
        })
        .collect();
    clew_model::Span {
        trace_id: ctx.trace_id(),
        span_id: ctx.span_id(),
        operation_name: cow_into_str(std::mem::take(&mut span.operation_name)),
        references,
        flags: u32::from(ctx.flags()),
        start_time: span.start_time,
        duration: span.duration,
        tags,
        logs,
        process: process.clone(),
        scope: None,
        warnings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tracer;
    use crate::reporter::InMemoryReporter;
    use crate::sampler::ConstSampler;
    use clew_model::{RefType, Value};

    #[test]
    fn model_span_has_parent_reference_and_sampler_tags_first() {
        let rep = InMemoryReporter::new();
        let t = Tracer::builder("svc")
            .sampler(ConstSampler(true))
            .reporter(rep.clone())
            .build();
        let root = t.span("root").with_tag("a", 1).start();
        let other = t.span("other").start();
        let mut child = t.span("child").child_of(&root).follows_from(&other).start();
        child.log_event("ev");
        child.finish();
        let root_ctx = root.context().clone();
        root.finish();
        other.finish();
        let spans = rep.take();
        let p = Arc::new(Process::new("svc"));
        let child = to_model(spans[0].clone(), &p);
        assert_eq!(child.parent_span_id(), Some(root_ctx.span_id()));
        assert_eq!(child.references.len(), 2);
        assert_eq!(child.references[1].ref_type, RefType::FollowsFrom);
        assert!(
            child.tag("sampler.type").is_none(),
            "only roots carry sampler tags"
        );
        assert_eq!(child.logs[0].fields[0].value, Value::Str("ev".into()));
        let root = to_model(spans[1].clone(), &p);
        assert_eq!(&*root.tags[0].key, "sampler.type");
        assert_eq!(root.tags[1].value, Value::Bool(true));
        assert_eq!(root.tag("a"), Some(&Value::I64(1)));
        assert_eq!(root.flags, 1);
        assert!(root.references.is_empty());
    }
}
