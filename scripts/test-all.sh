#!/usr/bin/env bash
# Clew's whole test suite, runnable on a fresh machine (Rust, Node, Python, git):
# installs the third-party clients the interop tests drive, then runs format,
# lint and every test. Usage: scripts/test-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
step() { printf '\n==> %s\n' "$*"; }

step "Python interop clients into .venv (jaeger-client, opentelemetry, py_zipkin)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r crates/clew/tests/interop/python/requirements.txt

step "Node interop clients (jaeger-client) via npm ci"
(cd crates/clew/tests/interop/node && npm ci --no-audit --no-fund --loglevel=error)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (unit, property, integration and interop tests)"
export CLEW_PYTHON="$root/.venv/bin/python"
export CLEW_NODE_DIR="$root/crates/clew/tests/interop/node"
export CLEW_REQUIRE_INTEROP=1
cargo test --workspace --locked

step "all tests passed"
