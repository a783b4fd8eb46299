//! `tower` middleware: server spans from incoming headers, client spans
//! injected into outgoing headers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use clew_client::{Span, SpanContext, Tracer};
use http::{Request, Response};
use tower::{Layer, Service};

/// Names a request's span from its method, URI and extensions.
pub type OperationNamer =
    Arc<dyn Fn(&http::Method, &http::Uri, &http::Extensions) -> String + Send + Sync>;

/// The default span name: `METHOD /path`. Paths with IDs in them make many
/// operation names; give the layers a namer that uses the route template
/// (e.g. axum's `MatchedPath` from the extensions) instead.
fn default_namer() -> OperationNamer {
    Arc::new(|method, uri, _| format!("{method} {}", uri.path()))
}

fn operation<B>(namer: &OperationNamer, req: &Request<B>) -> String {
    namer(req.method(), req.uri(), req.extensions())
}

/// Wraps an HTTP service so each request runs in a `server` span that
/// continues the caller's trace (from whatever headers the tracer's
/// propagator reads). The span's context is put in the request extensions
/// as a [`SpanContext`], for handlers that start children or call out.
#[derive(Clone)]
pub struct ServerLayer {
    tracer: Tracer,
    namer: OperationNamer,
}

impl std::fmt::Debug for ServerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerLayer")
            .field("tracer", &self.tracer)
            .finish_non_exhaustive()
    }
}

impl ServerLayer {
    /// A layer starting spans with `tracer`.
    pub fn new(tracer: Tracer) -> Self {
        ServerLayer {
            tracer,
            namer: default_namer(),
        }
    }

    /// Names spans with `namer` instead of `METHOD /path`.
    pub fn operation_name(
        mut self,
        namer: impl Fn(&http::Method, &http::Uri, &http::Extensions) -> String + Send + Sync + 'static,
    ) -> Self {
        self.namer = Arc::new(namer);
        self
    }
}

impl<S> Layer<S> for ServerLayer {
    type Service = ServerService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ServerService {
            inner,
            tracer: self.tracer.clone(),
            namer: self.namer.clone(),
        }
    }
}

/// The service [`ServerLayer`] produces.
#[derive(Clone)]
pub struct ServerService<S> {
    inner: S,
    tracer: Tracer,
    namer: OperationNamer,
}

impl<S: std::fmt::Debug> std::fmt::Debug for ServerService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, RB> Service<Request<B>> for ServerService<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let parent = self.tracer.extract(req.headers());
        let span = self
            .tracer
            .span(operation(&self.namer, &req))
            .child_of_opt(parent.as_ref())
            .with_tag(clew_model_keys::SPAN_KIND, "server")
            .with_tag("http.method", req.method().as_str().to_owned())
            .with_tag("http.url", req.uri().to_string())
            .start();
        req.extensions_mut().insert(span.context().clone());
        ResponseFuture {
            inner: self.inner.call(req),
            span: Some(span),
        }
    }
}

/// Wraps an HTTP client service so each request runs in a `client` span
/// whose context is injected into the request headers. The parent is the
/// [`SpanContext`] in the request extensions if there is one (e.g. copied
/// from the incoming request), else the thread's active context.
#[derive(Clone)]
pub struct ClientLayer {
    tracer: Tracer,
    namer: OperationNamer,
}

impl std::fmt::Debug for ClientLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientLayer")
            .field("tracer", &self.tracer)
            .finish_non_exhaustive()
    }
}

impl ClientLayer {
    /// A layer starting spans with `tracer`.
    pub fn new(tracer: Tracer) -> Self {
        ClientLayer {
            tracer,
            namer: default_namer(),
        }
    }

    /// Names spans with `namer` instead of `METHOD /path`.
    pub fn operation_name(
        mut self,
        namer: impl Fn(&http::Method, &http::Uri, &http::Extensions) -> String + Send + Sync + 'static,
    ) -> Self {
        self.namer = Arc::new(namer);
        self
    }
}

impl<S> Layer<S> for ClientLayer {
    type Service = ClientService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ClientService {
            inner,
            tracer: self.tracer.clone(),
            namer: self.namer.clone(),
        }
    }
}

/// The service [`ClientLayer`] produces.
#[derive(Clone)]
pub struct ClientService<S> {
    inner: S,
    tracer: Tracer,
    namer: OperationNamer,
}

impl<S: std::fmt::Debug> std::fmt::Debug for ClientService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, RB> Service<Request<B>> for ClientService<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let parent: Option<SpanContext> = req.extensions().get::<SpanContext>().cloned();
        let mut builder = self
            .tracer
            .span(operation(&self.namer, &req))
            .child_of_opt(parent.as_ref())
            .with_tag(clew_model_keys::SPAN_KIND, "client")
            .with_tag("http.method", req.method().as_str().to_owned())
            .with_tag("http.url", req.uri().to_string());
        if let Some(host) = req.uri().host() {
            builder = builder.with_tag("peer.hostname", host.to_owned());
        }
        let span = builder.start();
        self.tracer.inject(span.context(), req.headers_mut());
        req.extensions_mut().insert(span.context().clone());
        ResponseFuture {
            inner: self.inner.call(req),
            span: Some(span),
        }
    }
}

/// Tag keys shared with the model crate, repeated here so this crate only
/// depends on clew-client.
mod clew_model_keys {
    pub const SPAN_KIND: &str = "span.kind";
}

pin_project_lite::pin_project! {
    /// Finishes the request's span when the response (or error) arrives,
    /// tagging `http.status_code` and `error`.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: Option<Span>,
    }
}

impl<F, RB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = match this.inner.poll(cx) {
            Poll::Ready(out) => out,
            Poll::Pending => return Poll::Pending,
        };
        if let Some(mut span) = this.span.take() {
            match &out {
                Ok(resp) => {
                    span.set_tag("http.status_code", resp.status().as_u16());
                    if resp.status().is_server_error() {
                        span.set_error();
                    }
                }
                Err(_) => {
                    span.set_error();
                }
            }
            span.finish();
        }
        Poll::Ready(out)
    }
}
