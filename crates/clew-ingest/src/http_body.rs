//! Request bodies of the push HTTP APIs (collector 14268, OTLP 4318, Zipkin
//! 9411): reading under the in-flight budget, media type,
//! `Content-Encoding`, and bounded gzip decompression.
//!
//! [`read_body`] refuses a `Content-Length` over the limit before reading a
//! byte, and reserves what it reads from the in-flight budget *before* it
//! buffers it. Decompression ([`decode_body`]) grows the same reservation
//! chunk by chunk before each chunk is inflated, stops one byte past the
//! limit, and gives the compressed bytes back when done — so a small gzip
//! bomb can never grow into gigabytes of memory, and many concurrent ones
//! share one bounded pool.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::BytesMut;
use clew_model::BudgetError;
use flate2::read::MultiGzDecoder;
use http_body_util::BodyExt;

use crate::budget::Reservation;
use crate::pipeline::Pipeline;

/// Why a body could not be turned into the bytes to decode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// A `Content-Encoding` other than gzip or identity.
    #[error("unsupported Content-Encoding: {0}")]
    UnsupportedEncoding(String),
    /// Over the limit, compressed or decompressed.
    #[error("request body exceeds the limit of {limit} bytes{after}")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
        /// `""` or `" after decompression"`.
        after: &'static str,
    },
    /// The body says gzip but is not.
    #[error("invalid gzip body: {0}")]
    Gzip(String),
    /// The in-flight budget refused the bytes (busy now, or never fits).
    #[error("{0}")]
    Budget(BudgetError),
    /// The connection failed or timed out while the body was read.
    #[error("cannot read request body: {0}")]
    Read(String),
}

impl From<BudgetError> for BodyError {
    fn from(e: BudgetError) -> Self {
        BodyError::Budget(e)
    }
}

impl BodyError {
    /// The HTTP status: 413 for what can never fit, 503 for a busy budget
    /// (with `Retry-After`, see [`retry_after`]), 415 for an unknown
    /// encoding, 400 otherwise.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Budget(e) => budget_status(*e),
            BodyError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BodyError::Gzip(_) | BodyError::Read(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// 503 when the budget is busy (retry later), 413 when the request never fits.
pub(crate) fn budget_status(e: BudgetError) -> StatusCode {
    if e.is_retryable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::PAYLOAD_TOO_LARGE
    }
}

/// Seconds a client told "busy" (503) should wait before retrying.
pub(crate) const RETRY_AFTER_SECS: &str = "1";

/// Adds `Retry-After` to a 503 response, so clients back off instead of
/// hammering a server that is shedding load.
pub(crate) fn retry_after(mut resp: Response) -> Response {
    if resp.status() == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        );
    }
    resp
}

/// Reads `body` whole, refusing more than `limit` bytes (a larger
/// `Content-Length` is refused before anything is read) and reserving every
/// byte from `pipeline`'s in-flight budget before buffering it. The
/// reservation comes back with the bytes; it must travel with them.
pub(crate) async fn read_body(
    pipeline: &Pipeline,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<(Bytes, Reservation), BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit, after: "" });
    }
    let declared = declared.map_or(0, |n| n as usize);
    let mut reservation = pipeline.reserve(declared)?;
    let mut buf = BytesMut::with_capacity(declared);
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let total = buf.len() + data.len();
        if total > limit {
            return Err(BodyError::TooLarge { limit, after: "" });
        }
        if total > reservation.bytes() {
            reservation
                .grow(total - reservation.bytes())
                .inspect_err(|&e| pipeline.metrics().record_memory_refused(e))?;
        }
        buf.extend_from_slice(&data);
    }
    reservation.shrink_to(buf.len());
    Ok((buf.freeze(), reservation))
}

/// The media type without parameters, lowercased (`application/json`);
/// empty when the header is absent or not text.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The raw `Content-Type` header, for error messages.
pub(crate) fn content_type_text(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// Applies `Content-Encoding` (absent, `identity` or `gzip`) to `body`,
/// refusing results over `limit` bytes. `reservation` holds the body's bytes
/// on entry and the result's on return; inflated bytes are reserved before
/// they are written.
pub(crate) fn decode_body(
    headers: &HeaderMap,
    body: Bytes,
    limit: usize,
    reservation: &mut Reservation,
) -> Result<Bytes, BodyError> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if body.len() > limit {
        return Err(BodyError::TooLarge { limit, after: "" });
    }
    match encoding.as_str() {
        "" | "identity" => Ok(body),
        "gzip" | "x-gzip" => {
            let compressed = body.len();
            let out = gunzip(&body, limit, reservation)?;
            drop(body);
            reservation.shrink_to(reservation.bytes().saturating_sub(compressed));
            Ok(out)
        }
        other => Err(BodyError::UnsupportedEncoding(other.to_string())),
    }
}

/// Inflates in chunks, reserving each chunk before it is written.
const INFLATE_CHUNK: usize = 64 * 1024;

