//! The query threads' CPU governor: while ingest is busy, searches get a
//! fixed share of the machine and wait for the rest.
//!
//! Nice values alone did not keep a back-to-back search loop from taking a
//! fifth of HTTP thrift ingest on two cores (579 k → 453–473 k spans/s at
//! nice 5, 470–480 k at nice 19): the query threads still ran a third of a
//! core, in the gaps ingest leaves while it waits on sockets and the WAL,
//! and made searches cheaper only made more of them. So the query threads
//! account for their own CPU. Every step of query work calls
//! [`clew_store::pace::pace`]; here that charges the thread's CPU since its
//! last step to a token bucket refilled at `query.busy_cpu_percent` of the
//! machine, and, when ingest is busy and the bucket is empty, the thread
//! sleeps until it is not. "Ingest is busy" is measured, not guessed: the
//! rest of the process (everything but the query threads) used at least
//! 60 % of the machine's cores over the last window. On an idle or lightly
//! loaded server searches run unpaced, and so they do beside one cut or
//! compaction alone (one core: half of a two-core machine).

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Wall time between looks at a thread's CPU clock (a system call): a
/// thread cannot use more CPU than wall time, so at most this much goes
/// uncharged between two looks.
const CHARGE_EVERY: Duration = Duration::from_millis(1);
/// How often "is ingest busy" is judged, over the time since the last look.
const WINDOW: Duration = Duration::from_millis(100);
/// CPU the query threads may spend at once before pacing starts: a small
/// search after a pause runs unpaced.
const BURST: Duration = Duration::from_millis(20);
/// A window longer than this is not judged (see `Governor::charge`).
const STALE_WINDOW: Duration = Duration::from_secs(1);
/// Longest single sleep; the bucket is looked at again after it.
const MAX_SLEEP: Duration = Duration::from_millis(50);
/// Share of the machine's cores the rest of the process must use for
/// ingest to count as busy. Above one half, so that a cut or compaction
/// (one thread) on a two-core machine is not; full-speed ingest there
/// keeps 1.4–1.7 cores busy.
const BUSY_SHARE: f64 = 0.6;

static GOVERNOR: OnceLock<Governor> = OnceLock::new();

/// The governor, once [`install`] made one.
pub fn governor() -> Option<&'static Governor> {
    GOVERNOR.get()
}

/// Creates the process's governor for a share of `percent` % of `cores`
/// (100 turns pacing off: no governor is made). Call once, before the
/// query runtime starts.
pub fn install(percent: u8, cores: usize) -> Option<&'static Governor> {
    if percent >= 100 {
        return None;
    }
    let cores = cores.max(1) as f64;
    Some(
        GOVERNOR
            .get_or_init(|| Governor::new(cores * f64::from(percent) / 100.0, cores * BUSY_SHARE)),
    )
}

/// See the module documentation.
pub struct Governor {
    /// CPU-seconds per second the query threads may use while ingest is busy.
    rate: f64,
    /// CPU-seconds per second the rest of the process must use to be busy.
    busy_above: f64,
    state: Mutex<State>,
    threads: Mutex<Threads>,
    paced: Counter<f64, AtomicU64>,
    busy: Gauge,
}

struct State {
    /// CPU the query threads may still use, seconds (negative: owed).
    balance: f64,
    refilled_at: Instant,
    busy: bool,
    window_at: Instant,
    window_process_ns: u64,
    window_query_ns: u64,
}

/// The query threads' CPU clocks, so the rest of the process's CPU is known.
#[derive(Default)]
struct Threads {
    live: Vec<libc::clockid_t>,
    /// CPU of query threads that have exited.
    retired_ns: u64,
}

thread_local! {
    /// This thread's CPU clock at its last charge, and when that was.
    static CHARGED: Cell<Option<(u64, Instant)>> = const { Cell::new(None) };
}

