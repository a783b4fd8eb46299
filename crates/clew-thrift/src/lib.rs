//! Apache Thrift's **compact** and **binary** protocols, sans I/O.
//!
//! Jaeger's agent and collector speak thrift: UDP 6831/5775 carry compact
//! messages, UDP 6832 and HTTP `POST /api/traces` carry binary ones, and
//! Zipkin v1 thrift lists arrive over HTTP. This crate turns those bytes into
//! primitive values and back; the codec crates build struct decoders on top.
//!
//! Why a hand-written implementation rather than the `thrift` crate: the hot
//! ingest path must not allocate per field. [`ProtocolReader`] hands out
//! `&'a [u8]` slices of the input for strings, and container headers are
//! checked against the bytes left, so a hostile size can neither read out of
//! bounds nor make a caller reserve gigabytes. [`ProtocolReader::skip`] and
//! struct entry stop at [`MAX_DEPTH`] levels, so nesting cannot overflow the stack.
//!
//! One trait per direction ([`ProtocolReader`], [`ProtocolWriter`]) lets a
//! struct codec be written once, generic over the protocol.
//!
//! ```
//! use clew_thrift::{CompactReader, CompactWriter, ProtocolReader, ProtocolWriter, TType};
//!
//! let mut buf = Vec::new();
//! let mut w = CompactWriter::new(&mut buf);
//! w.write_struct_begin();
//! w.write_field_begin(TType::Binary, 1);
//! w.write_string("lets-go");
//! w.write_field_stop();
//! w.write_struct_end();
//!
//! let mut r = CompactReader::new(&buf);
//! r.read_struct_begin()?;
//! let f = r.read_field_begin()?;
//! assert_eq!((f.ttype, f.id), (TType::Binary, 1));
//! assert_eq!(r.read_string()?, "lets-go");
//! assert_eq!(r.read_field_begin()?.ttype, TType::Stop);
//! # Ok::<(), clew_thrift::ThriftError>(())
//! ```

mod binary;
mod compact;
mod cursor;
mod error;
mod reader;
mod types;
mod writer;

pub use binary::{BinaryReader, BinaryWriter};
pub use compact::{CompactReader, CompactWriter};
pub use error::{Result, ThriftError};
pub use reader::{MAX_DEPTH, ProtocolReader};
pub use types::{FieldHeader, ListHeader, MapHeader, MessageHeader, MessageType, TType};
pub use writer::{ByteCounter, ProtocolWriter, Sink};
