//! A tonic codec that hands a unary request's message over as raw bytes.
//!
//! The generated servers decode every request with prost before a handler
//! runs, which is both slow (a `String` per attribute) and unbounded (an
//! empty protobuf message is two bytes and becomes a struct of hundreds).
//! With [`RawCodec`], tonic still does the framing, gzip, size limits and
//! status replies, but the handler gets the message bytes, reserves them
//! from the in-flight budget, bounds what they decode into, and only then
//! decodes. Replies are encoded with prost as usual.

use std::convert::Infallible;
use std::marker::PhantomData;

use bytes::{Buf, Bytes};
use tonic::Status;
use tonic::body::Body as GrpcBody;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{Body, BoxFuture, StdError};
use tonic::server::{Grpc, UnaryService};

use crate::grpc_reserve::ReservedBody;
use crate::pipeline::Pipeline;

/// Serves one request of a unary method at `path` with `handler`, which
/// receives the (decompressed, at most `max_message_bytes`) message as
/// bytes; any other path is `UNIMPLEMENTED`. gzip in both directions.
///
/// The body is read through [`ReservedBody`], so everything tonic buffers
/// is reserved from `pipeline`'s in-flight budget first; the handler finds
/// the reservation as a `ReservationSlot` in the request's extensions.
pub(crate) fn serve_unary<B, H, R>(
    req: http::Request<B>,
    path: &'static str,
    pipeline: &Pipeline,
    handler: H,
) -> BoxFuture<http::Response<GrpcBody>, Infallible>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
    H: UnaryService<Bytes, Response = R> + Send + 'static,
    H::Future: Send,
    R: prost::Message + Send + 'static,
{
    let max_message_bytes = pipeline.config().grpc_max_message_bytes;
    let pipeline = pipeline.clone();
    Box::pin(async move {
        if req.uri().path() != path {
            let msg = format!("unknown method {}", req.uri().path());
            return Ok(Status::unimplemented(msg).into_http());
        }
        let mut grpc = Grpc::new(RawCodec::<R>::default())
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(max_message_bytes);
        let (mut parts, body) = req.into_parts();
        let (body, slot) = ReservedBody::new(body, pipeline, max_message_bytes);
        parts.extensions.insert(slot);
        let req = http::Request::from_parts(parts, body);
        Ok(grpc.unary(handler, req).await)
    })
}

/// Requests as [`Bytes`], replies of type `R` encoded with prost.
#[derive(Debug)]
pub(crate) struct RawCodec<R>(PhantomData<fn(R)>);

impl<R> Default for RawCodec<R> {
    fn default() -> Self {
        RawCodec(PhantomData)
    }
}

/// The request side of [`RawCodec`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawDecoder;

/// The reply side of [`RawCodec`].
#[derive(Debug)]
pub(crate) struct ProstEncoder<R>(PhantomData<fn(R)>);

impl<R: prost::Message + Send + 'static> Codec for RawCodec<R> {
    type Encode = R;
    type Decode = Bytes;
    type Encoder = ProstEncoder<R>;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> ProstEncoder<R> {
        ProstEncoder(PhantomData)
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    /// tonic hands out a slice of its receive buffer, so this is not a copy.
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

impl<R: prost::Message> Encoder for ProstEncoder<R> {
    type Item = R;
    type Error = Status;

    fn encode(&mut self, item: R, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("cannot encode reply: {e}")))
    }
}
