//! Request-body guards applied before a router sees the request: an
//! absurd `Content-Length` is refused up front, and a body must arrive in
//! full within the request-body timeout (a byte every few seconds keeps
//! the idle timer happy, not this one).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

use super::gate::ConnectionMetrics;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The declared body length, when the request declares one.
pub fn declared_length<B>(req: &Request<B>) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// 413 with the ingest APIs' JSON error body, for a `Content-Length` over
/// the body limit; sent without reading a byte of the body.
pub fn too_large(declared: u64, max: usize) -> Response<axum::body::Body> {
    let body = serde_json::json!({
        "error": format!(
            "request body of {declared} bytes (Content-Length) is larger than the limit of \
             {max} bytes (ingest.http_max_body_bytes)"
        )
    })
    .to_string();
    let mut resp = Response::new(axum::body::Body::from(body));
    *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // The unread body makes the connection unusable for another request.
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// A request body that fails once `limit` has passed since the headers.
pub struct DeadlineBody<B> {
    inner: B,
    limit: Duration,
    timer: Pin<Box<Sleep>>,
    expired: bool,
    metrics: Arc<ConnectionMetrics>,
    listener: &'static str,
}

impl<B> DeadlineBody<B> {
    /// Wraps `inner`; the clock starts now (the timer is only registered
    /// when the body is first polled, so bodiless GETs cost nothing).
    pub fn new(
        inner: B,
        limit: Duration,
        metrics: Arc<ConnectionMetrics>,
        listener: &'static str,
    ) -> Self {
        DeadlineBody {
            inner,
            limit,
            timer: Box::pin(tokio::time::sleep(limit)),
            expired: false,
            metrics,
            listener,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if self.timer.as_mut().poll(cx).is_ready() {
            self.expired = true;
            self.metrics.timed_out(self.listener, "request_body");
            let msg = format!(
                "request body not received in full within {} s \
                 (connections.request_body_timeout_secs)",
                self.limit.as_secs()
            );
            return Poll::Ready(Some(Err(msg.into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.expired || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
