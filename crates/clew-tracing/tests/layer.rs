//! The `tracing` layer and the tower middleware, through the in-memory reporter.

use std::convert::Infallible;

use clew_client::reporter::InMemoryReporter;
use clew_client::{SpanContext, TagValue, Tracer};
use clew_tracing::{ClewLayer, ClientLayer, ServerLayer};
use http::{Request, Response, StatusCode};
use tower::{Layer, Service, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

fn tracer(name: &str) -> (Tracer, InMemoryReporter) {
    let r = InMemoryReporter::new();
    (Tracer::builder(name).reporter(r.clone()).build(), r)
}

#[test]
fn tracing_spans_become_clew_spans_with_tags_and_logs() {
    let (t, r) = tracer("svc");
    let subscriber = tracing_subscriber::registry().with(ClewLayer::new(t));
    tracing::subscriber::with_default(subscriber, || {
        let outer = tracing::info_span!("outer", user = 7, pending = tracing::field::Empty);
        let _g = outer.enter();
        outer.record("pending", true);
        {
            let _inner = tracing::debug_span!("inner", path = "/x").entered();
            tracing::warn!(attempt = 2, "retrying");
            tracing::error!("gave up");
        }
    });
    let spans = r.take();
    assert_eq!(spans.len(), 2);
    let (inner, outer) = (&spans[0], &spans[1]);
    assert_eq!(inner.operation_name, "inner");
    assert_eq!(inner.context.parent_id(), outer.context.span_id());
    assert_eq!(inner.tag("path"), Some(&TagValue::from(String::from("/x"))));
    assert_eq!(inner.tag("level"), Some(&TagValue::from("DEBUG")));
    assert_eq!(inner.tag("error"), Some(&TagValue::Bool(true)));
    assert_eq!(inner.logs.len(), 2);
    let f = &inner.logs[0].fields;
    assert!(
        f.iter()
            .any(|t| t.key == "event" && t.value == TagValue::from(String::from("retrying")))
    );
    assert!(
        f.iter()
            .any(|t| t.key == "attempt" && t.value == TagValue::I64(2))
    );
    assert_eq!(outer.tag("user"), Some(&TagValue::I64(7)));
    assert_eq!(outer.tag("pending"), Some(&TagValue::Bool(true)));
}

#[test]
fn span_with_parent_continues_a_remote_trace() {
    let (t, r) = tracer("svc");
    let remote = SpanContext::new(
        clew_client::TraceId::new(0, 99),
        clew_client::SpanId(5),
        clew_client::SpanId(0),
        1,
    );
    let subscriber = tracing_subscriber::registry().with(ClewLayer::new(t));
    tracing::subscriber::with_default(subscriber, || {
        let span = ClewLayer::span_with_parent(&remote, || tracing::info_span!("handler"));
        let ctx = ClewLayer::context_of(&span).expect("clew context");
        assert_eq!(ctx.trace_id(), remote.trace_id());
        drop(span);
    });
    assert_eq!(r.spans()[0].context.parent_id(), clew_client::SpanId(5));
}

#[tokio::test]
async fn client_and_server_layers_share_one_trace_over_headers() {
    let (client_tracer, client_spans) = tracer("frontend");
    let (server_tracer, server_spans) = tracer("backend");
    // The "network": the client's outgoing request is handed to the server.
    let server =
        ServerLayer::new(server_tracer).layer(tower::service_fn(|req: Request<()>| async move {
            assert!(req.extensions().get::<SpanContext>().is_some());
            let status = if req.uri().path() == "/fail" {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            };
            Ok::<_, Infallible>(
                Response::builder()
                    .status(status)
                    .body(())
                    .expect("response"),
            )
        }));
    let mut client = ClientLayer::new(client_tracer)
        .operation_name(|m, _, _| format!("call backend ({m})"))
        .layer(server);
    let req = Request::get("http://backend.local/ok")
        .body(())
        .expect("request");
    let resp = client
        .ready()
        .await
        .expect("ready")
        .call(req)
        .await
        .expect("call");
    assert_eq!(resp.status(), StatusCode::OK);
    let req = Request::get("http://backend.local/fail")
        .body(())
        .expect("request");
    client
        .ready()
        .await
        .expect("ready")
        .call(req)
        .await
        .expect("call");

    let c = client_spans.take();
    let s = server_spans.take();
    assert_eq!((c.len(), s.len()), (2, 2));
    assert_eq!(s[0].context.trace_id(), c[0].context.trace_id());
    assert_eq!(s[0].context.parent_id(), c[0].context.span_id());
    assert_eq!(s[0].tag("span.kind"), Some(&TagValue::from("server")));
    assert_eq!(c[0].tag("span.kind"), Some(&TagValue::from("client")));
    assert_eq!(s[0].tag("http.status_code"), Some(&TagValue::I64(200)));
    assert_eq!(s[0].operation_name, "GET /ok");
    assert_eq!(c[0].operation_name, "call backend (GET)");
    assert_eq!(s[1].tag("error"), Some(&TagValue::Bool(true)));
    assert_eq!(c[1].tag("http.status_code"), Some(&TagValue::I64(500)));
}

#[test]
fn follows_from_becomes_a_follows_from_reference() {
    let (t, r) = tracer("svc");
    let subscriber = tracing_subscriber::registry().with(ClewLayer::new(t));
    tracing::subscriber::with_default(subscriber, || {
        let cause = tracing::info_span!("cause");
        let effect = tracing::info_span!("effect");
        effect.follows_from(&cause);
        // Following oneself or a span Clew does not know is ignored.
        effect.follows_from(&effect);
        effect.follows_from(tracing::Span::none());
        drop(effect);
        drop(cause);
    });
    let spans = r.take();
    assert_eq!(spans.len(), 2);
    let (effect, cause) = (&spans[0], &spans[1]);
    assert_eq!(effect.operation_name, "effect");
    assert_eq!(effect.references.len(), 1);
    assert_eq!(
        effect.references[0].ref_type,
        clew_client::RefType::FollowsFrom
    );
    assert_eq!(effect.references[0].span_id, cause.context.span_id());
    assert_eq!(effect.references[0].trace_id, cause.context.trace_id());
    // A FOLLOWS_FROM added later does not make it a child.
    assert_eq!(effect.context.parent_id().0, 0);
}

#[test]
fn events_outside_spans_are_dropped_unless_asked_for() {
    let (t, r) = tracer("svc");
    let subscriber = tracing_subscriber::registry().with(ClewLayer::new(t));
    tracing::subscriber::with_default(subscriber, || tracing::info!("alone"));
    assert!(r.take().is_empty());

    let (t, r) = tracer("svc");
    let layer = ClewLayer::new(t).with_orphan_events(true);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::error!(code = 7, "alone");
        let _inside = tracing::info_span!("inside").entered();
        tracing::info!("logged on the span, not a span of its own");
    });
    let spans = r.take();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let orphan = &spans[0];
    assert!(
        orphan.operation_name.starts_with("event "),
        "{}",
        orphan.operation_name
    );
    assert_eq!(orphan.duration, 0);
    assert_eq!(orphan.context.parent_id().0, 0);
    assert_eq!(orphan.tag("level"), Some(&TagValue::from("ERROR")));
    assert_eq!(orphan.tag("error"), Some(&TagValue::Bool(true)));
    assert_eq!(orphan.logs.len(), 1);
    assert!(
        orphan.logs[0]
            .fields
            .iter()
            .any(|f| f.key == "code" && f.value == TagValue::I64(7))
    );
    assert_eq!(spans[1].operation_name, "inside");
    assert_eq!(spans[1].logs.len(), 1);
}
