//! Runs `examples/two_services.rs` (built by `cargo test`) against a fake
//! agent and checks that the frontend's and backend's spans form one trace.

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use clew_codec_jaeger::{Protocol, decode_emit_batch_args, parse_agent_envelope};
use clew_model::Bytes;

#[test]
fn two_processes_report_one_trace() {
    let exe = std::env::current_exe().expect("test path");
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("examples")
        .join(format!("two_services{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "example not built at {} (run the whole `cargo test -p clew-tracing`)",
        bin.display()
    );
    let agent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    agent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let out = Command::new(bin)
        .env(
            "CLEW_AGENT_ADDR",
            agent.local_addr().expect("addr").to_string(),
        )
        .output()
        .expect("run example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("frontend says: hello, clew"), "{stdout}");

    let mut services = Vec::new();
    let mut traces = Vec::new();
    let mut buf = vec![0u8; 65_536];
    while services.len() < 2 {
        let n = agent.recv(&mut buf).expect("datagram");
        let body = Bytes::copy_from_slice(&buf[..n]);
        let env = parse_agent_envelope(&body, Protocol::Compact).expect("envelope");
        let batch = decode_emit_batch_args(&body, env.args, Protocol::Compact).expect("batch");
        for s in &batch.spans {
            services.push(s.process.service_name.to_string());
            traces.push(s.trace_id);
        }
        services.dedup();
    }
    services.sort();
    assert_eq!(services, ["backend", "frontend"]);
    assert!(traces.windows(2).all(|w| w[0] == w[1]), "{traces:?}");
}
