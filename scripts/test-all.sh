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

step "store conformance suite and crash tests (every backend, feature testsuite)"
cargo test --locked -p clew-segment -p clew-store --all-features

step "client library against a running clew (UDP, HTTP, OTLP HTTP/gRPC senders, remote sampler)"
cargo build --locked -p clew
cargo test --locked -p clew-client --features otlp --no-run
run_dir=$(mktemp -d)
"${CARGO_TARGET_DIR:-$root/target}/debug/clew" --ready-file "$run_dir/ready.json" --data-dir "$run_dir/data" --log-level warn \
  $(for p in query-http admin-http collector-http agent-compact agent-binary agent-zipkin-compact \
             sampling-http query-grpc zipkin-http collector-grpc otlp-grpc otlp-http; do echo "--$p-port 0"; done) &
clew_pid=$!
trap 'kill $clew_pid 2>/dev/null || true; rm -rf "$run_dir"' EXIT
for _ in $(seq 200); do [ -s "$run_dir/ready.json" ] && break; sleep 0.05; done
if [ ! -s "$run_dir/ready.json" ]; then
  echo "clew did not start (no ready file after 10 s); the client round-trip tests need it" >&2
  exit 1
fi
addr() { "$CLEW_PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$run_dir/ready.json" "$1"; }
CLEW_QUERY_URL="http://$(addr query_http)" \
CLEW_AGENT_ADDR="$(addr agent_compact)" \
CLEW_COLLECTOR_URL="http://$(addr collector_http)/api/traces" \
CLEW_OTLP_URL="http://$(addr otlp_http)" \
CLEW_OTLP_GRPC_URL="http://$(addr otlp_grpc)" \
CLEW_SAMPLING_URL="http://$(addr sampling_http)" \
  cargo test --locked -p clew-client --features otlp --test server_roundtrip -- --nocapture 2>&1 | tee "$run_dir/roundtrip.log"
if grep -q "skipped:" "$run_dir/roundtrip.log"; then
  echo "server round-trip tests were skipped; every address must be set" >&2
  exit 1
fi
kill -TERM $clew_pid
wait $clew_pid

step "web UI: type check, Vitest, Playwright end-to-end (installs chromium and npm packages itself)"
scripts/test-ui.sh

step "all tests passed"
