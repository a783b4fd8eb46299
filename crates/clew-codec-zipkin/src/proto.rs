//! `zipkin.proto3` messages, declared by hand with `prost` derives.
//!
//! No published crate ships these types and the schema is four messages, so
//! they are written here with the field numbers of openzipkin's zipkin.proto.
//! Tags use a `BTreeMap`, so decoding yields them in key order, the same
//! order JSON decoding gives.
#![allow(missing_docs)]

use std::collections::BTreeMap;

/// `zipkin.proto3.ListOfSpans`: the body of `POST /api/v2/spans` as protobuf.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListOfSpans {
    #[prost(message, repeated, tag = "1")]
    pub spans: Vec<Span>,
}

/// `zipkin.proto3.Span`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Span {
    /// 8 or 16 bytes, big-endian.
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    /// Empty for roots.
    #[prost(bytes = "vec", tag = "2")]
    pub parent_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub id: Vec<u8>,
    /// 0 unspecified, 1 client, 2 server, 3 producer, 4 consumer.
    #[prost(int32, tag = "4")]
    pub kind: i32,
    #[prost(string, tag = "5")]
    pub name: String,
    /// µs.
    #[prost(fixed64, tag = "6")]
    pub timestamp: u64,
    /// µs.
    #[prost(uint64, tag = "7")]
    pub duration: u64,
    #[prost(message, optional, tag = "8")]
    pub local_endpoint: Option<Endpoint>,
    #[prost(message, optional, tag = "9")]
    pub remote_endpoint: Option<Endpoint>,
    #[prost(message, repeated, tag = "10")]
    pub annotations: Vec<Annotation>,
    #[prost(btree_map = "string, string", tag = "11")]
    pub tags: BTreeMap<String, String>,
    #[prost(bool, tag = "12")]
    pub debug: bool,
    #[prost(bool, tag = "13")]
    pub shared: bool,
}

/// `zipkin.proto3.Endpoint`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Endpoint {
    #[prost(string, tag = "1")]
    pub service_name: String,
    /// 4 bytes.
    #[prost(bytes = "vec", tag = "2")]
    pub ipv4: Vec<u8>,
    /// 16 bytes.
    #[prost(bytes = "vec", tag = "3")]
    pub ipv6: Vec<u8>,
    #[prost(int32, tag = "4")]
    pub port: i32,
}

/// `zipkin.proto3.Annotation`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Annotation {
    /// µs.
    #[prost(fixed64, tag = "1")]
    pub timestamp: u64,
    #[prost(string, tag = "2")]
    pub value: String,
}
