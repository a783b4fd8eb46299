//! Reserving a gRPC request's bytes from the in-flight budget *while tonic
//! reads them*, not after.
//!
//! tonic buffers a unary request's whole message (and inflates it when it
//! is gzipped) before any handler runs. Reserving only in the handler left
//! that buffer outside the budget: one connection with 100 streams, each
//! trickling a 4 MiB message, held 400 MiB nobody had counted. So the
//! request body is wrapped in [`ReservedBody`], which grows a reservation
//! by every DATA frame before tonic sees the frame, and, when the gRPC
//! message prefix says the message is compressed, by the most it may
//! inflate into (the message size limit). The handler then takes the
//! reservation from the request's extensions ([`ReservationSlot`]) and
//! shrinks it to the message it really got.
//!
//! A frame the budget cannot take ends the body with a [`Status`] error,
//! which tonic answers as that status: `RESOURCE_EXHAUSTED` when the budget
//! is busy (retryable), `INVALID_ARGUMENT` when the request could never fit.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use parking_lot::Mutex;
use tonic::Status;
use tonic::codegen::StdError;

use crate::budget::Reservation;
use crate::pipeline::Pipeline;
use clew_model::BudgetError;

/// Length of the gRPC message prefix: a compressed flag and a u32 length.
const PREFIX_LEN: usize = 5;

/// Where the body leaves its reservation for the handler; travels in the
/// request's extensions (which must be `Clone`).
#[derive(Clone)]
pub(crate) struct ReservationSlot(Arc<Mutex<Option<Reservation>>>);

impl ReservationSlot {
    /// Takes the reservation made while the body was read, shrunk to
    /// `message_len`; when there is none (a caller that did not wrap the
    /// body), reserves `message_len` now.
    pub(crate) fn take(
        slot: Option<&ReservationSlot>,
        pipeline: &Pipeline,
        message_len: usize,
    ) -> Result<Reservation, Status> {
        match slot.and_then(|s| s.0.lock().take()) {
            Some(mut r) => {
                r.shrink_to(message_len);
                Ok(r)
            }
            None => pipeline.reserve(message_len).map_err(budget_status),
        }
    }
}

/// A request body that reserves each frame's bytes before passing it on.
pub(crate) struct ReservedBody<B> {
    inner: Pin<Box<B>>,
    slot: ReservationSlot,
    pipeline: Pipeline,
    max_message_bytes: usize,
    prefix: [u8; PREFIX_LEN],
    prefix_seen: usize,
}

impl<B> ReservedBody<B> {
    /// Wraps `inner`; the reservation it builds is left in the returned slot.
    pub(crate) fn new(
        inner: B,
        pipeline: Pipeline,
        max_message_bytes: usize,
    ) -> (Self, ReservationSlot) {
        let slot = ReservationSlot(Arc::new(Mutex::new(Some(Reservation::empty(
            pipeline.inflight(),
        )))));
        let body = ReservedBody {
            inner: Box::pin(inner),
            slot: slot.clone(),
            pipeline,
            max_message_bytes,
            prefix: [0; PREFIX_LEN],
            prefix_seen: 0,
        };
        (body, slot)
    }

    /// Bytes to reserve for `data`: its own length, plus the inflated size
    /// bound once the first message's prefix shows the compressed flag.
    fn cost_of(&mut self, data: &Bytes) -> usize {
        let mut cost = data.len();
        if self.prefix_seen < PREFIX_LEN {
            let take = (PREFIX_LEN - self.prefix_seen).min(data.len());
            self.prefix[self.prefix_seen..self.prefix_seen + take]
                .copy_from_slice(&data.chunk()[..take]);
            self.prefix_seen += take;
            if self.prefix_seen == PREFIX_LEN && self.prefix[0] == 1 {
                cost = cost.saturating_add(self.max_message_bytes);
            }
        }
        cost
    }

    fn reserve(&mut self, bytes: usize) -> Result<(), Status> {
        let mut guard = self.slot.0.lock();
        let Some(reservation) = guard.as_mut() else {
            // The handler already took it: nothing more will be read.
            return Ok(());
        };
        self.pipeline
            .grow(reservation, bytes)
            .map_err(budget_status)
    }
}

