//! The embedded store end to end: traces acknowledged by `clew` survive
//! `kill -9` and a restart, and `clew storage inspect|verify` read the data
//! directory.

use std::process::Command;

use clew_model::TraceId;

use crate::harness::{Clew, TempDir};
use crate::query_api::{fixture, send_fixture_over_http};

fn start(data: &TempDir) -> Clew {
    let dir = data.0.to_str().expect("utf-8 temp path");
    Clew::start(&["--store", "disk", "--data-dir", dir])
}

#[test]
fn traces_survive_kill_9_and_a_restart() {
    let data = TempDir::new("store");
    let clew = start(&data);
    send_fixture_over_http(&clew, &fixture(TraceId::new(0, 0x5107e)));
    // Visible to queries means written to the WAL and fsynced first.
    clew.wait_for_trace("5107e", 3);
    drop(clew); // SIGKILL: no shutdown, no flush.

    let clew = start(&data);
    let (status, v) = clew.get_json("/api/traces/5107e");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"][0]["spans"].as_array().map_or(0, Vec::len), 3);
    let (_, services) = clew.get_json("/api/services");
    assert!(
        services["data"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == "frontend")),
        "{services}"
    );
}

#[test]
fn storage_inspect_shows_the_blocks_and_verify_passes() {
    let data = TempDir::new("store");
    let clew = start(&data);
    send_fixture_over_http(&clew, &fixture(TraceId::new(0, 0x1b5)));
    clew.wait_for_trace("1b5", 3);
    // A clean shutdown cuts the head into a block.
    assert!(clew.terminate().success());

    let out = Command::new(env!("CARGO_BIN_EXE_clew"))
        .args(["storage", "inspect"])
        .arg(&data.0)
        .output()
        .expect("run clew storage inspect");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("1 blocks, 3 spans"), "{text}");
    assert!(text.contains("blocks/"), "{text}");

    let out = Command::new(env!("CARGO_BIN_EXE_clew"))
        .args(["storage", "verify"])
        .arg(&data.0)
        .output()
        .expect("run clew storage verify");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
