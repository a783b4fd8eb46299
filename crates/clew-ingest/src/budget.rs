//! The process-wide budget of bytes in flight, and the reservations that
//! carry a request's share of it from the socket to the store.
//!
//! Every byte ingest holds on behalf of a client is reserved here *before*
//! it is allocated: a request body while it is read, its decompressed form
//! while it inflates, the values it decodes into (through
//! [`clew_model::DecodeBudget`], whose grant is the request's
//! [`Reservation`]), and the decoded batch while it waits in the queue and
//! is written. The reservation is released when the store has the spans
//! (which then hold compact copies, accounted by the store's own limit).
//!
//! Refusals come in two kinds, which clients must be able to tell apart:
//! * the budget is busy now ([`BudgetError::Exhausted`]): HTTP 503 with
//!   `Retry-After`, gRPC `RESOURCE_EXHAUSTED` — retrying later works;
//! * the request could never fit (bigger than the whole budget, or than the
//!   per-request limits): HTTP 413, gRPC `INVALID_ARGUMENT` — it must not be retried.
//!
//! Every refusal is counted in `clew_ingest_memory_refused_total{reason}`;
//! `clew_ingest_memory_inflight_bytes` shows the bytes reserved now.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use clew_model::{BudgetError, MemoryGrant};
use prometheus_client::metrics::gauge::Gauge;

/// The shared pool. Cheap to share (`Arc`); reservations hold a clone.
#[derive(Debug)]
pub struct InFlight {
    used: AtomicUsize,
    capacity: usize,
    /// `clew_ingest_memory_inflight_bytes`, kept equal to `used`.
    gauge: Option<Gauge>,
}

impl InFlight {
    /// A pool of `capacity` bytes.
    pub fn new(capacity: usize) -> Arc<InFlight> {
        Arc::new(InFlight {
            used: AtomicUsize::new(0),
            capacity,
            gauge: None,
        })
    }

    /// A pool of `capacity` bytes whose fill level `gauge` shows.
    pub(crate) fn with_gauge(capacity: usize, gauge: Gauge) -> Arc<InFlight> {
        Arc::new(InFlight {
            used: AtomicUsize::new(0),
            capacity,
            gauge: Some(gauge),
        })
    }

    /// Bytes reserved right now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The pool's size.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Reserves `bytes`: `TooLarge` when they exceed the whole pool (they
    /// never fit), `Exhausted` when the pool is too full now.
    pub fn reserve(self: &Arc<Self>, bytes: usize) -> Result<Reservation, BudgetError> {
        if bytes > self.capacity {
            return Err(BudgetError::TooLarge { max: self.capacity });
        }
        if !self.take(bytes) {
            return Err(BudgetError::Exhausted);
        }
        Ok(Reservation {
            pool: self.clone(),
            bytes,
        })
    }

    fn take(&self, bytes: usize) -> bool {
        match self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(bytes).filter(|&t| t <= self.capacity)
            }) {
            Ok(before) => {
                self.show(before + bytes);
                true
            }
            Err(_) => false,
        }
    }

    fn give_back(&self, bytes: usize) {
        let before = self.used.fetch_sub(bytes, Ordering::AcqRel);
        self.show(before - bytes);
    }

    fn show(&self, used: usize) {
        if let Some(g) = &self.gauge {
            g.set(i64::try_from(used).unwrap_or(i64::MAX));
        }
    }
}

/// Bytes of the pool held for one request or batch; released on drop.
#[derive(Debug)]
pub struct Reservation {
    pool: Arc<InFlight>,
    bytes: usize,
}

impl Reservation {
    /// An empty reservation on `pool`, to grow as data arrives.
    pub fn empty(pool: &Arc<InFlight>) -> Reservation {
        Reservation {
            pool: pool.clone(),
            bytes: 0,
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Grows by `more` bytes; `TooLarge` when the total could never fit in
    /// the pool, `Exhausted` when the pool is too full now.
    pub fn grow(&mut self, more: usize) -> Result<(), BudgetError> {
        let total = self.bytes.saturating_add(more);
        if total > self.pool.capacity {
            return Err(BudgetError::TooLarge {
                max: self.pool.capacity,
            });
        }
        if !self.pool.take(more) {
            return Err(BudgetError::Exhausted);
        }
        self.bytes = total;
        Ok(())
    }

    /// Gives back everything above `bytes` (what is really still held).
    pub fn shrink_to(&mut self, bytes: usize) {
        if bytes < self.bytes {
            self.pool.give_back(self.bytes - bytes);
            self.bytes = bytes;
        }
    }

    /// Moves `bytes` of this reservation into a new one (for a part of a
    /// batch that travels on its own).
    pub fn split(&mut self, bytes: usize) -> Reservation {
        let bytes = bytes.min(self.bytes);
        self.bytes -= bytes;
        Reservation {
            pool: self.pool.clone(),
            bytes,
        }
    }

    /// Adds `other`'s bytes to this reservation.
    pub fn merge(&mut self, mut other: Reservation) {
        self.bytes += std::mem::take(&mut other.bytes);
    }
}

impl MemoryGrant for Reservation {
    fn try_grow(&mut self, bytes: usize) -> bool {
        self.grow(bytes).is_ok()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.pool.give_back(self.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_return_their_bytes_when_dropped() {
        let pool = InFlight::new(1000);
        let a = pool.reserve(600).expect("fits");
        assert_eq!(pool.reserve(500).err(), Some(BudgetError::Exhausted));
        assert_eq!(
            pool.reserve(1001).err(),
            Some(BudgetError::TooLarge { max: 1000 })
        );
        drop(a);
        assert_eq!(pool.used(), 0);
        let mut b = pool.reserve(500).expect("fits again");
        let other = pool.reserve(400).expect("fits");
        assert_eq!(b.grow(200), Err(BudgetError::Exhausted));
        drop(other);
        b.grow(400).expect("grows");
        assert_eq!(b.grow(2000), Err(BudgetError::TooLarge { max: 1000 }));
        b.shrink_to(100);
        assert_eq!(pool.used(), 100);
        let c = b.split(40);
        assert_eq!((b.bytes(), c.bytes(), pool.used()), (60, 40, 100));
        b.merge(c);
        assert_eq!((b.bytes(), pool.used()), (100, 100));
        drop(b);
        assert_eq!(pool.used(), 0);
    }
}
