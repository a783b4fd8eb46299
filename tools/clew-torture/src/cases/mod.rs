//! The cases: each sends something hostile and says what the client saw.
//! The runner (in `main.rs`) measures the server around it.

mod bodies;
mod conns;
mod load;
mod udp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::grpc::{self, GrpcReply};
use crate::http::{self, Reply};
use crate::probe::fmt_duration;
use crate::server::Server;

/// Sizes and durations for one run of the suite.
#[derive(Clone, Debug)]
pub struct Opts {
    /// The server's HTTP body limit (`--http-max-body-bytes`).
    pub body_bytes: usize,
    /// The server's gRPC message limit.
    pub grpc_bytes: usize,
    /// Decompressed size of each compression bomb.
    pub bomb_bytes: usize,
    /// Concurrent copies of each hostile request.
    pub copies: usize,
    /// Connections for the idle and slowloris cases.
    pub conns: usize,
    /// How long idle/slow connections are held.
    pub hold: Duration,
    /// Overload duration.
    pub overload: Duration,
    /// UDP flood duration per port.
    pub udp: Duration,
    /// Spans stored before the hostile queries.
    pub query_spans: usize,
    /// Timeout of one hostile request.
    pub request_timeout: Duration,
}

impl Opts {
    /// Full-size settings.
    pub fn full(body_bytes: usize, grpc_bytes: usize) -> Opts {
        Opts {
            body_bytes,
            grpc_bytes,
            bomb_bytes: 1 << 30,
            copies: 4,
            conns: 10_000,
            hold: Duration::from_secs(30),
            overload: Duration::from_secs(60),
            udp: Duration::from_secs(10),
            query_spans: 200_000,
            request_timeout: Duration::from_secs(60),
        }
    }

    /// `--quick`: same shapes, smaller and shorter.
    pub fn quick(body_bytes: usize, grpc_bytes: usize) -> Opts {
        Opts {
            bomb_bytes: 256 << 20,
            copies: 2,
            conns: 1_000,
            hold: Duration::from_secs(5),
            overload: Duration::from_secs(10),
            udp: Duration::from_secs(3),
            query_spans: 20_000,
            ..Opts::full(body_bytes, grpc_bytes)
        }
    }
}

/// What a case gives the runner.
pub struct Ctx<'a> {
    /// The server.
    pub server: &'a Server,
    /// Sizes.
    pub opts: &'a Opts,
}

impl Ctx<'_> {
    /// Address of a listener.
    pub fn addr(&self, name: &str) -> SocketAddr {
        self.server.addr(name)
    }
}

/// What the client saw.
#[derive(Default)]
pub struct Outcome {
    /// One line for the table.
    pub client: String,
    /// Requests, datagrams or connections the server refused (as the client
    /// saw it), or hostile inputs sent whose refusal must be counted.
    pub refused: u64,
    /// The input is hostile: some refusal, drop, truncation or rejection
    /// counter must move.
    pub must_count: bool,
    /// Problems beyond the four targets, for the notes.
    pub notes: Vec<String>,
    /// Requirements of issue 7 the case checks itself (for example "an
    /// absurd Content-Length is refused before reading"); each fails it.
    pub failures: Vec<String>,
}

/// One case.
pub struct Case {
    /// Name for `--case`.
    pub name: &'static str,
    /// Part of `--quick`.
    pub quick: bool,
    /// What it sends.
    pub what: &'static str,
    /// The case.
    pub run: fn(&Ctx<'_>) -> Result<Outcome>,
}

/// Every case, in run order.
pub fn all() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(bodies::cases());
    v.extend(udp::cases());
    v.extend(conns::cases());
    v.extend(load::cases());
    v
}

// ---- helpers shared by the case modules --------------------------------------

/// One reply or error, summarised for the table.
pub enum Seen {
    Http(Result<Reply>),
    Grpc(Result<GrpcReply>),
}