impl Governor {
    fn new(rate: f64, busy_above: f64) -> Governor {
        let now = Instant::now();
        Governor {
            rate,
            busy_above,
            state: Mutex::new(State {
                balance: BURST.as_secs_f64(),
                refilled_at: now,
                busy: false,
                window_at: now,
                window_process_ns: clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID),
                window_query_ns: 0,
            }),
            threads: Mutex::new(Threads::default()),
            paced: Counter::default(),
            busy: Gauge::default(),
        }
    }

    /// Exposes what the governor did on `/metrics`.
    pub fn register(&'static self, registry: &mut Registry) {
        registry.register(
            "query_cpu_paced_seconds",
            "Time query threads slept so that searches left the CPU to busy ingest",
            self.paced.clone(),
        );
        registry.register(
            "query_cpu_ingest_busy",
            "1 while the rest of the process uses 60 % of the cores or more and searches are paced",
            self.busy.clone(),
        );
    }

    /// Called on each query thread as it starts: paces it, and counts its
    /// CPU as the query threads'.
    pub fn thread_started(&'static self) {
        if let Some(clock) = own_clock() {
            self.threads.lock().live.push(clock);
        }
        CHARGED.with(|c| {
            c.set(Some((
                clock_ns(libc::CLOCK_THREAD_CPUTIME_ID),
                Instant::now(),
            )))
        });
        clew_store::pace::install(self);
    }

    /// Called on each query thread as it stops: its CPU so far stays
    /// counted once its clock is gone.
    pub fn thread_stopping(&self) {
        if let Some(clock) = own_clock() {
            let used = clock_ns(libc::CLOCK_THREAD_CPUTIME_ID);
            let mut t = self.threads.lock();
            t.live.retain(|&c| c != clock);
            t.retired_ns += used;
        }
    }

    /// CPU of every query thread, live or exited.
    fn query_ns(&self) -> u64 {
        let t = self.threads.lock();
        t.retired_ns + t.live.iter().map(|&c| clock_ns(c)).sum::<u64>()
    }

    /// Charges `used` CPU-seconds at `now`; answers how long to sleep.
    fn charge(&self, used: f64, now: Instant) -> Option<Duration> {
        let mut st = self.state.lock();
        if now.duration_since(st.window_at) >= WINDOW {
            let process = clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID);
            let query = self.query_ns();
            let other = process
                .saturating_sub(st.window_process_ns)
                .saturating_sub(query.saturating_sub(st.window_query_ns));
            let wall = now.duration_since(st.window_at);
            // A window much longer than one (no search for a while) says
            // little about now: start afresh, unpaced, and judge the next.
            st.busy = wall <= STALE_WINDOW && busy(other, wall, self.busy_above);
            self.busy.set(i64::from(st.busy));
            st.window_at = now;
            st.window_process_ns = process;
            st.window_query_ns = query;
        }
        st.spend(used, now, self.rate)
    }
}

/// Whether `other_ns` of CPU over `wall` is at least `above` cores.
fn busy(other_ns: u64, wall: Duration, above: f64) -> bool {
    let wall = wall.as_secs_f64();
    wall > 0.0 && other_ns as f64 / 1e9 / wall >= above
}

impl State {
    /// Takes `used` CPU-seconds from the bucket (refilled at `rate` since
    /// the last charge, up to [`BURST`]) and answers how long to sleep:
    /// never while ingest is not busy, else long enough to pay what is
    /// owed, at most [`MAX_SLEEP`].
    fn spend(&mut self, used: f64, now: Instant, rate: f64) -> Option<Duration> {
        let burst = BURST.as_secs_f64();
        if !self.busy {
            self.balance = burst;
            self.refilled_at = now;
            return None;
        }
        let refill = now.duration_since(self.refilled_at).as_secs_f64() * rate;
        // Owed at most a burst: a long stretch between two steps (one huge
        // trace) must not hold every later search back for minutes.
        self.balance = ((self.balance + refill).min(burst) - used).max(-burst);
        self.refilled_at = now;
        (self.balance < 0.0).then(|| Duration::from_secs_f64(-self.balance / rate).min(MAX_SLEEP))
    }
}

impl clew_store::pace::Pacer for Governor {
    fn pace(&self) {
        let now = Instant::now();
        let Some((last_cpu, last_at)) = CHARGED.with(Cell::get) else {
            return;
        };
        if now.duration_since(last_at) < CHARGE_EVERY {
            return;
        }
        let cpu = clock_ns(libc::CLOCK_THREAD_CPUTIME_ID);
        CHARGED.with(|c| c.set(Some((cpu, now))));
        let used = cpu.saturating_sub(last_cpu) as f64 / 1e9;
        let Some(mut sleep) = self.charge(used, now) else {
            return;
        };
        // Wait until the shared bucket is paid (or ingest is no longer
        // busy): one capped sleep per step would let each of many paced
        // threads run a step per sleep, together past the share.
        loop {
            self.paced.inc_by(sleep.as_secs_f64());
            // On a runtime worker the runtime's other tasks (cheap queries)
            // move to another thread while this one waits; elsewhere
            // (a blocking-pool thread) this just sleeps.
            tokio::task::block_in_place(|| std::thread::sleep(sleep));
            match self.charge(0.0, Instant::now()) {
                Some(more) => sleep = more,
                None => break,
            }
        }
        // The sleep is not this thread's CPU; charge from here on.
        let cpu = clock_ns(libc::CLOCK_THREAD_CPUTIME_ID);
        CHARGED.with(|c| c.set(Some((cpu, Instant::now()))));
    }
}

