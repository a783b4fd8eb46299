//! Raw unary gRPC calls over HTTP/2 (h2): the message bytes, its 5-byte
//! length prefix and the compression flag are whatever the case wants, so a
//! prefix can lie and a gzip bomb can be sent as is.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use bytes::{BufMut, Bytes, BytesMut};

/// OTLP `TraceService/Export`.
pub const OTLP_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// Jaeger collector `CollectorService/PostSpans`.
pub const JAEGER_POST_SPANS: &str = "/jaeger.api_v2.CollectorService/PostSpans";

/// What came back.
#[derive(Debug, Clone)]
pub struct GrpcReply {
    /// HTTP/2 `:status`.
    pub http_status: u16,
    /// `grpc-status` (headers or trailers); `None` if the server sent none.
    pub grpc_status: Option<i32>,
    /// `grpc-message`.
    pub message: String,
    /// From connect to the end of the reply.
    pub elapsed: Duration,
}

impl GrpcReply {
    /// `grpc-status: 0`.
    pub fn ok(&self) -> bool {
        self.grpc_status == Some(0)
    }

    /// Short text for the table.
    pub fn describe(&self) -> String {
        match self.grpc_status {
            Some(c) => format!("grpc {}", code_name(c)),
            None => format!("http {}", self.http_status),
        }
    }
}

/// The name of a gRPC status code.
pub fn code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        8 => "RESOURCE_EXHAUSTED",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        _ => "other",
    }
}

/// A gRPC length-prefixed message: flag byte, big-endian length, bytes.
pub fn frame(msg: &[u8], compressed: bool) -> Bytes {
    frame_declaring(msg, compressed, msg.len() as u32)
}

/// Like [`frame`] but the prefix declares `declared` bytes.
pub fn frame_declaring(msg: &[u8], compressed: bool, declared: u32) -> Bytes {
    let mut b = BytesMut::with_capacity(5 + msg.len());
    b.put_u8(u8::from(compressed));
    b.put_u32(declared);
    b.put_slice(msg);
    b.freeze()
}

/// One unary call with `body` as the whole request body.
pub fn call(
    addr: SocketAddr,
    path: &str,
    body: Bytes,
    gzip: bool,
    timeout: Duration,
) -> Result<GrpcReply> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let start = Instant::now();
    rt.block_on(async move {
        tokio::time::timeout(timeout, call_inner(addr, path, body, gzip))
            .await
            .map_err(|_| anyhow!("no reply within {timeout:?}"))?
    })
    .map(|(http_status, grpc_status, message)| GrpcReply {
        http_status,
        grpc_status,
        message,
        elapsed: start.elapsed(),
    })
}

async fn call_inner(
    addr: SocketAddr,
    path: &str,
    mut body: Bytes,
    gzip: bool,
) -> Result<(u16, Option<i32>, String)> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .context("connect")?;
    tcp.set_nodelay(true)?;
    let (client, conn) = h2::client::Builder::new()
        .initial_window_size(1 << 20)
        .initial_connection_window_size(1 << 22)
        .handshake::<_, Bytes>(tcp)
        .await
        .context("HTTP/2 handshake")?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut client = client.ready().await?;
    let mut req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if gzip {
        req = req.header("grpc-encoding", "gzip");
    }
    let (resp, mut send) = client.send_request(req.body(())?, false)?;
    // Sends the body as flow control allows, then waits forever; a server
    // that answers (or resets the stream) early ends the select below.
    let sending = async {
        while !body.is_empty() {
            send.reserve_capacity(body.len().min(1 << 20));
            let cap = match std::future::poll_fn(|cx| send.poll_capacity(cx)).await {
                Some(Ok(n)) => n,
                _ => break,
            };
            if cap == 0 {
                continue;
            }
            let chunk = body.split_to(cap.min(body.len()));
            if send.send_data(chunk, body.is_empty()).is_err() {
                break;
            }
        }
        std::future::pending::<()>().await;
    };
    let response = tokio::select! {
        r = resp => r,
        () = sending => anyhow::bail!("the sender finished without a reply"),
    }
    .context("reading the response")?;
    let http_status = response.status().as_u16();
    let header =
        |h: &http::HeaderMap, k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut status = header(response.headers(), "grpc-status").and_then(|s| s.parse().ok());
    let mut message = header(response.headers(), "grpc-message").unwrap_or_default();
    let mut recv = response.into_body();
    while let Some(chunk) = recv.data().await {
        let Ok(chunk) = chunk else { break };
        let _ = recv.flow_control().release_capacity(chunk.len());
    }
    if status.is_none()
        && let Ok(Some(t)) = recv.trailers().await
    {
        status = header(&t, "grpc-status").and_then(|s| s.parse().ok());
        message = header(&t, "grpc-message").unwrap_or_default();
    }
    Ok((http_status, status, message))
}