impl<B> Body for ReservedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<StdError>,
{
    type Data = Bytes;
    type Error = StdError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StdError>>> {
        let frame = match ready!(self.inner.as_mut().poll_frame(cx)) {
            None => return Poll::Ready(None),
            Some(Err(e)) => return Poll::Ready(Some(Err(e.into()))),
            Some(Ok(frame)) => frame,
        };
        if let Some(data) = frame.data_ref() {
            let cost = self.cost_of(data);
            if let Err(status) = self.reserve(cost) {
                return Poll::Ready(Some(Err(Box::new(status))));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `RESOURCE_EXHAUSTED` when the in-flight budget is busy (as the
/// OpenTelemetry Collector's memory limiter answers), `INVALID_ARGUMENT`
/// when the message can never fit.
pub(crate) fn budget_status(e: BudgetError) -> Status {
    if e.is_retryable() {
        Status::resource_exhausted(e.to_string())
    } else {
        Status::invalid_argument(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IngestConfig;
    use crate::metrics::IngestMetrics;
    use clew_store::MemoryStore;
    use http_body_util::{BodyExt, StreamBody};
    use tonic::Code;

    const BUDGET: usize = 1 << 20;
    const MAX_MESSAGE: usize = 256 << 10;

    fn pipeline() -> (Pipeline, crate::pipeline::PipelineTask) {
        let config = IngestConfig {
            inflight_max_bytes: BUDGET,
            grpc_max_message_bytes: MAX_MESSAGE,
            ..IngestConfig::default()
        };
        let metrics = Arc::new(IngestMetrics::unregistered());
        let store = Arc::new(MemoryStore::new(Default::default()));
        Pipeline::start(&config, store, metrics)
    }

    type Frames = std::vec::IntoIter<Result<Frame<Bytes>, std::io::Error>>;

    fn body(chunks: Vec<Vec<u8>>) -> StreamBody<tokio_stream::Iter<Frames>> {
        let frames: Vec<_> = chunks
            .into_iter()
            .map(|c| Ok(Frame::data(Bytes::from(c))))
            .collect();
        StreamBody::new(tokio_stream::iter(frames))
    }

    fn prefix(compressed: bool, len: u32) -> Vec<u8> {
        let mut p = vec![u8::from(compressed)];
        p.extend_from_slice(&len.to_be_bytes());
        p
    }

    #[tokio::test]
    async fn every_frame_is_reserved_before_tonic_sees_it() {
        let (pipeline, _task) = pipeline();
        let (mut b, slot) = ReservedBody::new(
            body(vec![prefix(false, 2000), vec![7; 1000], vec![7; 1000]]),
            pipeline.clone(),
            MAX_MESSAGE,
        );
        let mut seen = 0;
        while let Some(frame) = b.frame().await {
            seen += frame
                .expect("within budget")
                .into_data()
                .expect("data")
                .len();
            assert_eq!(pipeline.inflight().used(), seen);
        }
        assert_eq!(seen, 2005);
        let r = ReservationSlot::take(Some(&slot), &pipeline, 2000).expect("taken");
        assert_eq!(r.bytes(), 2000);
        assert_eq!(pipeline.inflight().used(), 2000);
        drop(r);
        assert_eq!(pipeline.inflight().used(), 0);
    }

    #[tokio::test]
    async fn a_compressed_message_reserves_what_it_may_inflate_into() {
        let (pipeline, _task) = pipeline();
        // The prefix split across frames still counts once it is complete.
        let mut first = prefix(true, 10);
        let rest = first.split_off(2);
        let (mut b, _slot) = ReservedBody::new(
            body(vec![first, rest, vec![1; 10]]),
            pipeline.clone(),
            MAX_MESSAGE,
        );
        b.frame().await.expect("frame").expect("fits");
        assert_eq!(pipeline.inflight().used(), 2);
        b.frame().await.expect("frame").expect("fits");
        assert_eq!(pipeline.inflight().used(), 5 + MAX_MESSAGE);
        b.frame().await.expect("frame").expect("fits");
        assert_eq!(pipeline.inflight().used(), 15 + MAX_MESSAGE);
    }

    fn status_of(e: StdError) -> Code {
        e.downcast::<Status>().expect("a tonic Status").code()
    }

    #[tokio::test]
    async fn a_busy_budget_ends_the_body_with_resource_exhausted() {
        let (pipeline, _task) = pipeline();
        let _held = pipeline.reserve(BUDGET - 100).expect("fits");
        let (mut b, _slot) = ReservedBody::new(
            body(vec![prefix(false, 500), vec![0; 500]]),
            pipeline.clone(),
            MAX_MESSAGE,
        );
        b.frame().await.expect("frame").expect("the prefix fits");
        let err = b.frame().await.expect("frame").expect_err("over budget");
        assert_eq!(status_of(err), Code::ResourceExhausted);
        assert_eq!(pipeline.inflight().used(), BUDGET - 100 + 5);
    }

    #[tokio::test]
    async fn a_request_bigger_than_the_budget_is_invalid_argument() {
        let (pipeline, _task) = pipeline();
        let (mut b, _slot) = ReservedBody::new(
            body(vec![prefix(false, 0), vec![0; BUDGET]]),
            pipeline.clone(),
            MAX_MESSAGE,
        );
        b.frame().await.expect("frame").expect("the prefix fits");
        let err = b.frame().await.expect("frame").expect_err("never fits");
        assert_eq!(status_of(err), Code::InvalidArgument);
    }
}
