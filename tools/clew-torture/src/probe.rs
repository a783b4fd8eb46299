//! While a case runs, three threads keep asking what a user would: admin
//! health (`/`), the query API (`/api/services`) and a normal ingest
//! request (one valid span to the collector), each on a new connection
//! every 250 ms, and remember the slowest answer and every failure.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::http;

/// How long a probe waits before calling it a failure.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The target: every probe answered within this.
pub const PROBE_TARGET: Duration = Duration::from_secs(1);

/// What one probe saw.
#[derive(Clone, Debug, Default)]
pub struct ProbeStats {
    /// Requests made.
    pub count: u32,
    /// No answer, or a status other than 2xx.
    pub failed: u32,
    /// Answers slower than [`PROBE_TARGET`].
    pub slow: u32,
    /// Slowest answer (failures count as [`PROBE_TIMEOUT`] or their time).
    pub max: Duration,
    /// The first failure, for the notes.
    pub first_error: Option<String>,
}

impl ProbeStats {
    /// Met the target: every request answered 2xx within 1 s.
    pub fn ok(&self) -> bool {
        self.count > 0 && self.failed == 0 && self.slow == 0
    }

    /// `max 12 ms` or `3/40 failed, max 5.0 s`.
    pub fn cell(&self) -> String {
        let max = fmt_duration(self.max);
        if self.count == 0 {
            "not run".into()
        } else if self.failed > 0 {
            format!("**{}/{} failed**, max {max}", self.failed, self.count)
        } else if self.slow > 0 {
            format!("**{}/{} > 1 s**, max {max}", self.slow, self.count)
        } else {
            format!("max {max}")
        }
    }
}

/// `850 µs`, `12 ms`, `1.4 s`.
pub fn fmt_duration(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The three probes of one case.
pub struct Probes {
    stop: Arc<AtomicBool>,
    threads: Vec<(JoinHandle<()>, Arc<Mutex<ProbeStats>>)>,
}

/// Targets of the probes.
#[derive(Clone, Copy)]
pub struct ProbeTargets {
    /// Admin HTTP.
    pub admin: SocketAddr,
    /// Query HTTP.
    pub query: SocketAddr,
    /// Collector HTTP.
    pub collector: SocketAddr,
}

impl Probes {
    /// Starts probing.
    pub fn start(t: ProbeTargets, ingest_body: Arc<Vec<u8>>) -> Probes {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for which in 0..3 {
            let stats = Arc::new(Mutex::new(ProbeStats::default()));
            let (s, st, body) = (stop.clone(), stats.clone(), ingest_body.clone());
            let h = std::thread::spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    let r = match which {
                        0 => http::request(t.admin, "GET", "/", &[], &[], PROBE_TIMEOUT),
                        1 => {
                            http::request(t.query, "GET", "/api/services", &[], &[], PROBE_TIMEOUT)
                        }
                        _ => http::request(
                            t.collector,
                            "POST",
                            "/api/traces",
                            &[("Content-Type", "application/x-thrift")],
                            &body,
                            PROBE_TIMEOUT,
                        ),
                    };
                    let took = start.elapsed();
                    {
                        let mut g = st.lock().unwrap_or_else(|e| e.into_inner());
                        g.count += 1;
                        g.max = g.max.max(took);
                        let err = match &r {
                            Ok(reply) if (200..300).contains(&reply.status) => None,
                            Ok(reply) => {
                                Some(format!("status {} {}", reply.status, reply.head_text()))
                            }
                            Err(e) => Some(format!("{e:#}")),
                        };
                        if let Some(e) = err {
                            g.failed += 1;
                            g.first_error.get_or_insert(e);
                        } else if took > PROBE_TARGET {
                            g.slow += 1;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(250).saturating_sub(took));
                }
            });
            threads.push((h, stats));
        }
        Probes { stop, threads }
    }

    /// Stops and returns (health, services, ingest).
    pub fn finish(self) -> [ProbeStats; 3] {
        self.stop.store(true, Ordering::Relaxed);
        let mut out: [ProbeStats; 3] = Default::default();
        for (i, (h, stats)) in self.threads.into_iter().enumerate() {
            let _ = h.join();
            out[i] = stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
        }
        out
    }
}
