//! Starting `clew` on free ports and talking to it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `clew` all-in-one on ephemeral ports; killed on drop.
pub struct Clew {
    child: Option<Child>,
    /// Listener name → bound address (from `--ready-file`).
    pub addrs: BTreeMap<String, SocketAddr>,
    _dir: TempDir,
}

/// A temp directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("clew-it-{}-{tag}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PORT_FLAGS: [&str; 12] = [
    "--query-http-port",
    "--admin-http-port",
    "--collector-http-port",
    "--agent-compact-port",
    "--agent-binary-port",
    "--agent-zipkin-compact-port",
    "--sampling-http-port",
    "--query-grpc-port",
    "--zipkin-http-port",
    "--collector-grpc-port",
    "--otlp-grpc-port",
    "--otlp-http-port",
];

impl Clew {
    /// Starts `clew` with every port 0 plus `extra` flags; waits until ready.
    pub fn start(extra: &[&str]) -> Clew {
        let dir = TempDir::new("run");
        let ready = dir.0.join("ready.json");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_clew"));
        for f in PORT_FLAGS {
            cmd.args([f, "0"]);
        }
        cmd.arg("--ready-file").arg(&ready);
        cmd.args(extra);
        cmd.env("CLEW_LOG_LEVEL", "warn");
        // The embedded store is the default: keep its data in this run's
        // temp dir, not ./clew-data under the crate.
        cmd.env("CLEW_DATA_DIR", dir.0.join("data"));
        cmd.stdout(Stdio::null()).stderr(Stdio::inherit());
        let child = cmd.spawn().expect("spawn clew");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut clew = Clew {
            child: Some(child),
            addrs: BTreeMap::new(),
            _dir: dir,
        };
        loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                let m: BTreeMap<String, String> = serde_json::from_str(&text).expect("ready JSON");
                clew.addrs = m
                    .into_iter()
                    .map(|(k, v)| (k, v.parse().expect("socket address")))
                    .collect();
                return clew;
            }
            if let Some(status) = clew
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("clew exited before becoming ready: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "clew did not become ready in 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process ID (to read its memory from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// A `VmHWM:`-style line of `/proc/{pid}/status`, in bytes.
    pub fn proc_status_bytes(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc status");
        let line = status
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no {key} in /proc status"));
        let kb: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .expect("a number of kB");
        kb * 1024
    }

    pub fn addr(&self, name: &str) -> SocketAddr {
        *self
            .addrs
            .get(name)
            .unwrap_or_else(|| panic!("no listener {name}"))
    }

    pub fn url(&self, listener: &str, path: &str) -> String {
        format!("http://{}{}", self.addr(listener), path)
    }

    pub fn query(&self, path: &str) -> String {
        self.url("query_http", path)
    }

    /// GET on the query port; returns (status, JSON body).
    pub fn get_json(&self, path: &str) -> (u16, Value) {
        let resp = reqwest::blocking::get(self.query(path)).expect("GET");
        let status = resp.status().as_u16();
        let text = resp.text().expect("body");
        let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        (status, v)
    }

    /// Polls `/api/traces/{id}` until it holds at least `spans` spans.
    pub fn wait_for_trace(&self, trace_id: &str, spans: usize) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, v) = self.get_json(&format!("/api/traces/{trace_id}"));
            if status == 200 {
                let n = v["data"][0]["spans"].as_array().map_or(0, Vec::len);
                if n >= spans {
                    return v["data"][0].clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "trace {trace_id} did not reach {spans} spans within 20 s; last answer {status}: {v}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "clew did not stop within 20 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Clew {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Finds a span in a Jaeger UI trace JSON by operation name.
pub fn span_by_op<'a>(trace: &'a Value, op: &str) -> &'a Value {
    trace["spans"]
        .as_array()
        .expect("spans array")
        .iter()
        .find(|s| s["operationName"] == op)
        .unwrap_or_else(|| panic!("no span {op} in {trace}"))
}

/// The value of a tag of a span, as (type, value).
pub fn tag<'a>(span: &'a Value, key: &str) -> Option<(&'a str, &'a Value)> {
    span["tags"]
        .as_array()?
        .iter()
        .find(|t| t["key"] == key)
        .map(|t| (t["type"].as_str().unwrap_or(""), &t["value"]))
}

/// The process of a span, resolved through the trace's `processes` map.
pub fn process_of<'a>(trace: &'a Value, span: &Value) -> &'a Value {
    let pid = span["processID"].as_str().expect("processID");
    &trace["processes"][pid]
}
