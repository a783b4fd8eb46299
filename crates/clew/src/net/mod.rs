//! Serving TCP listeners with bounds: every HTTP and gRPC listener runs
//! its own accept loop, so that each connection is admitted against the
//! caps of [`gate`] before a byte is read, and carries its timeouts.
//!
//! | bound | HTTP/1 (axum routers) | gRPC (tonic) |
//! |---|---|---|
//! | connections per listener / in total | [`gate`] | [`gate`] |
//! | header read (slowloris) | hyper's `header_read_timeout` | HTTP/2 header list size |
//! | idle | [`stream::GuardedStream`] | [`stream::GuardedStream`] |
//! | request body | [`body::DeadlineBody`] | tonic's call timeout |
//! | absurd `Content-Length` | 413 before reading ([`body::too_large`]) | message size limits (ingest) |
//! | concurrency on one connection | one request at a time | `max_concurrent_streams` |
//!
//! Shutdown: the accept loops stop on the token, in-flight requests finish
//! (HTTP/1 keep-alive connections close after their current response,
//! gRPC sends GOAWAY), then the tasks end.

pub mod body;
pub mod fd;
pub mod gate;
mod limits;
pub mod stream;

use std::convert::Infallible;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

pub use limits::ConnectionLimits;

use body::{DeadlineBody, declared_length, too_large};
use gate::{ConnectionBudget, ListenerGate};
use stream::GuardedStream;

/// Pause after a failed `accept` (typically EMFILE), so a full descriptor
/// table does not turn the accept loop into a busy loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Longest wait for in-flight HTTP requests at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

/// Whether a listener may use the reserved room beyond `max_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Room {
    /// Shares `connections.max_total` only (ingest, sampling).
    Shared,
    /// Also has `connections.reserved` of its own (admin, query).
    Reserved,
}

/// The running servers of one process and what they share.
pub struct Servers {
    budget: Arc<ConnectionBudget>,
    http_max_body_bytes: usize,
    shutdown: CancellationToken,
    tasks: JoinSet<io::Result<()>>,
}

impl Servers {
    /// Servers admitting connections against `budget`; HTTP bodies
    /// declared larger than `http_max_body_bytes` are refused up front.
    pub fn new(
        budget: Arc<ConnectionBudget>,
        http_max_body_bytes: usize,
        shutdown: CancellationToken,
    ) -> Self {
        Servers {
            budget,
            http_max_body_bytes,
            shutdown,
            tasks: JoinSet::new(),
        }
    }

    /// Serves `router` over HTTP/1.1 on an already-bound listener, with
    /// its accept loop and connections on `runtime`.
    pub fn http(
        &mut self,
        name: &'static str,
        listener: std::net::TcpListener,
        router: Router,
        room: Room,
        runtime: &Handle,
    ) -> Result<()> {
        let listener = listener_on(listener, runtime)?;
        let gate = self.budget.gate(name, room == Room::Reserved);
        let http = HttpSettings {
            limits: self.budget.limits().clone(),
            max_body: self.http_max_body_bytes,
        };
        let token = self.shutdown.clone();
        self.tasks
            .spawn_on(accept_http(listener, gate, router, http, token), runtime);
        Ok(())
    }

    /// Serves gRPC `routes` over HTTP/2 on an already-bound listener, with
    /// the ingest-tuned windows and the HTTP/2 limits of the config, with
    /// its connections on `runtime`.
    pub fn grpc(
        &mut self,
        name: &'static str,
        listener: std::net::TcpListener,
        routes: tonic::service::Routes,
        room: Room,
        runtime: &Handle,
    ) -> Result<()> {
        let listener = listener_on(listener, runtime)?;
        let gate = self.budget.gate(name, room == Room::Reserved);
        let limits = self.budget.limits();
        // No server-initiated keep-alive pings: the idle timeout closes
        // silent connections and dead peers alike, and pings would keep
        // idle connections open forever.
        let mut server = clew_ingest::grpc_server_builder()
            .max_concurrent_streams(limits.grpc_max_concurrent_streams)
            .http2_max_header_list_size(limits.grpc_max_header_list_bytes)
            .http2_keepalive_interval(None)
            .timeout(limits.request_body_timeout());
        let incoming = guarded_incoming(listener, gate, limits.idle_timeout());
        let token = self.shutdown.clone();
        self.tasks.spawn_on(
            async move {
                server
                    .add_routes(routes)
                    .serve_with_incoming_shutdown(incoming, token.cancelled_owned())
                    .await
                    .map_err(io::Error::other)
            },
            runtime,
        );
        Ok(())
    }

