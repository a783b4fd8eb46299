//! The `remote` sampler: polls the agent for this service's strategy.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use clew_model::TraceId;
use crossbeam_channel::{Receiver, Sender as ChannelSender, bounded};
use parking_lot::Mutex;

use super::{ProbabilisticSampler, Sampler, SamplingDecision, StrategyResponse};

/// Default agent sampling endpoint (Jaeger agent, port 5778).
pub const DEFAULT_SAMPLING_ENDPOINT: &str = "http://127.0.0.1:5778/sampling";

/// Settings of a [`RemoteSampler`].
#[derive(Clone, Debug)]
pub struct RemoteSamplerOptions {
    /// Service whose strategy is asked for (`?service=`).
    pub service_name: String,
    /// The strategy URL without query (`http://127.0.0.1:5778/sampling`).
    pub endpoint: String,
    /// How often to poll (Jaeger: 1 minute).
    pub refresh_interval: Duration,
    /// Used until the first strategy arrives, and whenever the endpoint
    /// answers with something unusable before that.
    pub initial: Arc<dyn Sampler>,
    /// Cap on per-operation samplers (Jaeger: 2000).
    pub max_operations: usize,
}

impl RemoteSamplerOptions {
    /// Jaeger's defaults for a service: probabilistic 0.001 until the first
    /// poll, polled every minute at the local agent.
    pub fn new(service_name: impl Into<String>) -> Self {
        RemoteSamplerOptions {
            service_name: service_name.into(),
            endpoint: DEFAULT_SAMPLING_ENDPOINT.to_owned(),
            refresh_interval: Duration::from_secs(60),
            initial: Arc::new(ProbabilisticSampler::new(0.001)),
            max_operations: 2000,
        }
    }
}

#[derive(Debug)]
struct Current {
    id: u64,
    epoch: AtomicU64,
    sampler: Mutex<Arc<dyn Sampler>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

type CacheEntry = (u64, u64, Arc<dyn Sampler>);

thread_local! {
    /// Per thread: (remote sampler id, epoch seen, sampler). Reading the
    /// current sampler through this cache costs one shared atomic load, so
    /// threads never contend on a lock or a reference count per trace.
    static CACHE: RefCell<Vec<CacheEntry>> = const { RefCell::new(Vec::new()) };
}

/// Polls `endpoint?service=NAME` on a background thread and swaps in the
/// strategy it gets; samples with the last good strategy (or the initial
/// sampler) meanwhile, so an unreachable agent never blocks spans.
#[derive(Debug)]
pub struct RemoteSampler {
    current: Arc<Current>,
    stop: ChannelSender<()>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl RemoteSampler {
    /// Starts polling.
    pub fn new(options: RemoteSamplerOptions) -> Self {
        let current = Arc::new(Current {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            epoch: AtomicU64::new(0),
            sampler: Mutex::new(options.initial.clone()),
        });
        let (stop, stop_rx) = bounded(1);
        let shared = current.clone();
        let thread = std::thread::Builder::new()
            .name("clew-sampler".into())
            .spawn(move || poll_loop(&options, &shared, &stop_rx))
            .map_err(|e| log::warn!("clew: cannot start sampling poller: {e}"))
            .ok();
        RemoteSampler {
            current,
            stop,
            thread: Mutex::new(thread),
        }
    }

    /// The sampler now in use.
    pub fn current(&self) -> Arc<dyn Sampler> {
        self.current.sampler.lock().clone()
    }

    /// Applies a strategy body as if it had been polled (used by tests and
    /// by programs that get strategies another way).
    pub fn apply_strategy(
        &self,
        body: &str,
        max_operations: usize,
    ) -> Result<(), super::StrategyError> {
        let sampler = StrategyResponse::parse(body)?.to_sampler(max_operations)?;
        swap(&self.current, sampler);
        Ok(())
    }
}

fn swap(current: &Current, sampler: Arc<dyn Sampler>) {
    *current.sampler.lock() = sampler;
    current.epoch.fetch_add(1, Ordering::Release);
}

fn poll_loop(options: &RemoteSamplerOptions, current: &Current, stop: &Receiver<()>) {
    let agent = crate::http_client::agent(Duration::from_secs(5));
    loop {
        match fetch(&agent, options) {
            Ok(sampler) => swap(current, sampler),
            Err(e) => log::debug!("clew: sampling strategy poll failed: {e}"),
        }
        match stop.recv_timeout(options.refresh_interval) {
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
            _ => return,
        }
    }
}

fn fetch(
    agent: &ureq::Agent,
    options: &RemoteSamplerOptions,
) -> Result<Arc<dyn Sampler>, Box<dyn std::error::Error>> {
    let body = agent
        .get(&options.endpoint)
        .query("service", &options.service_name)
        .call()?
        .into_string()?;
    Ok(StrategyResponse::parse(&body)?.to_sampler(options.max_operations)?)
}

impl Sampler for RemoteSampler {
    fn sample(&self, trace_id: TraceId, operation: &str) -> SamplingDecision {
        let epoch = self.current.epoch.load(Ordering::Acquire);
        let id = self.current.id;
        let cached = CACHE.try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            if let Some(e) = c.iter_mut().find(|e| e.0 == id) {
                if e.1 != epoch {
                    e.1 = epoch;
                    e.2 = self.current.sampler.lock().clone();
                }
                return Some(e.2.clone());
            }
            let s = self.current.sampler.lock().clone();
            c.push((id, epoch, s.clone()));
            Some(s)
        });
        match cached {
            Ok(Some(s)) => s.sample(trace_id, operation),
            _ => self.current().sample(trace_id, operation),
        }
    }

