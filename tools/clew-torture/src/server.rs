//! The clew under test: started here (all ports 0, `--ready-file`) or
//! already running (its ready file and PID given), and its memory read from
//! `/proc/PID/status`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Every listener of the all-in-one role, by the ready file's names.
pub const TCP_LISTENERS: [&str; 9] = [
    "query_http",
    "admin_http",
    "collector_http",
    "sampling_http",
    "query_grpc",
    "zipkin_http",
    "collector_grpc",
    "otlp_grpc",
    "otlp_http",
];

/// The agent UDP listeners.
pub const UDP_LISTENERS: [&str; 3] = ["agent_compact", "agent_binary", "agent_zipkin_compact"];

/// A clew process and its addresses.
pub struct Server {
    /// Listener name → address (from the ready file).
    pub addrs: BTreeMap<String, SocketAddr>,
    /// The process ID, for `/proc`.
    pub pid: u32,
    child: Option<Child>,
    _dir: Option<PathBuf>,
}

impl Server {
    /// Starts `binary` with every port 0 and waits for its ready file.
    pub fn start(binary: &Path, extra_args: &[String], log: &Path) -> Result<Server> {
        let dir = std::env::temp_dir().join(format!("clew-torture-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let ready = dir.join("ready.json");
        let _ = std::fs::remove_file(&ready);
        let mut cmd = Command::new(binary);
        cmd.arg("--ready-file")
            .arg(&ready)
            .args(["--log-level", "warn"]);
        // The embedded store writes here; removed when the server is dropped.
        cmd.arg("--data-dir").arg(dir.join("data"));
        for name in TCP_LISTENERS.iter().chain(UDP_LISTENERS.iter()) {
            cmd.arg(format!("--{}-port", name.replace('_', "-")))
                .arg("0");
        }
        cmd.args(extra_args);
        let log_file = std::fs::File::create(log).with_context(|| format!("{}", log.display()))?;
        cmd.stdout(Stdio::null()).stderr(log_file);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready.exists() {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "clew exited before it was ready ({status}); see {}",
                    log.display()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!(
                    "clew wrote no ready file within 30 s; see {}",
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let addrs = read_ready_file(&ready)?;
        Ok(Server {
            addrs,
            pid: child.id(),
            child: Some(child),
            _dir: Some(dir),
        })
    }

    /// A clew started by someone else.
    pub fn attach(ready_file: &Path, pid: u32) -> Result<Server> {
        Ok(Server {
            addrs: read_ready_file(ready_file)?,
            pid,
            child: None,
            _dir: None,
        })
    }

    /// The address of listener `name`.
    pub fn addr(&self, name: &str) -> SocketAddr {
        *self
            .addrs
            .get(name)
            .unwrap_or_else(|| panic!("the ready file has no {name}"))
    }

    /// Whether the process still exists (and, if ours, has not exited).
    pub fn alive(&mut self) -> bool {
        if let Some(child) = &mut self.child {
            return matches!(child.try_wait(), Ok(None));
        }
        Path::new(&format!("/proc/{}", self.pid)).exists()
    }

    /// Resets the kernel's peak-RSS mark (VmHWM) so the next case measures
    /// its own peak. Best effort: needs permission to write clear_refs.
    pub fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
    }

    /// Stops the process if we started it (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        signal(child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(dir) = &self._dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[allow(unsafe_code)]
fn signal(pid: u32, sig: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) with a PID we spawned; no memory is shared.
    unsafe {
        libc::kill(pid, sig);
    }
}

fn read_ready_file(path: &Path) -> Result<BTreeMap<String, SocketAddr>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let map: BTreeMap<String, String> = serde_json::from_str(&text)?;
    map.into_iter()
        .map(|(k, v)| Ok((k, v.parse().with_context(|| format!("address {v:?}"))?)))
        .collect()
}

/// (VmRSS, VmHWM) of `pid`, in bytes.
pub fn rss_of(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Samples RSS every 50 ms in a thread and keeps the maximum.
pub struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    pid: u32,
}

impl RssSampler {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> RssSampler {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some((rss, _)) = rss_of(pid) {
                    p.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        RssSampler {
            peak,
            stop,
            thread: Some(thread),
            pid,
        }
    }

    /// Stops and returns the peak: the larger of the sampled maximum and the
    /// kernel's VmHWM (reset at the start of the case).
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let hwm = rss_of(self.pid).map(|(_, h)| h).unwrap_or(0);
        self.peak.load(Ordering::Relaxed).max(hwm)
    }
}

/// Raises this process's soft RLIMIT_NOFILE to the hard limit (the idle
/// connection cases open 10,000 sockets); returns the new soft limit.
#[allow(unsafe_code)]
pub fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write/read the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        lim.rlim_cur = lim.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        }
    }
    lim.rlim_cur
}