/// The calling thread's CPU clock, to be read from other threads.
#[allow(unsafe_code)]
fn own_clock() -> Option<libc::clockid_t> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `pthread_self` is always valid for the calling thread and
    // `clock` is a valid out-pointer.
    let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    (rc == 0).then_some(clock)
}

/// A CPU clock in nanoseconds (0 if it cannot be read, e.g. an exited
/// thread's).
#[allow(unsafe_code)]
fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; an invalid clock is an error
    // return, not undefined behaviour.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return 0;
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(busy: bool, at: Instant) -> State {
        State {
            balance: BURST.as_secs_f64(),
            refilled_at: at,
            busy,
            window_at: at,
            window_process_ns: 0,
            window_query_ns: 0,
        }
    }

    #[test]
    fn searches_are_never_paced_while_ingest_is_not_busy() {
        let t0 = Instant::now();
        let mut st = state(false, t0);
        for i in 0..100 {
            assert_eq!(st.spend(0.5, t0 + Duration::from_millis(i), 0.1), None);
        }
    }

    #[test]
    fn while_ingest_is_busy_searches_get_the_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut st = state(true, t0);
        // 15 ms of the 20 ms burst: no sleep.
        assert_eq!(st.spend(0.015, t0, 0.1), None);
        // 15 ms more: 10 ms owed at 0.1 CPU-s/s is 100 ms, capped at 50.
        assert_eq!(st.spend(0.015, t0, 0.1), Some(MAX_SLEEP));
        // 50 ms later 5 ms came back: 5 ms owed, 50 ms of sleep.
        let s = st
            .spend(0.0, t0 + Duration::from_millis(50), 0.1)
            .expect("still owed");
        assert!((s.as_secs_f64() - 0.05).abs() < 1e-6, "{s:?}");
        // After a long pause the bucket is full again, but not fuller.
        assert_eq!(st.spend(0.019, t0 + Duration::from_secs(10), 0.1), None);
        assert!(st.spend(0.002, t0 + Duration::from_secs(10), 0.1).is_some());
        // A whole second of CPU in one step owes one burst, not a second:
        // 20 ms at 0.1 CPU-s/s is paid 200 ms later.
        let t1 = t0 + Duration::from_secs(20);
        assert_eq!(st.spend(1.0, t1, 0.1), Some(MAX_SLEEP));
        assert!(
            st.spend(0.0, t1 + Duration::from_millis(150), 0.1)
                .is_some()
        );
        assert_eq!(st.spend(0.0, t1 + Duration::from_millis(201), 0.1), None);
    }

    #[test]
    fn busy_means_at_least_the_share_of_cores() {
        let w = Duration::from_millis(100);
        assert!(busy(100_000_000, w, 1.0), "a whole core over the window");
        assert!(!busy(99_000_000, w, 1.0));
        assert!(busy(60_000_000, w, 0.5));
        assert!(!busy(1, Duration::ZERO, 0.5), "no window, no judgement");
    }

    /// Burns `d` of this thread's CPU.
    fn spin(d: Duration) {
        let start = clock_ns(libc::CLOCK_THREAD_CPUTIME_ID);
        let mut x = 0u64;
        while clock_ns(libc::CLOCK_THREAD_CPUTIME_ID) - start < d.as_nanos() as u64 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }

    #[test]
    fn query_threads_cpu_is_counted_while_they_run_and_after_they_exit() {
        let g: &'static Governor = Box::leak(Box::new(Governor::new(0.05, 0.3)));
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            g.thread_started();
            spin(Duration::from_millis(30));
            tx.send(()).expect("send");
            done_rx.recv().expect("recv");
            g.thread_stopping();
        });
        rx.recv().expect("spun");
        let live = g.query_ns();
        assert!(live >= 30_000_000, "a live thread's clock is read: {live}");
        done_tx.send(()).expect("send");
        t.join().expect("query thread");
        let after = g.query_ns();
        assert!(
            after >= live,
            "an exited thread's CPU stays counted: {after} < {live}"
        );
        assert!(g.threads.lock().live.is_empty());
    }
}
