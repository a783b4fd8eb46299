//! Zipkin v2 protobuf (`POST /api/v2/spans`, `application/x-protobuf`).

use std::net::{Ipv4Addr, Ipv6Addr};

use clew_model::{KeyValue, Span, SpanId, TraceId, Value};
use prost::Message;

use crate::error::ZipkinError;
use crate::mapping;
use crate::proto;
use crate::span::{Annotation, Endpoint, Kind, ZipkinSpan};

/// Decodes a `ListOfSpans` body into model spans.
pub fn decode(body: &[u8]) -> Result<Vec<Span>, ZipkinError> {
    Ok(mapping::to_model(decode_zipkin(body)?))
}

/// Decodes a `ListOfSpans` body into Zipkin spans.
pub fn decode_zipkin(body: &[u8]) -> Result<Vec<ZipkinSpan>, ZipkinError> {
    let list = proto::ListOfSpans::decode(body)?;
    list.spans.into_iter().map(span_from_proto).collect()
}

/// Decodes a `ListOfSpans` body span by span: the outer `Err` is a body
/// whose protobuf does not parse (nothing in it can be trusted), while each
/// inner `Err` is one span whose content is unusable (a 3-byte ID, a 5-byte
/// address). Receivers use it to keep the good spans of a batch and count
/// the bad ones, instead of refusing the whole request for one bad span.
pub fn decode_each(body: &[u8]) -> Result<Vec<Result<ZipkinSpan, ZipkinError>>, ZipkinError> {
    let list = proto::ListOfSpans::decode(body)?;
    Ok(list.spans.into_iter().map(span_from_proto).collect())
}

/// Encodes model spans as a `ListOfSpans`.
pub fn encode(spans: &[Span], out: &mut Vec<u8>) {
    let list = proto::ListOfSpans {
        spans: spans
            .iter()
            .map(|s| span_to_proto(&mapping::from_model(s)))
            .collect(),
    };
    list.encode_raw(out);
}

fn span_from_proto(p: proto::Span) -> Result<ZipkinSpan, ZipkinError> {
    let trace_id = TraceId::from_bytes(&p.trace_id).map_err(|source| ZipkinError::Id {
        field: "trace_id",
        value: format!("{} bytes", p.trace_id.len()),
        source,
    })?;
    let id = SpanId::from_bytes(&p.id).map_err(|source| ZipkinError::Id {
        field: "id",
        value: format!("{} bytes", p.id.len()),
        source,
    })?;
    let mut z = ZipkinSpan::new(trace_id, id);
    if !p.parent_id.is_empty() {
        let parent = SpanId::from_bytes(&p.parent_id).map_err(|source| ZipkinError::Id {
            field: "parent_id",
            value: format!("{} bytes", p.parent_id.len()),
            source,
        })?;
        z.parent_id = Some(parent).filter(|id| !id.is_zero());
    }
    z.kind = Kind::from_proto_number(p.kind);
    z.name = p.name.into();
    z.timestamp = p.timestamp;
    z.duration = p.duration;
    z.local_endpoint = p.local_endpoint.map(endpoint_from_proto).transpose()?;
    z.remote_endpoint = p.remote_endpoint.map(endpoint_from_proto).transpose()?;
    z.local_endpoint = z.local_endpoint.filter(|e| !e.is_empty());
    z.remote_endpoint = z.remote_endpoint.filter(|e| !e.is_empty());
    z.annotations = p
        .annotations
        .into_iter()
        .map(|a| Annotation {
            timestamp: a.timestamp,
            value: a.value.into(),
        })
        .collect();
    z.tags = p
        .tags
        .into_iter()
        .map(|(k, v)| KeyValue::string(k, v))
        .collect();
    z.debug = p.debug;
    z.shared = p.shared;
    Ok(z)
}

fn endpoint_from_proto(p: proto::Endpoint) -> Result<Endpoint, ZipkinError> {
    let ipv4 = match p.ipv4.len() {
        0 => None,
        4 => <[u8; 4]>::try_from(&p.ipv4[..]).ok().map(Ipv4Addr::from),
        n => {
            return Err(ZipkinError::Address {
                field: "ipv4",
                value: format!("{n} bytes"),
            });
        }
    };
    let ipv6 = match p.ipv6.len() {
        0 => None,
        16 => <[u8; 16]>::try_from(&p.ipv6[..]).ok().map(Ipv6Addr::from),
        n => {
            return Err(ZipkinError::Address {
                field: "ipv6",
                value: format!("{n} bytes"),
            });
        }
    };
    let port = u16::try_from(p.port).map_err(|_| ZipkinError::Field {
        field: "port",
        reason: format!("{} is out of range", p.port),
    })?;
    Ok(Endpoint {
        service_name: p.service_name.into(),
        ipv4,
        ipv6,
        port,
    })
}

