//! A deliberately small HTTP/1.1 client over `std::net`: one connection per
//! request, a deadline over the whole exchange, and full control of what is
//! written (lying `Content-Length`, bodies the server refuses half-way).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// What came back.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body bytes read (the body itself is discarded past `head`).
    pub body_bytes: u64,
    /// The first bytes of the body, for error messages.
    pub head: Vec<u8>,
    /// From connect to the end of the body.
    pub elapsed: Duration,
}

impl Reply {
    /// The first bytes of the body as text.
    pub fn head_text(&self) -> String {
        String::from_utf8_lossy(&self.head[..self.head.len().min(160)]).into_owned()
    }
}

/// Sends one request and reads the whole reply within `timeout`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<Reply> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if method != "GET" || !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    exchange(addr, &[head.as_bytes(), body], timeout)
}

/// Writes `parts` as they are and reads a reply within `timeout`. A write
/// that fails because the server answered early and closed is not an error
/// as long as a reply can be read.
pub fn exchange(addr: SocketAddr, parts: &[&[u8]], timeout: Duration) -> Result<Reply> {
    let start = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, timeout).context("connect")?;
    s.set_nodelay(true)?;
    s.set_write_timeout(Some(timeout))?;
    let mut write_err = None;
    for part in parts {
        for chunk in part.chunks(1 << 20) {
            if let Err(e) = s.write_all(chunk) {
                write_err = Some(e);
                break;
            }
            if start.elapsed() > timeout {
                bail!("timed out writing after {:?}", start.elapsed());
            }
        }
        if write_err.is_some() {
            break;
        }
    }
    match read_reply(&mut s, start, timeout) {
        Ok(r) => Ok(r),
        Err(e) => match write_err {
            Some(w) => Err(e.context(format!("write failed first: {w}"))),
            None => Err(e),
        },
    }
}

fn remaining(start: Instant, timeout: Duration) -> Result<Duration> {
    let left = timeout.saturating_sub(start.elapsed());
    if left.is_zero() {
        bail!("no reply within {timeout:?}");
    }
    Ok(left)
}

fn read_reply(s: &mut TcpStream, start: Instant, timeout: Duration) -> Result<Reply> {
    s.set_read_timeout(Some(remaining(start, timeout)?))?;
    let mut r = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line).context("reading the status line")?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("bad status line {line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        r.read_line(&mut line).context("reading headers")?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "content-length" {
                length = v.parse::<u64>().ok();
            } else if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
        }
    }
    let mut head = Vec::new();
    let mut body_bytes = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    let mut take = |n: usize, buf: &[u8], head: &mut Vec<u8>| {
        body_bytes += n as u64;
        if head.len() < 512 {
            head.extend_from_slice(&buf[..n.min(512 - head.len())]);
        }
    };
    if chunked {
        loop {
            s.set_read_timeout(Some(remaining(start, timeout)?))?;
            line.clear();
            r.read_line(&mut line).context("reading a chunk size")?;
            let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .with_context(|| format!("bad chunk size {line:?}"))?;
            if size == 0 {
                break;
            }
            let mut left = size;
            while left > 0 {
                let want = left.min(buf.len() as u64) as usize;
                let n = r.read(&mut buf[..want])?;
                if n == 0 {
                    bail!("connection closed inside a chunk");
                }
                take(n, &buf, &mut head);
                left -= n as u64;
                remaining(start, timeout)?;
            }
            line.clear();
            r.read_line(&mut line)?;
        }
    } else {
        let mut left = length.unwrap_or(u64::MAX);
        while left > 0 {
            s.set_read_timeout(Some(remaining(start, timeout)?))?;
            let want = left.min(buf.len() as u64) as usize;
            let n = r.read(&mut buf[..want])?;
            if n == 0 {
                if length.is_some() {
                    bail!("connection closed before the end of the body");
                }
                break;
            }
            take(n, &buf, &mut head);
            left -= n as u64;
        }
    }
    Ok(Reply {
        status,
        body_bytes,
        head,
        elapsed: start.elapsed(),
    })
}