impl Seen {
    fn refused(&self) -> bool {
        match self {
            Seen::Http(Ok(r)) => !(200..300).contains(&r.status),
            Seen::Grpc(Ok(r)) => !r.ok(),
            _ => true,
        }
    }

    fn label(&self) -> String {
        match self {
            Seen::Http(Ok(r)) => r.status.to_string(),
            Seen::Grpc(Ok(r)) => r.describe(),
            Seen::Http(Err(e)) | Seen::Grpc(Err(e)) => short_error(e),
        }
    }

    fn elapsed(&self) -> Option<Duration> {
        match self {
            Seen::Http(Ok(r)) => Some(r.elapsed),
            Seen::Grpc(Ok(r)) => Some(r.elapsed),
            _ => None,
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            Seen::Http(Ok(r)) if !(200..300).contains(&r.status) => Some(r.head_text()),
            Seen::Grpc(Ok(r)) if !r.ok() => Some(r.message.clone()),
            _ => None,
        }
    }
}

/// `timeout`, `conn closed` or `error`.
pub fn short_error(e: &anyhow::Error) -> String {
    let s = format!("{e:#}");
    if s.contains("no reply within")
        || s.contains("timed out")
        || s.contains("temporarily unavailable")
        || s.contains("WouldBlock")
    {
        "timeout".into()
    } else if s.contains("reset") || s.contains("closed") || s.contains("Broken pipe") {
        "conn closed".into()
    } else {
        "error".into()
    }
}

/// Runs `f` `copies` times concurrently and summarises.
pub fn concurrently(copies: usize, f: impl Fn() -> Seen + Send + Sync + 'static) -> Outcome {
    let f = Arc::new(f);
    let start = std::time::Instant::now();
    let handles: Vec<_> = (0..copies.max(1))
        .map(|_| {
            let f = f.clone();
            std::thread::spawn(move || f())
        })
        .collect();
    let seen: Vec<Seen> = handles
        .into_iter()
        .map(|h| {
            h.join()
                .unwrap_or_else(|_| Seen::Http(Err(anyhow::anyhow!("client thread panicked"))))
        })
        .collect();
    summarise(&seen, start.elapsed())
}

/// `413 ×4 in 0.3 s` (and the first refusal's message as a note).
pub fn summarise(seen: &[Seen], wall: Duration) -> Outcome {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for s in seen {
        *counts.entry(s.label()).or_default() += 1;
    }
    let labels: Vec<String> = counts.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
    let mut slowest = seen.iter().filter_map(Seen::elapsed).max().unwrap_or(wall);
    if seen.iter().any(|s| s.elapsed().is_none()) {
        slowest = slowest.max(wall);
    }
    let mut out = Outcome {
        client: format!("{} in {}", labels.join(", "), fmt_duration(slowest)),
        refused: seen.iter().filter(|s| s.refused()).count() as u64,
        must_count: true,
        notes: Vec::new(),
        failures: Vec::new(),
    };
    if let Some(d) = seen.iter().find_map(Seen::detail) {
        out.notes.push(format!("reply: {}", d.trim()));
    }
    out
}

/// A POST to an HTTP listener.
pub fn post(
    addr: SocketAddr,
    path: &'static str,
    content_type: &'static str,
    gzip: bool,
    body: Arc<Vec<u8>>,
    timeout: Duration,
) -> impl Fn() -> Seen + Send + Sync + 'static {
    move || {
        let mut headers = vec![("Content-Type", content_type)];
        if gzip {
            headers.push(("Content-Encoding", "gzip"));
        }
        Seen::Http(http::request(addr, "POST", path, &headers, &body, timeout))
    }
}

/// A unary gRPC call with a prepared body (framed message).
pub fn grpc_call(
    addr: SocketAddr,
    path: &'static str,
    body: bytes::Bytes,
    gzip: bool,
    timeout: Duration,
) -> impl Fn() -> Seen + Send + Sync + 'static {
    move || Seen::Grpc(grpc::call(addr, path, body.clone(), gzip, timeout))
}