fn gunzip(body: &[u8], limit: usize, reservation: &mut Reservation) -> Result<Bytes, BodyError> {
    let mut out: Vec<u8> = Vec::new();
    let mut dec = MultiGzDecoder::new(body);
    loop {
        // Room for one more chunk (and for the one byte past the limit
        // that tells "too large" from "exactly at the limit").
        if out.len() > limit {
            return Err(BodyError::TooLarge {
                limit,
                after: " after decompression",
            });
        }
        let want = INFLATE_CHUNK.min(limit + 1 - out.len());
        if out.capacity() - out.len() < want {
            let new_cap = (out.capacity() * 2).max(out.len() + want).min(limit + 1);
            reservation.grow(new_cap - out.capacity())?;
            out.reserve_exact(new_cap - out.len());
        }
        let start = out.len();
        out.resize(start + want, 0);
        let n = dec
            .read(&mut out[start..])
            .map_err(|e| BodyError::Gzip(e.to_string()))?;
        out.truncate(start + n);
        if n == 0 {
            break;
        }
    }
    if out.len() > limit {
        return Err(BodyError::TooLarge {
            limit,
            after: " after decompression",
        });
    }
    // Give back the room the last doubling reserved but did not use.
    let reserved_for_out = out.capacity();
    out.shrink_to_fit();
    reservation.shrink_to(reservation.bytes() - (reserved_for_out - out.capacity()));
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::InFlight;

    fn decode_body(headers: &HeaderMap, body: Bytes, limit: usize) -> Result<Bytes, BodyError> {
        let pool = InFlight::new(1 << 30);
        let mut r = pool.reserve(body.len()).expect("test pool");
        super::decode_body(headers, body, limit, &mut r)
    }

    #[test]
    fn inflation_draws_on_the_budget_and_stops_when_it_is_busy() {
        let h = headers(&[(header::CONTENT_ENCODING, "gzip")]);
        let bomb = gzip(&vec![0u8; 4 << 20]);
        let pool = InFlight::new(1 << 20);
        let mut r = pool.reserve(bomb.len()).expect("fits");
        let err = super::decode_body(&h, bomb, 64 << 20, &mut r).expect_err("pool is 1 MiB");
        assert_eq!(
            err,
            BodyError::Budget(BudgetError::TooLarge { max: 1 << 20 })
        );
        drop(r);
        assert_eq!(pool.used(), 0);
        let plain = vec![7u8; 200_000];
        let gz = gzip(&plain);
        let mut r = pool.reserve(gz.len()).expect("fits");
        let out = super::decode_body(&h, gz, 1 << 20, &mut r).expect("inflates");
        assert_eq!(out.len(), plain.len());
        assert!(r.bytes() >= out.len(), "the result is reserved");
        assert!(
            r.bytes() <= 2 * out.len(),
            "the compressed body was given back"
        );
    }
    use axum::http::HeaderValue;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut enc = GzEncoder::new(Vec::new(), Compression::best());
        enc.write_all(data).expect("in-memory write");
        Bytes::from(enc.finish().expect("in-memory finish"))
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).expect("header value"));
        }
        h
    }

    #[test]
    fn media_type_drops_parameters_and_case() {
        let h = headers(&[(header::CONTENT_TYPE, "Application/JSON; charset=utf-8")]);
        assert_eq!(media_type(&h), "application/json");
        assert_eq!(media_type(&HeaderMap::new()), "");
    }

    #[test]
    fn identity_and_gzip_bodies_decode() {
        let plain = Bytes::from_static(b"hello spans");
        assert_eq!(
            decode_body(&HeaderMap::new(), plain.clone(), 100),
            Ok(plain.clone())
        );
        let h = headers(&[(header::CONTENT_ENCODING, "GZIP")]);
        assert_eq!(decode_body(&h, gzip(&plain), 100), Ok(plain));
    }

    #[test]
    fn decompression_is_bounded() {
        let h = headers(&[(header::CONTENT_ENCODING, "gzip")]);
        let bomb = gzip(&vec![0u8; 256 << 10]);
        assert!(bomb.len() < 4096, "256 KiB of zeros compress well");
        assert_eq!(
            decode_body(&h, bomb, 4096),
            Err(BodyError::TooLarge {
                limit: 4096,
                after: " after decompression"
            })
        );
        // Exactly at the limit is fine.
        assert_eq!(
            decode_body(&h, gzip(&[7u8; 4096]), 4096).map(|b| b.len()),
            Ok(4096)
        );
    }

    #[test]
    fn bad_encodings_are_reported() {
        let h = headers(&[(header::CONTENT_ENCODING, "br")]);
        assert_eq!(
            decode_body(&h, Bytes::from_static(b"x"), 10),
            Err(BodyError::UnsupportedEncoding("br".into()))
        );
        let h = headers(&[(header::CONTENT_ENCODING, "gzip")]);
        assert!(matches!(
            decode_body(&h, Bytes::from_static(b"not gzip"), 10),
            Err(BodyError::Gzip(_))
        ));
        assert!(matches!(
            decode_body(&HeaderMap::new(), Bytes::from_static(b"12345"), 4),
            Err(BodyError::TooLarge { limit: 4, .. })
        ));
    }
}
