//! Starting, health, metrics, configuration errors and clean shutdown.

use std::process::Command;

use crate::harness::{Clew, TempDir};

#[test]
fn health_and_metrics_on_the_admin_port() {
    let clew = Clew::start(&[]);
    let health: serde_json::Value = reqwest::blocking::get(clew.url("admin_http", "/"))
        .expect("GET /")
        .json()
        .expect("health JSON");
    assert_eq!(health["status"], "Server available");
    assert!(health["upSince"].as_str().is_some_and(|s| s.ends_with('Z')));

    let metrics = reqwest::blocking::get(clew.url("admin_http", "/metrics"))
        .expect("GET /metrics")
        .text()
        .expect("text");
    for family in [
        "clew_store_spans",
        "clew_store_traces",
        "clew_query_requests",
    ] {
        assert!(
            metrics.contains(family),
            "{family} missing from:\n{metrics}"
        );
    }
}

#[test]
fn sigterm_stops_cleanly() {
    let clew = Clew::start(&[]);
    let status = clew.terminate();
    assert!(status.success(), "exit status {status}");
}

#[test]
fn a_bad_config_key_is_one_line_naming_it() {
    let dir = TempDir::new("cfg");
    let path = dir.0.join("clew.toml");
    std::fs::write(&path, "[store]\nmemory_max_spanz = 5\n").expect("write config");
    let out = Command::new(env!("CARGO_BIN_EXE_clew"))
        .arg("--config")
        .arg(&path)
        .output()
        .expect("run clew");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("memory_max_spanz"), "{err}");
}

#[test]
fn help_lists_flags_with_their_environment_variables() {
    let out = Command::new(env!("CARGO_BIN_EXE_clew"))
        .arg("--help")
        .output()
        .expect("run clew --help");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for s in [
        "--query-http-port",
        "CLEW_QUERY_HTTP_PORT",
        "--sampling-strategies-file",
        "--config",
    ] {
        assert!(help.contains(s), "--help lacks {s}:\n{help}");
    }
}

#[test]
fn a_taken_port_names_the_listener() {
    let first = Clew::start(&[]);
    let port = first.addr("query_http").port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_clew"))
        .args(["--query-http-port", &port])
        .args([
            "--admin-http-port",
            "0",
            "--collector-http-port",
            "0",
            "--sampling-http-port",
            "0",
        ])
        .args([
            "--agent-compact-port",
            "0",
            "--agent-binary-port",
            "0",
            "--agent-zipkin-compact-port",
            "0",
        ])
        .output()
        .expect("run clew");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("query_http"), "{err}");
}
