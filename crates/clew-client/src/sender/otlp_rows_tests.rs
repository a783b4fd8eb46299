//! The row encoder against the codec: same spans, same bytes.

use std::sync::Arc;

use clew_model::{KeyValue, Process, RefType};

use super::{OtlpRequest, model_request_bytes};
use crate::Tracer;
use crate::reporter::{InMemoryReporter, SpanBatch};
use crate::sampler::{ConstSampler, ProbabilisticSampler};
use crate::tag::TagValue;

/// The spans `make` finishes, as one batch.
fn batch_of(sampler_const: bool, make: impl FnOnce(&Tracer)) -> SpanBatch {
    let rep = InMemoryReporter::new();
    let b = Tracer::builder("svc").reporter(rep.clone());
    let t = if sampler_const {
        b.sampler(ConstSampler(true)).build()
    } else {
        b.sampler(ProbabilisticSampler::new(1.0)).build()
    };
    make(&t);
    let mut batch = SpanBatch::new();
    for mut r in rep.take() {
        batch.push_finished(&mut r);
    }
    batch
}

fn process() -> Arc<Process> {
    let mut p = Process::new("svc");
    p.tags.push(KeyValue::string("host.name", "h1"));
    p.tags
        .push(KeyValue::new("pid", clew_model::Value::I64(42)));
    Arc::new(p)
}

/// Encodes every row of `batch` and returns the request's bytes.
fn encode_rows(req: &mut OtlpRequest, batch: &SpanBatch, p: &Arc<Process>) -> Vec<u8> {
    for row in &batch.rows {
        req.push_row(batch, row, p);
    }
    assert_eq!(req.len(), batch.len());
    let mut out = Vec::new();
    req.take_into(&mut out);
    assert_eq!(req.len(), 0);
    out
}

fn expected(batch: &SpanBatch, p: &Arc<Process>) -> Vec<u8> {
    model_request_bytes(&batch.to_model(p).collect::<Vec<_>>())
}

/// Tags of every type, sampler tags of both shapes, owned and static
/// strings, an `error` tag that is false (an attribute, not a status).
fn plain_tree(t: &Tracer) {
    let root = t.span("root").with_tag("k", 1).start();
    for i in 0..3 {
        let mut c = t.span("child").child_of(&root).start();
        c.set_tag("http.method", "GET")
            .set_tag("http.status_code", 200 + i)
            .set_tag("error", false)
            .set_tag("ratio", 0.25)
            .set_tag("neg", -5)
            .set_tag("owned", format!("v{i}"))
            .set_tag("", "empty key")
            .set_tag("blob", TagValue::Binary(vec![0, 1, 2]))
            .set_tag("long", "x".repeat(300));
        c.finish();
    }
    t.span("").child_of(&root).start().finish();
    root.finish();
}

#[test]
fn plain_rows_encode_as_the_codec_does() {
    let p = process();
    for sampler_const in [true, false] {
        let batch = batch_of(sampler_const, plain_tree);
        assert!(
            batch
                .rows
                .iter()
                .all(|r| super::is_plain(r, batch.row_tags(r)))
        );
        let mut req = OtlpRequest::default();
        assert_eq!(encode_rows(&mut req, &batch, &p), expected(&batch, &p));
        // A second request from the same encoder: nothing carried over.
        assert_eq!(encode_rows(&mut req, &batch, &p), expected(&batch, &p));
    }
}

/// Rows the codec maps (kind, status, scope, logs, links) interleaved with
/// plain ones: scope groups and their order match too.
#[test]
fn mapped_rows_encode_as_the_codec_does() {
    let batch = batch_of(true, |t| {
        let root = t.span("root").start();
        let other = t.span("other").start();
        t.span("plain").child_of(&root).start().finish();
        t.span("kind")
            .child_of(&root)
            .with_tag("span.kind", "server")
            .start()
            .finish();
        t.span("failed")
            .child_of(&root)
            .with_tag("error", true)
            .start()
            .finish();
        t.span("scoped")
            .child_of(&root)
            .with_tag("otel.scope.name", "lib")
            .with_tag("otel.scope.version", "1.0")
            .start()
            .finish();
        let mut logged = t.span("logged").child_of(&root).start();
        logged.log_event("ev");
        logged.finish();
        t.span("follows").follows_from(&other).start().finish();
        t.span("linked")
            .child_of(&root)
            .follows_from(&other)
            .start()
            .finish();
        t.span("plain again").child_of(&root).start().finish();
        other.finish();
        root.finish();
    });
    let plain = batch
        .rows
        .iter()
        .filter(|r| super::is_plain(r, batch.row_tags(r)))
        .count();
    assert_eq!(plain, 4, "root, other, plain, plain again");
    let p = process();
    let mut req = OtlpRequest::default();
    assert_eq!(encode_rows(&mut req, &batch, &p), expected(&batch, &p));
    assert_eq!(encode_rows(&mut req, &batch, &p), expected(&batch, &p));
}

/// Spans of two processes in one request: one `ResourceSpans` each, in
/// the order first seen.
#[test]
fn processes_group_as_the_codec_groups_them() {
    let batch = batch_of(true, plain_tree);
    let p1 = process();
    let p2 = Arc::new(Process::new("other"));
    let mut req = OtlpRequest::default();
    let mut model = Vec::new();
    for (i, row) in batch.rows.iter().enumerate() {
        let p = if i % 2 == 0 { &p2 } else { &p1 };
        req.push_row(&batch, row, p);
        model.push(crate::reporter::row_to_model(row, batch.row_tags(row), p));
    }
    let mut out = Vec::new();
    req.take_into(&mut out);
    assert_eq!(out, model_request_bytes(&model));
}

/// Model spans appended one by one (the `Sender::append` path) and rows
/// in the same request.
#[test]
fn model_spans_and_rows_share_a_request() {
    let batch = batch_of(true, plain_tree);
    let p = process();
    let model: Vec<_> = batch.to_model(&p).collect();
    let mut req = OtlpRequest::default();
    for (row, span) in batch.rows.iter().zip(&model) {
        if span.references.is_empty() {
            req.push_span(span);
        } else {
            req.push_row(&batch, row, &p);
        }
    }
    let mut out = Vec::new();
    req.take_into(&mut out);
    assert_eq!(out, model_request_bytes(&model));
    // The plain row's parent reference is a CHILD_OF of the same trace.
    assert!(
        model
            .iter()
            .flat_map(|s| &s.references)
            .all(|r| r.ref_type == RefType::ChildOf)
    );
}
