//! Admission of TCP connections: a cap per listener and one for the
//! process, with reserved room for admin and query, so a flood of
//! connections on one port can neither exhaust file descriptors nor lock
//! out health checks and the UI.
//!
//! A refused connection is closed at once (before any byte is read),
//! counted in `clew_connections_refused_total{listener}`, and logged at
//! most once per listener every [`LOG_EVERY`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::ConnectionLimits;

/// Least time between two "refused connections" log lines of a listener.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabel {
    listener: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerReason {
    listener: &'static str,
    reason: &'static str,
}

/// The connection metrics of every listener.
#[derive(Default)]
pub struct ConnectionMetrics {
    refused: Family<ListenerLabel, Counter>,
    open: Family<ListenerLabel, Gauge>,
    closed: Family<ListenerReason, Counter>,
    requests_refused: Family<ListenerReason, Counter>,
}

impl ConnectionMetrics {
    /// Registers `connections_refused`, `connections_open`,
    /// `connections_timed_out` and `http_requests_refused` (the registry
    /// adds the `clew_` prefix).
    pub fn register(registry: &mut Registry) -> Arc<Self> {
        let m = Arc::new(ConnectionMetrics::default());
        registry.register(
            "connections_refused",
            "TCP connections closed at accept because a connection cap was reached",
            m.refused.clone(),
        );
        registry.register(
            "connections_open",
            "TCP connections currently open, by listener",
            m.open.clone(),
        );
        registry.register(
            "connections_timed_out",
            "Connections or requests cut by a timeout (idle, header_read, request_body)",
            m.closed.clone(),
        );
        registry.register(
            "http_requests_refused",
            "HTTP requests refused before their body was read (content_length)",
            m.requests_refused.clone(),
        );
        m
    }

    /// Counts a connection or request cut by the timeout named `reason`.
    pub fn timed_out(&self, listener: &'static str, reason: &'static str) {
        self.closed
            .get_or_create(&ListenerReason { listener, reason })
            .inc();
    }

    /// Counts a request refused before its body was read.
    pub fn request_refused(&self, listener: &'static str, reason: &'static str) {
        self.requests_refused
            .get_or_create(&ListenerReason { listener, reason })
            .inc();
    }
}

/// The process-wide part: connections of every listener together.
pub struct ConnectionBudget {
    open: AtomicUsize,
    max: usize,
    limits: ConnectionLimits,
    metrics: Arc<ConnectionMetrics>,
    started: Instant,
}

impl ConnectionBudget {
    /// A budget of `limits.max_total` connections (possibly lowered to fit
    /// the file-descriptor limit by the caller).
    pub fn new(limits: ConnectionLimits, metrics: Arc<ConnectionMetrics>) -> Arc<Self> {
        Arc::new(ConnectionBudget {
            open: AtomicUsize::new(0),
            max: limits.max_total,
            limits,
            metrics,
            started: Instant::now(),
        })
    }

    /// The limits this budget was built from.
    pub fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    /// The gate of one listener; `reserved` listeners (admin, query) may
    /// go beyond the process-wide cap by `limits.reserved`.
    pub fn gate(self: &Arc<Self>, listener: &'static str, reserved: bool) -> Arc<ListenerGate> {
        let label = ListenerLabel { listener };
        Arc::new(ListenerGate {
            listener,
            budget: self.clone(),
            open: AtomicUsize::new(0),
            reserve_open: AtomicUsize::new(0),
            reserve: if reserved { self.limits.reserved } else { 0 },
            refused: self.metrics.refused.get_or_create(&label).clone(),
            open_gauge: self.metrics.open.get_or_create(&label).clone(),
            unlogged_refusals: AtomicU64::new(0),
            last_log_ms: AtomicU64::new(0),
        })
    }
}

/// One listener's admission control.
pub struct ListenerGate {
    listener: &'static str,
    budget: Arc<ConnectionBudget>,
    open: AtomicUsize,
    reserve_open: AtomicUsize,
    reserve: usize,
    refused: Counter,
    open_gauge: Gauge,
    unlogged_refusals: AtomicU64,
    last_log_ms: AtomicU64,
}

/// Why a connection was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `connections.max_per_listener` reached.
    Listener,
    /// `connections.max_total` (and any reserve) reached.
    Total,
}