    fn close(&self) {
        let _ = self.stop.try_send(());
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }
}

impl Drop for RemoteSampler {
    fn drop(&mut self) {
        Sampler::close(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    fn serve_once(body: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().expect("accept");
            let mut buf = [0u8; 2048];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                body.len(),
                body
            );
            let _ = s.write_all(resp.as_bytes());
            req
        });
        (format!("http://{addr}/sampling"), h)
    }

    #[test]
    fn polls_the_endpoint_and_applies_the_strategy() {
        let (url, server) = serve_once(
            r#"{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":1}}"#,
        );
        let mut o = RemoteSamplerOptions::new("svc a");
        o.endpoint = url;
        o.initial = Arc::new(crate::sampler::ConstSampler(false));
        let s = RemoteSampler::new(o);
        let req = server.join().expect("server");
        assert!(
            req.starts_with("GET /sampling?service=svc%20a")
                || req.starts_with("GET /sampling?service=svc+a"),
            "{req}"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !s.sample(TraceId::new(0, 3), "op").sampled {
            assert!(
                std::time::Instant::now() < deadline,
                "strategy never applied"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            s.sample(TraceId::new(0, 3), "op").tags.kind,
            "probabilistic"
        );
        s.close();
    }

    #[test]
    fn unreachable_agent_keeps_the_initial_sampler() {
        let mut o = RemoteSamplerOptions::new("svc");
        o.endpoint = "http://127.0.0.1:1/sampling".into();
        o.initial = Arc::new(crate::sampler::ConstSampler(true));
        let s = RemoteSampler::new(o);
        std::thread::sleep(Duration::from_millis(50));
        let d = s.sample(TraceId::new(0, 1), "op");
        assert!(d.sampled);
        assert_eq!(d.tags.kind, "const");
        s.close();
    }

    #[test]
    fn applied_strategies_reach_threads_with_a_cached_sampler() {
        let mut o = RemoteSamplerOptions::new("svc");
        o.endpoint = "http://127.0.0.1:1/sampling".into();
        o.initial = Arc::new(crate::sampler::ConstSampler(false));
        let s = RemoteSampler::new(o);
        assert!(!s.sample(TraceId::new(0, 1), "op").sampled);
        s.apply_strategy(
            r#"{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":1}}"#,
            10,
        )
        .expect("apply");
        assert!(s.sample(TraceId::new(0, 1), "op").sampled);
        s.close();
    }
}
