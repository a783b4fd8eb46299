#!/bin/bash
# Full disk through the real `clew` binary (docs/reliability.md, "Full
# disk"): the data directory on a 16 MiB tmpfs, 10 MiB of it taken by a
# ballast file; clew-tracegen sends until the disk is full, then the
# ballast goes, clew-tracegen sends again, clew stops with SIGTERM and
# starts again. Prints what clew-tracegen had acknowledged and what clew
# holds (`store_spans` on /metrics) at each step: they must be equal.
# Needs root (mount). BIN: directory holding `clew` and `clew-tracegen`.
set -eu
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/debug}
WORK=$(mktemp -d /tmp/clew-full-disk-XXXX)
D=$WORK/fs
mkdir "$D"
if ! mount -t tmpfs -o size=16m tmpfs "$D"; then
  echo "skipped: cannot mount a tmpfs (needs root)"
  exit 0
fi
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  umount "$D" || umount -l "$D"
  rm -rf "$WORK"
}
trap cleanup EXIT
head -c $((10 << 20)) /dev/urandom > "$D/ballast"
PORTS=()
for p in query-http admin-http collector-http agent-compact agent-binary agent-zipkin-compact \
         sampling-http query-grpc zipkin-http collector-grpc otlp-grpc otlp-http; do
  PORTS+=("--$p-port" 0)
done
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$WORK/ready.json" "$1"; }
start() {
  rm -f "$WORK/ready.json"
  "$BIN/clew" --data-dir "$D/data" --ready-file "$WORK/ready.json" "${PORTS[@]}" >> "$WORK/clew.log" 2>&1 &
  PID=$!
  for _ in $(seq 300); do [ -s "$WORK/ready.json" ] && break; sleep 0.1; done
  COL=$(field collector_http)
  ADM=$(field admin_http)
}
stored() { curl -s "http://$ADM/metrics" | grep -E "^clew_store_(spans|disk_wal_write_errors|disk_blocks) " | tr '\n' ' '; echo; }
send() { "$BIN/clew-tracegen" --transport http-thrift --target "http://$COL" --workers 2 --duration "$1" --quiet 2>/dev/null | tail -1; }

start
echo "1. fill the disk:  $(send 20s)"
kill -0 "$PID" && echo "   clew still running; $(df -h "$D" | tail -1 | awk '{print $5 " used"}'); $(stored)"
rm "$D/ballast"
echo "2. space is back:  $(send 5s)"
echo "   $(stored)"
kill -TERM "$PID"; wait "$PID" && echo "3. SIGTERM: clean exit"
PID=
start
echo "4. restarted:      $(stored)"
echo "   panics in clew's log: $(grep -ci panic "$WORK/clew.log" || true)"
grep -m1 -E "os error 28" "$WORK/clew.log" | sed 's/^/   first error: /' || true
