//! One trace crossing two processes over HTTP.
//!
//! `frontend` (this process) serves `GET /hello/{name}` and calls `backend`
//! (a child process started from this same binary with `--backend`), which
//! serves `GET /greet/{name}`. The tower layers propagate the context in
//! `uber-trace-id` headers, so both services' spans land in one trace:
//! frontend server span → frontend client span → backend server span.
//!
//! Run: `cargo run -p clew-tracing --example two_services`; spans go to the
//! agent at `CLEW_AGENT_ADDR` (default 127.0.0.1:6831) and are logged.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::extract::{Extension, Path, State};
use axum::routing::get;
use clew_client::config::SamplerType;
use clew_client::{Closer, Config, SpanContext, Tracer};
use clew_tracing::{ClientLayer, ServerLayer};
use tower::{Layer, Service, ServiceExt};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn tracer(service: &str) -> Result<(Tracer, Closer), Error> {
    let agent = std::env::var("CLEW_AGENT_ADDR").unwrap_or_else(|_| "127.0.0.1:6831".into());
    Ok(Config::new(service)
        .sampler(SamplerType::Const, 1.0)
        .log_spans(true)
        .flush_interval(Duration::from_millis(200))
        .agent(agent)
        .build()?)
}

/// Sends an `http::Request` with reqwest, so `ClientLayer` can wrap it.
async fn send(req: http::Request<String>) -> Result<http::Response<String>, Error> {
    let resp = reqwest::Client::new()
        .execute(reqwest::Request::try_from(req)?)
        .await?;
    let status = resp.status();
    let body = resp.text().await?;
    Ok(http::Response::builder().status(status).body(body)?)
}

async fn hello(
    State((tracer, backend)): State<(Tracer, String)>,
    Extension(ctx): Extension<SpanContext>,
    Path(name): Path<String>,
) -> Result<String, String> {
    let mut client = ClientLayer::new(tracer).layer(tower::service_fn(send));
    let mut req = http::Request::get(format!("{backend}/greet/{name}"))
        .body(String::new())
        .map_err(|e| e.to_string())?;
    req.extensions_mut().insert(ctx);
    let resp = client
        .ready()
        .await
        .map_err(|e| e.to_string())?
        .call(req)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("frontend says: {}", resp.into_body()))
}

async fn greet(Path(name): Path<String>) -> String {
    format!("hello, {name}")
}

async fn backend() -> Result<(), Error> {
    let (tracer, closer) = tracer("backend")?;
    let app = axum::Router::new()
        .route("/greet/{name}", get(greet))
        .layer(ServerLayer::new(tracer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening {}", listener.local_addr()?);
    // Serve until the parent closes our stdin.
    let stop = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin()
            .read_line(&mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
    });
    tokio::select! {
        r = axum::serve(listener, app) => r?,
        _ = stop => {}
    }
    closer.close();
    Ok(())
}

async fn frontend() -> Result<(), Error> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--backend")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no child stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().ok_or("backend exited")??;
        if let Some(a) = line.strip_prefix("listening ") {
            break a.to_owned();
        }
        println!("[backend] {line}");
    };
    // Relay the backend's own log lines.
    std::thread::spawn(move || {
        lines
            .map_while(Result::ok)
            .for_each(|l| println!("[backend] {l}"))
    });

    let (tracer, closer) = tracer("frontend")?;
    let app = axum::Router::new()
        .route("/hello/{name}", get(hello))
        .with_state((tracer.clone(), format!("http://{addr}")))
        .layer(ServerLayer::new(tracer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hello/clew", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let body = reqwest::get(&url).await?.text().await?;
    println!("{body}");
    closer.close();
    drop(child.stdin.take()); // tells the backend to flush and exit
    child.wait()?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    if std::env::args().any(|a| a == "--backend") {
        backend().await
    } else {
        frontend().await
    }
}
