//! JSON pieces shared by Zipkin v1 and v2: IDs, endpoints, lenient numbers.

use std::net::{Ipv4Addr, Ipv6Addr};

use clew_model::{SpanId, Str, TraceId};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ZipkinError;
use crate::span::Endpoint;

/// An endpoint as Zipkin JSON (v1 and v2) writes it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonEndpoint {
    /// Service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// Dotted IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<String>,
    /// IPv6 address text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<String>,
    /// Port (0 or absent when unknown).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt_i64"
    )]
    pub port: Option<i64>,
}

impl JsonEndpoint {
    /// Validates addresses and port.
    pub fn into_endpoint(self) -> Result<Endpoint, ZipkinError> {
        let ipv4 = match self.ipv4.as_deref() {
            None | Some("") => None,
            Some(s) => Some(s.parse::<Ipv4Addr>().map_err(|_| ZipkinError::Address {
                field: "ipv4",
                value: s.to_owned(),
            })?),
        };
        let ipv6 = match self.ipv6.as_deref() {
            None | Some("") => None,
            Some(s) => Some(s.parse::<Ipv6Addr>().map_err(|_| ZipkinError::Address {
                field: "ipv6",
                value: s.to_owned(),
            })?),
        };
        let port = match self.port {
            None => 0,
            // Thrift-era clients wrote ports as signed 16-bit numbers.
            Some(p) if (-32768..0).contains(&p) => p as u16,
            Some(p) => u16::try_from(p).map_err(|_| ZipkinError::Field {
                field: "port",
                reason: format!("{p} is out of range"),
            })?,
        };
        Ok(Endpoint {
            service_name: self.service_name.map(Str::from).unwrap_or_default(),
            ipv4,
            ipv6,
            port,
        })
    }

    /// The JSON form of an endpoint.
    pub fn from_endpoint(ep: &Endpoint) -> Self {
        JsonEndpoint {
            service_name: (!ep.service_name.is_empty()).then(|| ep.service_name.to_string()),
            ipv4: ep.ipv4.map(|ip| ip.to_string()),
            ipv6: ep.ipv6.map(|ip| ip.to_string()),
            port: (ep.port != 0).then_some(i64::from(ep.port)),
        }
    }
}

/// Parses a hex trace ID (Zipkin sends 16 or 32 digits).
pub fn trace_id(s: &str) -> Result<TraceId, ZipkinError> {
    s.parse().map_err(|source| ZipkinError::Id {
        field: "traceId",
        value: s.to_owned(),
        source,
    })
}

/// Parses a hex span ID.
pub fn span_id(field: &'static str, s: &str) -> Result<SpanId, ZipkinError> {
    s.parse().map_err(|source| ZipkinError::Id {
        field,
        value: s.to_owned(),
        source,
    })
}

/// Parses an optional parent ID; absent, empty and zero all mean "root".
pub fn parent_id(s: Option<&str>) -> Result<Option<SpanId>, ZipkinError> {
    match s {
        None | Some("") => Ok(None),
        Some(s) => Ok(Some(span_id("parentId", s)?).filter(|id| !id.is_zero())),
    }
}

/// A number Zipkin clients write as an integer, a float (some JavaScript
/// clients) or a decimal string.
#[derive(Deserialize)]
#[serde(untagged)]
enum LenientNumber {
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
}

impl LenientNumber {
    fn to_i64(&self) -> Option<i64> {
        match self {
            LenientNumber::Int(v) => Some(*v),
            LenientNumber::UInt(v) => i64::try_from(*v).ok(),
            LenientNumber::Float(f) if f.is_finite() => Some(f.round() as i64),
            LenientNumber::Float(_) => None,
            LenientNumber::Text(s) => s.trim().parse().ok(),
        }
    }
}

/// Deserializes an optional signed number leniently (see [`LenientNumber`]).
pub fn lenient_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<LenientNumber>::deserialize(d)? {
        None => Ok(None),
        Some(n) => n
            .to_i64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("expected an integer")),
    }
}

/// Deserializes an optional microsecond time or duration; negative values
/// are rejected.
pub fn lenient_opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<LenientNumber>::deserialize(d)? {
        None => Ok(None),
        Some(LenientNumber::UInt(v)) => Ok(Some(v)),
        Some(n) => n
            .to_i64()
            .and_then(|v| u64::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("expected a non-negative integer")),
    }
}
