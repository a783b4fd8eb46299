//! Request bodies of the push HTTP APIs (OTLP 4318, Zipkin 9411): media
//! type, `Content-Encoding`, and bounded gzip decompression.
//!
//! The compressed size is bounded by axum's body limit; the decompressed size
//! is bounded here, by reading at most one byte past the limit, so a small
//! gzip bomb can never grow into gigabytes of memory.

use std::io::Read;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use flate2::read::MultiGzDecoder;

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
/// refusing results over `limit` bytes.
pub(crate) fn decode_body(
    headers: &HeaderMap,
    body: Bytes,
    limit: usize,
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
        "gzip" | "x-gzip" => gunzip(&body, limit),
        other => Err(BodyError::UnsupportedEncoding(other.to_string())),
    }
}

fn gunzip(body: &[u8], limit: usize) -> Result<Bytes, BodyError> {
    // Typical trace payloads compress 5-10×; start there, grow as needed.
    let mut out = Vec::with_capacity(body.len().saturating_mul(8).min(limit));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    MultiGzDecoder::new(body)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| BodyError::Gzip(e.to_string()))?;
    if out.len() > limit {
        return Err(BodyError::TooLarge {
            limit,
            after: " after decompression",
        });
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
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
