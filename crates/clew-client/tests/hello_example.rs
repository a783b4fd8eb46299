//! Runs `examples/hello.rs` (built by `cargo test`) against a UDP socket
//! standing in for the agent, and checks what a user would see and what
//! the agent would receive.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use clew_codec_jaeger::{Protocol, decode_emit_batch_args, parse_agent_envelope};
use clew_model::Bytes;

fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let debug_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile> directory");
    debug_dir
        .join("examples")
        .join(format!("hello{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn hello_prints_two_reporting_lines_and_sends_one_trace() {
    let agent = UdpSocket::bind("127.0.0.1:0").expect("bind fake agent");
    agent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let bin = example_binary();
    assert!(bin.exists(), "example not built at {}", bin.display());
    let out = Command::new(&bin)
        .arg("--agent")
        .arg(agent.local_addr().expect("addr").to_string())
        .output()
        .expect("run example");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("Reporting span "))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");

    // `world` finishes first: trace:span:parent:flags, hex as Jaeger prints.
    let parse = |l: &str| -> Vec<String> {
        l.trim_start_matches("Reporting span ")
            .split(':')
            .map(str::to_owned)
            .collect()
    };
    let world = parse(lines[0]);
    let hello = parse(lines[1]);
    assert_eq!(world.len(), 4);
    assert_eq!(world[0], hello[0], "same trace");
    assert_eq!(world[2], hello[1], "world's parent is hello");
    assert_eq!(hello[2], "0000000000000000");
    assert_eq!((world[3].as_str(), hello[3].as_str()), ("1", "1"));
    for id in [&world[0], &world[1], &world[2], &hello[1]] {
        assert_eq!(id.len(), 16, "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    let mut buf = vec![0u8; 65_536];
    let n = agent.recv(&mut buf).expect("a datagram from the example");
    let body = Bytes::copy_from_slice(&buf[..n]);
    let env = parse_agent_envelope(&body, Protocol::Compact).expect("envelope");
    assert_eq!(env.method, "emitBatch");
    let batch = decode_emit_batch_args(&body, env.args, Protocol::Compact).expect("batch");
    let names: Vec<&str> = batch.spans.iter().map(|s| &*s.operation_name).collect();
    assert_eq!(names, ["world", "hello"]);
    assert_eq!(&*batch.spans[0].process.service_name, "hello-world");
    assert_eq!(batch.spans[0].trace_id.to_string(), world[0]);
    assert_eq!(
        batch.spans[0].parent_span_id(),
        Some(batch.spans[1].span_id)
    );
}
