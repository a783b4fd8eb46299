//! The Python driver the interop tests talk to (`interop/propagation.py`).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// The Python with the third-party libraries, from `CLEW_PYTHON` (the test
/// command sets it to the project's venv). Without it the test says
/// "skipped" and passes, unless `CLEW_REQUIRE_INTEROP` is set, as it is
/// in `scripts/test-all.sh`: then a missing Python is a failure.
pub fn python() -> Option<String> {
    match std::env::var("CLEW_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var_os("CLEW_REQUIRE_INTEROP").is_none(),
                "CLEW_PYTHON is not set but CLEW_REQUIRE_INTEROP is: run scripts/test-all.sh"
            );
            eprintln!(
                "skipped: set CLEW_PYTHON to a Python with the packages of \
                 crates/clew/tests/interop/python/requirements.txt"
            );
            None
        }
    }
}

/// Runs `propagation.py FORMAT OP` with `input` on stdin; its JSON answer.
pub fn driver(py: &str, format: &str, op: &str, input: &Value) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/propagation.py");
    let mut child = Command::new(py)
        .args([script, format, op])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json from driver")
}
