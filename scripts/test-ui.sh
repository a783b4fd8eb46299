#!/usr/bin/env bash
# The web UI's tests, runnable on a fresh Debian 12 machine (Rust, Node.js
# 20+ with npm; run as root or with sudo for apt): installs Debian's
# Chromium, the UI's npm packages, then runs the type check, the Vitest unit
# tests, builds clew (which embeds the UI) and the reference `hello`
# example, and runs the Playwright end-to-end tests against a real clew.
# Screenshots land in ui/e2e/artifacts/.
#
# Usage: scripts/test-ui.sh           (CARGO_TARGET_DIR is honoured)
#        scripts/test-ui.sh --bench   (also the 10k/100k/1M-span benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
step() { printf '\n==> %s\n' "$*"; }

step "Chromium (Debian package) for the browser tests"
if ! [ -x /usr/bin/chromium ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
dpkg-query -W -f 'chromium ${Version}\n' chromium 2>/dev/null || /usr/bin/chromium --version 2>/dev/null

step "UI packages (npm ci in ui/)"
# Under the lock clew-query's build.rs takes, so a cargo build running at
# the same time never sees node_modules half installed.
touch ui/.clew-build.lock
flock ui/.clew-build.lock sh -c 'cd ui && npm ci --no-audit --no-fund --loglevel=error'

step "UI type check and unit tests (tsc, Vitest)"
(cd ui && npm run --silent typecheck && npx vitest run)

step "clew (embeds the UI build) and the reference hello example"
cargo build -p clew
cargo build -p clew-client --example hello
target_dir=$(cd "$root" && realpath -m "${CARGO_TARGET_DIR:-target}")

step "UI end-to-end tests (playwright-core driving /usr/bin/chromium against a real clew)"
(cd ui && CLEW_BIN="$target_dir/debug/clew" CLEW_HELLO_BIN="$target_dir/debug/examples/hello" node e2e/run.mjs)

if [ "${1:-}" = "--bench" ]; then
  step "UI benchmark (generated traces, Performance API timings)"
  (cd ui && CLEW_BIN="$target_dir/debug/clew" node e2e/bench.mjs)
fi

step "UI tests passed"
