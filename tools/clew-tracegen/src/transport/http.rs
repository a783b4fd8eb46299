//! HTTP `POST` of one pre-encoded body per request, over one keep-alive
//! connection per worker (what Jaeger, OTLP and Zipkin HTTP senders do).
//! The collector's thrift path lives here; OTLP and Zipkin only pick a
//! different path and content type ([`super::otlp_http`], [`super::zipkin`]).

use std::io::Read;
use std::time::Duration;

use super::{Transport, TransportError};

/// The collector's thrift path.
pub const API_TRACES_PATH: &str = "/api/traces";
/// The content type Jaeger clients send thrift batches with.
pub const THRIFT_CONTENT_TYPE: &str = "application/x-thrift";
/// A stuck server should show up as errors, not hang the run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A blocking HTTP client holding at most one idle connection, so each
/// worker reuses its own keep-alive connection.
#[derive(Debug)]
pub struct HttpPost {
    agent: ureq::Agent,
    url: String,
    content_type: &'static str,
    response: Vec<u8>,
}

/// The Jaeger collector's thrift transport, by its old name.
pub type HttpThrift = HttpPost;

impl HttpPost {
    /// A thrift client for `target`: `host:port`, `http://host:port` or a
    /// full URL (the path defaults to `/api/traces`).
    pub fn new(target: &str) -> Result<Self, TransportError> {
        Self::with(target, API_TRACES_PATH, THRIFT_CONTENT_TYPE)
    }

    /// A client posting `content_type` bodies to `target`, whose path
    /// defaults to `default_path`.
    pub fn with(
        target: &str,
        default_path: &str,
        content_type: &'static str,
    ) -> Result<Self, TransportError> {
        let url = post_url(target, default_path)?;
        let agent = ureq::AgentBuilder::new()
            .max_idle_connections_per_host(1)
            .timeout(REQUEST_TIMEOUT)
            .build();
        Ok(HttpPost {
            agent,
            url,
            content_type,
            response: Vec::new(),
        })
    }

    /// The URL requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Transport for HttpPost {
    fn send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        let result = self
            .agent
            .post(&self.url)
            .set("Content-Type", self.content_type)
            .send_bytes(payload);
        match result {
            Ok(resp) => {
                // Reading the body to its end returns the connection to the pool.
                self.response.clear();
                resp.into_reader()
                    .take(1 << 20)
                    .read_to_end(&mut self.response)?;
                Ok(())
            }
            Err(ureq::Error::Status(status, resp)) => {
                let mut body = String::new();
                let _ = resp.into_reader().take(512).read_to_string(&mut body);
                Err(TransportError::Status { status, body })
            }
            Err(ureq::Error::Transport(t)) => Err(TransportError::Http(t.to_string())),
        }
    }
}

/// Turns what the user typed into the collector URL.
pub fn collector_url(target: &str) -> Result<String, TransportError> {
    post_url(target, API_TRACES_PATH)
}

/// Turns what the user typed into a URL, with `default_path` when it has none.
pub fn post_url(target: &str, default_path: &str) -> Result<String, TransportError> {
    if target.starts_with("https://") {
        return Err(TransportError::BadTarget {
            target: target.to_string(),
            reason: "https is not supported; the benchmark talks to loopback".into(),
        });
    }
    let rest = target.strip_prefix("http://").unwrap_or(target);
    if rest.is_empty() || rest.starts_with('/') {
        return Err(TransportError::BadTarget {
            target: target.to_string(),
            reason: "expected host:port or http://host:port/path".into(),
        });
    }
    Ok(match rest.find('/') {
        Some(i) if rest.len() > i + 1 => format!("http://{rest}"),
        Some(i) => format!("http://{}{default_path}", &rest[..i]),
        None => format!("http://{rest}{default_path}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    #[test]
    fn targets_default_to_the_collector_path() {
        let url = |t| collector_url(t).expect("valid");
        assert_eq!(url("127.0.0.1:14268"), "http://127.0.0.1:14268/api/traces");
        assert_eq!(url("http://h:1"), "http://h:1/api/traces");
        assert_eq!(url("http://h:1/"), "http://h:1/api/traces");
        assert_eq!(url("http://h:1/x/y"), "http://h:1/x/y");
        assert!(collector_url("https://h:1").is_err());
        assert!(collector_url("http://").is_err());
    }

    /// A one-connection server: proves the client keeps its connection alive
    /// across requests and sends the thrift content type.
    #[test]
    fn posts_thrift_over_one_keep_alive_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut out = stream;
            let mut seen = Vec::new();
            for status in ["202 Accepted", "400 Bad Request"] {
                let mut len = 0usize;
                let mut content_type = String::new();
                let mut line = String::new();
                reader.read_line(&mut line).expect("request line");
                let request_line = line.trim().to_string();
                loop {
                    line.clear();
                    reader.read_line(&mut line).expect("header");
                    let l = line.trim().to_ascii_lowercase();
                    if l.is_empty() {
                        break;
                    }
                    if let Some(v) = l.strip_prefix("content-length:") {
                        len = v.trim().parse().expect("length");
                    }
                    if let Some(v) = l.strip_prefix("content-type:") {
                        content_type = v.trim().to_string();
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).expect("body");
                seen.push((request_line, content_type, body));
                let msg = if status.starts_with("400") {
                    "bad batch"
                } else {
                    ""
                };
                write!(
                    out,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{msg}",
                    msg.len()
                )
                .expect("reply");
            }
            seen
        });
        let mut client = HttpThrift::new(&addr.to_string()).expect("client");
        client.send(b"batch-1").expect("202 is success");
        let err = client.send(b"batch-2").expect_err("400 is an error");
        assert!(
            matches!(&err, TransportError::Status { status: 400, body } if body == "bad batch"),
            "{err}"
        );
        let seen = server.join().expect("server");
        assert_eq!(seen[0].0, "POST /api/traces HTTP/1.1");
        assert_eq!(seen[0].1, "application/x-thrift");
        assert_eq!(seen[0].2, b"batch-1");
        assert_eq!(seen[1].2, b"batch-2");
    }
}