/// The protobuf form of a Zipkin span; typed tags are written as text.
pub fn span_to_proto(z: &ZipkinSpan) -> proto::Span {
    let trace_id = if z.trace_id.high == 0 {
        z.trace_id.low.to_be_bytes().to_vec()
    } else {
        z.trace_id.to_bytes().to_vec()
    };
    proto::Span {
        trace_id,
        parent_id: z
            .parent_id
            .map(|p| p.to_bytes().to_vec())
            .unwrap_or_default(),
        id: z.id.to_bytes().to_vec(),
        kind: z.kind.map_or(0, Kind::proto_number),
        name: z.name.to_string(),
        timestamp: z.timestamp,
        duration: z.duration,
        local_endpoint: z.local_endpoint.as_ref().map(endpoint_to_proto),
        remote_endpoint: z.remote_endpoint.as_ref().map(endpoint_to_proto),
        annotations: z
            .annotations
            .iter()
            .map(|a| proto::Annotation {
                timestamp: a.timestamp,
                value: a.value.to_string(),
            })
            .collect(),
        tags: z
            .tags
            .iter()
            .map(|kv| {
                let v = match &kv.value {
                    Value::Str(s) => s.to_string(),
                    other => other.to_text(),
                };
                (kv.key.to_string(), v)
            })
            .collect(),
        debug: z.debug,
        shared: z.shared,
    }
}

fn endpoint_to_proto(e: &Endpoint) -> proto::Endpoint {
    proto::Endpoint {
        service_name: e.service_name.to_string(),
        ipv4: e.ipv4.map(|ip| ip.octets().to_vec()).unwrap_or_default(),
        ipv6: e.ipv6.map(|ip| ip.octets().to_vec()).unwrap_or_default(),
        port: i32::from(e.port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_wrong_id_and_address_lengths() {
        let mut span = proto::Span {
            trace_id: vec![1; 3],
            id: vec![1; 8],
            ..Default::default()
        };
        let body = proto::ListOfSpans {
            spans: vec![span.clone()],
        }
        .encode_to_vec();
        assert!(matches!(
            decode(&body),
            Err(ZipkinError::Id {
                field: "trace_id",
                ..
            })
        ));
        span.trace_id = vec![1; 16];
        span.local_endpoint = Some(proto::Endpoint {
            ipv4: vec![1, 2],
            ..Default::default()
        });
        let body = proto::ListOfSpans { spans: vec![span] }.encode_to_vec();
        assert!(matches!(
            decode(&body),
            Err(ZipkinError::Address { field: "ipv4", .. })
        ));
    }
}

#[cfg(test)]
mod each_tests {
    use super::*;

    fn span(trace_id: Vec<u8>, id: u8) -> proto::Span {
        proto::Span {
            trace_id,
            id: vec![0, 0, 0, 0, 0, 0, 0, id],
            name: format!("s{id}"),
            ..Default::default()
        }
    }

    #[test]
    fn decode_each_isolates_a_span_with_a_bad_id() {
        let good = vec![0u8; 15].into_iter().chain([1]).collect::<Vec<_>>();
        let list = proto::ListOfSpans {
            spans: vec![span(good.clone(), 1), span(vec![1, 2, 3], 2), span(good, 3)],
        };
        let each = decode_each(&list.encode_to_vec()).expect("the list parses");
        let ids: Vec<_> = each
            .iter()
            .map(|r| r.as_ref().map(|z| z.id.0).map_err(|_| ()))
            .collect();
        assert_eq!(ids, [Ok(1), Err(()), Ok(3)]);
        assert!(matches!(
            each[1],
            Err(ZipkinError::Id {
                field: "trace_id",
                ..
            })
        ));
    }

    #[test]
    fn decode_each_refuses_a_broken_protobuf_whole() {
        assert!(matches!(
            decode_each(&[0x0a, 0xff]),
            Err(ZipkinError::Proto(_))
        ));
    }
}
