//! HTTP sender: thrift binary `Batch` bodies to a collector's `/api/traces`.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use clew_codec_jaeger::{Protocol, encode_batch};
use clew_model::{Process, Span};

use super::{SendError, SendErrorKind, Sender};

/// Settings of an [`HttpSender`].
#[derive(Clone, Debug)]
pub struct HttpSenderOptions {
    /// Basic-auth user (`JAEGER_USER`).
    pub user: Option<String>,
    /// Basic-auth password (`JAEGER_PASSWORD`).
    pub password: Option<String>,
    /// Bearer token (`JAEGER_AUTH_TOKEN`); Basic auth wins when both are set.
    pub auth_token: Option<String>,
    /// Spans per request (Jaeger: 100).
    pub batch_spans: usize,
    /// Request timeout.
    pub timeout: Duration,
}

impl Default for HttpSenderOptions {
    fn default() -> Self {
        HttpSenderOptions {
            user: None,
            password: None,
            auth_token: None,
            batch_spans: 100,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Posts batches to `http://collector:14268/api/traces` with
/// `Content-Type: application/x-thrift`.
#[derive(Debug)]
pub struct HttpSender {
    endpoint: String,
    agent: ureq::Agent,
    authorization: Option<String>,
    batch_spans: usize,
    spans: Vec<Span>,
    process: Option<Arc<Process>>,
    buf: Vec<u8>,
}

impl HttpSender {
    /// A sender to this endpoint URL.
    pub fn new(endpoint: impl Into<String>, options: HttpSenderOptions) -> Self {
        let authorization = match (&options.user, &options.password, &options.auth_token) {
            (Some(u), p, _) => {
                let raw = format!("{u}:{}", p.as_deref().unwrap_or(""));
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ))
            }
            (None, _, Some(t)) => Some(format!("Bearer {t}")),
            _ => None,
        };
        let mut endpoint = endpoint.into();
        if !endpoint.contains("format=") {
            endpoint.push_str(if endpoint.contains('?') { "&" } else { "?" });
            endpoint.push_str("format=jaeger.thrift");
        }
        HttpSender {
            endpoint,
            agent: crate::http_client::agent(options.timeout),
            authorization,
            batch_spans: options.batch_spans.max(1),
            spans: Vec::new(),
            process: None,
            buf: Vec::new(),
        }
    }
}

impl Sender for HttpSender {
    fn append(&mut self, span: Span) -> Result<usize, SendError> {
        let mut sent = 0;
        let same = self
            .process
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, &span.process) || **p == *span.process);
        if !same {
            sent += self.flush()?;
            self.process = Some(span.process.clone());
        }
        self.spans.push(span);
        if self.spans.len() >= self.batch_spans {
            sent += self.flush()?;
        }
        Ok(sent)
    }

    fn flush(&mut self) -> Result<usize, SendError> {
        let n = self.spans.len();
        let (Some(process), true) = (&self.process, n > 0) else {
            return Ok(0);
        };
        self.buf.clear();
        encode_batch(process, &self.spans, Protocol::Binary, &mut self.buf);
        self.spans.clear();
        let mut req = self
            .agent
            .post(&self.endpoint)
            .set("Content-Type", "application/x-thrift");
        if let Some(a) = &self.authorization {
            req = req.set("Authorization", a);
        }
        match req.send_bytes(&self.buf) {
            Ok(_) => Ok(n),
            Err(e) => Err(SendError {
                spans_lost: n,
                kind: SendErrorKind::Http(e.to_string()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clew_model::{Bytes, SpanId, TraceId};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// Accepts one request and returns (head, body).
    fn collector(status: u16) -> (String, std::thread::JoinHandle<(String, Vec<u8>)>) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/api/traces", l.local_addr().expect("addr"));
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().expect("accept");
            let mut r = BufReader::new(s);
            let mut head = String::new();
            let mut len = 0;
            loop {
                let mut line = String::new();
                r.read_line(&mut line).expect("line");
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().expect("len");
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).expect("body");
            let resp =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = r.get_mut().write_all(resp.as_bytes());
            (head, body)
        });
        (url, h)
    }

    #[test]
    fn posts_a_thrift_binary_batch_with_auth() {
        let (url, server) = collector(202);
        let mut s = HttpSender::new(
            url,
            HttpSenderOptions {
                user: Some("u".into()),
                password: Some("p".into()),
                ..Default::default()
            },
        );
        let p = Arc::new(Process::new("svc"));
        s.append(Span::new(TraceId::new(0, 1), SpanId(1), "a", p.clone()))
            .expect("append");
        s.append(Span::new(TraceId::new(0, 1), SpanId(2), "b", p))
            .expect("append");
        assert_eq!(s.flush().expect("flush"), 2);
        let (head, body) = server.join().expect("server");
        let lower = head.to_ascii_lowercase();
        assert!(
            head.starts_with("POST /api/traces?format=jaeger.thrift HTTP/1.1"),
            "{head}"
        );
        assert!(
            lower.contains("content-type: application/x-thrift"),
            "{head}"
        );
        assert!(lower.contains("authorization: basic dtpw"), "{head}");
        let batch =
            clew_codec_jaeger::decode_batch(&Bytes::from(body), Protocol::Binary).expect("decode");
        assert_eq!(batch.spans.len(), 2);
        assert_eq!(&*batch.spans[1].operation_name, "b");
    }

    #[test]
    fn refused_requests_count_as_lost_spans() {
        let (url, server) = collector(500);
        let mut s = HttpSender::new(url, HttpSenderOptions::default());
        let p = Arc::new(Process::new("svc"));
        s.append(Span::new(TraceId::new(0, 1), SpanId(1), "a", p))
            .expect("append");
        let err = s.flush().expect_err("500");
        assert_eq!(err.spans_lost, 1);
        let _ = server.join();
    }
}