impl ListenerGate {
    /// The listener's name (`otlp_grpc`, …), the `listener` label.
    pub fn listener(&self) -> &'static str {
        self.listener
    }

    /// The metrics shared by every listener.
    pub fn metrics(&self) -> &Arc<ConnectionMetrics> {
        &self.budget.metrics
    }

    /// Admits one connection, or counts and logs its refusal. The permit
    /// gives the room back when dropped (when the connection closes).
    pub fn admit(self: &Arc<Self>) -> Option<Permit> {
        match self.try_admit() {
            Ok(permit) => Some(permit),
            Err(why) => {
                self.refused.inc();
                self.log_refusal(why);
                None
            }
        }
    }

    fn try_admit(self: &Arc<Self>) -> Result<Permit, Refusal> {
        let limits = &self.budget.limits;
        if self.open.fetch_add(1, Ordering::AcqRel) >= limits.max_per_listener {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Listener);
        }
        let from_reserve = if self.budget.open.fetch_add(1, Ordering::AcqRel) < self.budget.max {
            false
        } else {
            self.budget.open.fetch_sub(1, Ordering::AcqRel);
            if self.reserve_open.fetch_add(1, Ordering::AcqRel) < self.reserve {
                true
            } else {
                self.reserve_open.fetch_sub(1, Ordering::AcqRel);
                self.open.fetch_sub(1, Ordering::AcqRel);
                return Err(Refusal::Total);
            }
        };
        self.open_gauge.inc();
        Ok(Permit {
            gate: self.clone(),
            from_reserve,
        })
    }

    /// One warning per listener per [`LOG_EVERY`], with the count since the
    /// last one, so a flood cannot flood the log too.
    fn log_refusal(&self, why: Refusal) {
        self.unlogged_refusals.fetch_add(1, Ordering::Relaxed);
        let now_ms = u64::try_from(self.budget.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_log_ms.load(Ordering::Relaxed);
        let due = last == 0 || now_ms.saturating_sub(last) >= LOG_EVERY.as_millis() as u64;
        if !due
            || self
                .last_log_ms
                .compare_exchange(last, now_ms.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let n = self.unlogged_refusals.swap(0, Ordering::Relaxed);
        let limits = &self.budget.limits;
        let cap = match why {
            Refusal::Listener => format!(
                "connections.max_per_listener = {} reached",
                limits.max_per_listener
            ),
            Refusal::Total => format!("connections.max_total = {} reached", self.budget.max),
        };
        tracing::warn!(
            listener = self.listener,
            refused = n,
            "refusing new connections: {cap} (counted in clew_connections_refused_total; \
             next report in {} s at the earliest)",
            LOG_EVERY.as_secs()
        );
    }

    fn release(&self, from_reserve: bool) {
        if from_reserve {
            self.reserve_open.fetch_sub(1, Ordering::AcqRel);
        } else {
            self.budget.open.fetch_sub(1, Ordering::AcqRel);
        }
        self.open.fetch_sub(1, Ordering::AcqRel);
        self.open_gauge.dec();
    }
}

/// Room for one open connection; given back on drop.
pub struct Permit {
    gate: Arc<ListenerGate>,
    from_reserve: bool,
}

impl Permit {
    /// The gate that admitted the connection.
    pub fn gate(&self) -> &Arc<ListenerGate> {
        &self.gate
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.gate.release(self.from_reserve);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(max_total: usize, per_listener: usize, reserved: usize) -> Arc<ConnectionBudget> {
        let limits = ConnectionLimits {
            max_total,
            max_per_listener: per_listener,
            reserved,
            ..ConnectionLimits::default()
        };
        ConnectionBudget::new(limits, Arc::new(ConnectionMetrics::default()))
    }

    #[test]
    fn the_per_listener_cap_refuses_and_dropping_gives_room_back() {
        let b = budget(100, 2, 0);
        let g = b.gate("otlp_grpc", false);
        let p1 = g.admit().expect("first");
        let _p2 = g.admit().expect("second");
        assert!(g.admit().is_none(), "third is over the listener cap");
        assert_eq!(g.refused.get(), 1);
        drop(p1);
        assert!(g.admit().is_some(), "room again after a close");
    }

    #[test]
    fn reserved_listeners_answer_when_the_total_is_used_up() {
        let b = budget(2, 10, 1);
        let ingest = b.gate("collector_http", false);
        let admin = b.gate("admin_http", true);
        let _a = ingest.admit().expect("1");
        let _b = ingest.admit().expect("2");
        assert!(ingest.admit().is_none(), "total reached");
        let reserved = admin.admit().expect("admin uses its reserve");
        assert!(reserved.from_reserve);
        assert!(admin.admit().is_none(), "reserve of 1 used up");
        drop(reserved);
        assert_eq!(admin.reserve_open.load(Ordering::Relaxed), 0);
        assert_eq!(b.open.load(Ordering::Relaxed), 2);
    }
}