    /// Waits until every server has stopped (after the shutdown token).
    pub async fn join(mut self) {
        while let Some(res) = self.tasks.join_next().await {
            match res {
                Ok(Err(e)) => tracing::warn!("server ended with error: {e}"),
                Err(e) => tracing::warn!("server task failed: {e}"),
                Ok(Ok(())) => {}
            }
        }
    }
}

#[derive(Clone)]
struct HttpSettings {
    limits: ConnectionLimits,
    max_body: usize,
}

/// Logs a failed accept (at most once per backoff, since we sleep after it).
fn accept_failed(gate: &ListenerGate, e: &io::Error) {
    tracing::warn!(
        listener = gate.listener(),
        "accept failed: {e} (out of file descriptors? see connections.max_total)"
    );
}

/// `listener` registered with `runtime`'s reactor, so the connections it
/// accepts are driven by that runtime's threads.
fn listener_on(listener: std::net::TcpListener, runtime: &Handle) -> io::Result<TcpListener> {
    let _in = runtime.enter();
    TcpListener::from_std(listener)
}

async fn accept_http(
    listener: TcpListener,
    gate: Arc<ListenerGate>,
    router: Router,
    http: HttpSettings,
    token: CancellationToken,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(http.limits.header_read_timeout())
        .keep_alive(true);
    loop {
        let stream = tokio::select! {
            biased;
            () = token.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    accept_failed(&gate, &e);
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        // Refused: dropped here, closed before a byte is read.
        let Some(permit) = gate.admit() else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(GuardedStream::new(
            stream,
            http.limits.idle_timeout(),
            permit,
        ));
        let service = request_service(router.clone(), gate.clone(), http.clone());
        let conn = graceful.watch(builder.serve_connection(io, service));
        let gate = gate.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                if e.is_timeout() {
                    gate.metrics().timed_out(gate.listener(), "header_read");
                }
                tracing::debug!(listener = gate.listener(), "connection ended: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            listener = gate.listener(),
            "requests still running {} s after shutdown began; closing them",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    Ok(())
}

/// The per-request checks in front of the router: an absurd
/// `Content-Length` gets 413 at once, any other body gets the body timeout.
fn request_service(
    router: Router,
    gate: Arc<ListenerGate>,
    http: HttpSettings,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
> + Clone {
    service_fn(move |req: hyper::Request<Incoming>| {
        let router = router.clone();
        let gate = gate.clone();
        let max_body = http.max_body;
        let body_timeout = http.limits.request_body_timeout();
        async move {
            if let Some(declared) = declared_length(&req).filter(|d| *d > max_body as u64) {
                gate.metrics()
                    .request_refused(gate.listener(), "content_length");
                return Ok(too_large(declared, max_body));
            }
            let metrics = gate.metrics().clone();
            let listener = gate.listener();
            let req = req.map(|b| {
                axum::body::Body::new(DeadlineBody::new(b, body_timeout, metrics, listener))
            });
            router.oneshot(req).await
        }
    })
}

/// Accepted connections that passed the gate, with their idle timeout, as
/// the stream tonic's `serve_with_incoming_shutdown` takes.
fn guarded_incoming(
    listener: TcpListener,
    gate: Arc<ListenerGate>,
    idle: Duration,
) -> impl futures::Stream<Item = io::Result<GuardedStream>> + Send + 'static {
    futures::stream::unfold((listener, gate), move |(listener, gate)| async move {
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    let Some(permit) = gate.admit() else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let conn = GuardedStream::new(stream, idle, permit);
                    return Some((Ok(conn), (listener, gate)));
                }
                Err(e) => {
                    accept_failed(&gate, &e);
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    })
}
