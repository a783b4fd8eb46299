#!/usr/bin/env bash
# Ingest benchmark (not a test): clew-tracegen against a release `clew`
# all-in-one, one fresh server per case, on this machine's loopback.
#
# For each case it records spans offered (tracegen's JSON summary: sent plus
# refused, e.g. HTTP 503 when the ingest queue is full), spans the
# server received, rejected, dropped and stored (its /metrics), the server's
# CPU (utime+stime from /proc/<pid>/stat over the run and the drain after it,
# divided by the send time, so 100 % is one core busy for the whole run),
# its peak RSS (VmHWM) and the client's CPU. Prints one markdown table row per
# case and keeps raw files under $OUT. Method and results: docs/benchmarks.md.
#
# Knobs (environment):
#   CASES         cases to run [http-thrift udp-compact-300k udp-compact-max]
#                 (also: udp-binary-max, http-thrift-1w, and per protocol
#                 otlp-grpc, otlp-http, zipkin-json, zipkin-proto; `all` runs
#                 the three defaults and the four protocol cases)
#   REPEAT        runs of each case, each with a fresh server [1]
#   SECONDS_PER_CASE  send time per case [10]
#   HTTP_WORKERS  tracegen workers for HTTP and gRPC cases [2]
#   BATCH_SPANS   spans per request for Jaeger cases [500; Jaeger tracegen's]
#   OTLP_BATCH_SPANS  spans per request for OTLP and Zipkin cases [512; the
#                 OpenTelemetry SDKs' default max export batch]
#   UDP_WORKERS   tracegen workers for UDP cases [1]
#   UDP_RATE      spans/s cap of the udp-compact-300k case [300000]
#   MEMORY_MAX_SPANS / MEMORY_MAX_BYTES  store limits, large enough to avoid eviction
#   CLEW_TOML     extra TOML for the server's --config, e.g.
#                 $'[ingest]\nagent_decode_threads = 2'
#   SEARCH_LOAD   concurrent query loops run against the query API while
#                 tracegen sends [0]: each loop alternates a heavy search
#                 (one service, last hour, limit 1500) with a service + tag
#                 search (limit 20) and /api/services, back to back; the row
#                 then says how many queries finished and their mean and
#                 worst latency, so ingest with and without search compare
#   PERF=1        also sample the server with `perf record` and keep the top symbols
#   PERF_ARGS     perf record's sampling flags [-F 499 -g]; frame pointers are
#                 not kept by release builds, so for whole call stacks use
#                 "-F 199 --call-graph dwarf,32768" (larger perf.data)
#   SKIP_BUILD=1  reuse the release binaries already built
#   BIN_DIR       where the release binaries are [$CARGO_TARGET_DIR/release,
#                 else target/release]; the build step honours CARGO_TARGET_DIR
#   OUT           where raw results go [target/bench-ingest]
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
CASES=${CASES:-"http-thrift udp-compact-300k udp-compact-max"}
if [[ "$CASES" == all ]]; then
    CASES="http-thrift udp-compact-300k udp-compact-max otlp-grpc otlp-http zipkin-json zipkin-proto"
fi
REPEAT=${REPEAT:-1}
SECONDS_PER_CASE=${SECONDS_PER_CASE:-10}
HTTP_WORKERS=${HTTP_WORKERS:-2}
BATCH_SPANS=${BATCH_SPANS:-500}
OTLP_BATCH_SPANS=${OTLP_BATCH_SPANS:-512}
UDP_WORKERS=${UDP_WORKERS:-1}
UDP_RATE=${UDP_RATE:-300000}
MEMORY_MAX_SPANS=${MEMORY_MAX_SPANS:-20000000}
MEMORY_MAX_BYTES=${MEMORY_MAX_BYTES:-17179869184}
PERF=${PERF:-0}
SEARCH_LOAD=${SEARCH_LOAD:-0}
OUT=${OUT:-$ROOT/target/bench-ingest}
BIN_DIR=${BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/release}
CLEW=$BIN_DIR/clew
TRACEGEN=$BIN_DIR/clew-tracegen
TICKS=$(getconf CLK_TCK)

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release -p clew -p clew-tracegen >&2
fi
mkdir -p "$OUT"

SERVER_PID=
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

log() { echo "bench-ingest: $*" >&2; }

# ready_addr FILE KEY -> host:port from clew's --ready-file JSON.
ready_addr() { sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$1"; }

# cpu_ticks PID -> utime+stime in clock ticks (fields 14 and 15 of stat,
# counted after the ")" that ends the command name).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# metric FILE REGEX -> sum of every series whose name matches REGEX exactly.
metric() { awk -v re="^($2)(\\\\{|$)" '$1 ~ re {s += $NF} END {printf "%d\n", s}' "$1"; }

scrape() { curl -sf "http://$1/metrics" >"$2"; }

# thread_ticks PID -> "name ticks" per thread name (tokio numbers none of
# them, so every `clew-query` thread adds to one line). Threads that have
# exited are not counted; the per-case file is a guide to where the CPU
# went, the row's CPU column stays the process total.
thread_ticks() {
    for f in /proc/"$1"/task/*/stat; do
        sed 's/^[0-9]* (\(.*\)) [A-Z] /\1 /' "$f" 2>/dev/null
    done | awk '{n = $1; t = $12 + $13; s[n] += t} END {for (n in s) print n, s[n]}' | sort
}

# Every `--*-port` flag the server has, each set to 0, so the benchmark never
# collides with another process and keeps working as listeners are added.
PORT_FLAGS=()
for flag in $("$CLEW" --help | grep -oE -- '--[a-z-]+-port\b' | sort -u); do
    PORT_FLAGS+=("$flag" 0)
done

# start_server DIR -> starts clew on port 0 everywhere, waits for its ready file.
start_server() {
    local dir=$1
    local config=()
    rm -f "$dir/ready.json"
    # A fresh data directory per run: the disk store would otherwise reload
    # the previous run's blocks and count them as stored.
    rm -rf "$dir/data"
    if [[ -n "${CLEW_TOML:-}" ]]; then
        printf '%s\n' "$CLEW_TOML" >"$dir/clew.toml"
        config=(--config "$dir/clew.toml")
    fi
    "$CLEW" "${config[@]}" --listen-host 127.0.0.1 "${PORT_FLAGS[@]}" \
        --store "${STORE:-memory}" --data-dir "$dir/data" \
        --memory-max-spans "$MEMORY_MAX_SPANS" --memory-max-bytes "$MEMORY_MAX_BYTES" \
        --log-level warn --ready-file "$dir/ready.json" >"$dir/clew.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        [[ -s "$dir/ready.json" ]] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir/clew.log" >&2; return 1; }
        sleep 0.1
    done
    log "server did not become ready"; return 1
}

# wait_drained ADMIN DIR -> waits until the ingest queue is empty and the
# written counter stops moving (at most 120 s).
wait_drained() {
    local admin=$1 dir=$2 last=-1 now
    for _ in $(seq 240); do
        scrape "$admin" "$dir/metrics.txt"
        now=$(metric "$dir/metrics.txt" 'clew_spans_written_total')
        if [[ $(metric "$dir/metrics.txt" 'clew_ingest_queue_spans') == 0 && "$now" == "$last" ]]; then
            return 0
        fi
        last=$now
        sleep 0.5
    done
    log "queue did not drain within 120 s"
}

# json_field FILE KEY -> a number from tracegen's one-line JSON summary.
json_field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"; }

# search_loop QUERY_ADDR OUT STOPFILE N -> queries back to back until STOPFILE
# exists, one line per query: seconds, HTTP status, bytes. The service is
# tracegen's only one (it sends `tracegen-00` unless told `--services`), so
# every search finds what it asks for.
search_loop() {
    local addr=$1 out=$2 stop=$3 n=$4 i=0 url
    while [[ ! -e "$stop" ]]; do
        case $((i % 3)) in
        0) url="http://$addr/api/traces?service=tracegen-00&lookback=1h&limit=1500" ;;
        1) url="http://$addr/api/traces?service=tracegen-00&lookback=1h&limit=20&tags=%7B%22attr_$(printf %02d $((i % 97)))%22%3A%22val_$(printf %02d $((i % 1000)))%22%7D" ;;
        2) url="http://$addr/api/services" ;;
        esac
        curl -s -o /dev/null -w '%{time_total} %{http_code} %{size_download}\n' "$url" >>"$out" || echo "0 000 0" >>"$out"
        i=$((i + 1))
    done
}

ROWS=()
RUN=1

# run_case NAME TRANSPORT READY_KEY WORKERS RATE [BATCH] -- results under
# $OUT/NAME (or NAME.N when REPEAT > 1, N = $RUN).
run_case() {
    local name=$1 transport=$2 key=$3 workers=$4 rate=$5 batch=${6:-$BATCH_SPANS}
    local dir=$OUT/$name
    [[ "$REPEAT" -gt 1 ]] && dir=$OUT/$name.$RUN
    mkdir -p "$dir"
    log "case $name (run $RUN of $REPEAT): $transport, $workers worker(s), batches of $batch, rate ${rate:-unlimited}, ${SECONDS_PER_CASE}s"
    start_server "$dir"
    local admin target
    admin=$(ready_addr "$dir/ready.json" admin_http)
    target=$(ready_addr "$dir/ready.json" "$key")

    local perf_pid=
    if [[ "$PERF" == 1 ]] && command -v perf >/dev/null; then
        # shellcheck disable=SC2086 # PERF_ARGS is a list of flags
        perf record ${PERF_ARGS:--F 499 -g} -p "$SERVER_PID" -o "$dir/perf.data" \
            -- sleep "$SECONDS_PER_CASE" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    local search_pids=() query
    rm -f "$dir/search.stop" "$dir/search.txt"
    if [[ "$SEARCH_LOAD" -gt 0 ]]; then
        query=$(ready_addr "$dir/ready.json" query_http)
        for n in $(seq "$SEARCH_LOAD"); do
            search_loop "$query" "$dir/search.txt" "$dir/search.stop" "$n" &
            search_pids+=($!)
        done
    fi
    local ticks0 ticks1
    ticks0=$(cpu_ticks "$SERVER_PID")
    thread_ticks "$SERVER_PID" >"$dir/threads0.txt"
    local TIMEFORMAT='%U %S %R'
    { time "$TRACEGEN" --transport "$transport" --target "$target" --workers "$workers" \
        --duration "${SECONDS_PER_CASE}s" --rate "${rate:-0}" --batch-spans "$batch" \
        >"$dir/tracegen.json" 2>"$dir/tracegen.log"; } 2>"$dir/tracegen.time"
    touch "$dir/search.stop"
    [[ ${#search_pids[@]} -gt 0 ]] && wait "${search_pids[@]}"
    local searches=-
    if [[ -s "$dir/search.txt" ]]; then
        searches=$(awk '{n++; t += $1; if ($1 > m) m = $1; if ($2 != 200) bad++}
            END {printf "%d (mean %.0f ms, max %.0f ms, %d not 200)", n, t / n * 1000, m * 1000, bad}' "$dir/search.txt")
    fi
    wait_drained "$admin" "$dir"
    ticks1=$(cpu_ticks "$SERVER_PID")
    thread_ticks "$SERVER_PID" >"$dir/threads1.txt"
    # CPU seconds per thread name over the case, busiest first.
    join -a 2 -e 0 -o 0,1.2,2.2 "$dir/threads0.txt" "$dir/threads1.txt" |
        awk -v hz="$TICKS" '{printf "%s %.2f\n", $1, ($3 - $2) / hz}' | sort -k2 -rn >"$dir/threads.txt"
    local hwm_kb
    hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
    if [[ -n "$perf_pid" ]]; then
        wait "$perf_pid" || true
        perf report -i "$dir/perf.data" --no-children --sort dso,sym --stdio -g none \
            --percent-limit 1 2>/dev/null | grep -E '^ +[0-9]' | cut -c1-150 >"$dir/perf-top.txt" || true
    fi
    scrape "$admin" "$dir/metrics.txt"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=

    local m=$dir/metrics.txt
    local sent failed elapsed received rejected dropped stored evicted dgrams dgrams_dropped
    sent=$(json_field "$dir/tracegen.json" spans_sent)
    failed=$(json_field "$dir/tracegen.json" spans_failed)
    elapsed=$(json_field "$dir/tracegen.json" elapsed_s)
    received=$(metric "$m" 'clew_spans_received_total')
    rejected=$(metric "$m" 'clew_spans_rejected_total')
    dropped=$(metric "$m" 'clew_spans_dropped_total')
    stored=$(metric "$m" 'clew_(clew_)?store_spans')
    evicted=$(metric "$m" 'clew_(clew_)?store_evicted_spans_total')
    dgrams=$(metric "$m" 'clew_agent_datagrams_total')
    dgrams_dropped=$(metric "$m" 'clew_agent_datagrams_dropped_total')
    local client_cpu
    client_cpu=$(awk '{printf "%.0f", ($1 + $2) / $3 * 100}' "$dir/tracegen.time")

    local row
    row=$(awk -v name="$name" -v workers="$workers" -v rate="${rate:-0}" -v sent="$sent" -v failed="$failed" \
        -v el="$elapsed" -v rec="$received" -v rej="$rejected" -v drop="$dropped" \
        -v stored="$stored" -v ev="$evicted" -v ticks=$((ticks1 - ticks0)) -v hz="$TICKS" \
        -v hwm="$hwm_kb" -v searches="$searches" \
        -v ccpu="$client_cpu" -v dg="$dgrams" -v dgd="$dgrams_dropped" 'BEGIN {
            cpu_s = ticks / hz
            offered = sent + failed
            kept = stored + ev
            loss = (offered > 0) ? (offered - kept) / offered * 100 : 0
            cap = (rate > 0) ? rate : "none"
            per_cpu = (cpu_s > 0) ? kept / cpu_s : 0
            dgs = (dg > 0) ? dg " (" dgd " dropped)" : "-"
            printf("| %s | %s | %s | %d | %.0f | %d | %d | %d | %d | %d | %.2f | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %s |\n",
                name, workers, cap, offered, offered / el, failed, rec, rej + drop, stored, ev,
                loss, kept / el, cpu_s / el * 100, per_cpu, hwm / 1024, ccpu, dgs, searches)
        }')
    ROWS+=("$row")
    log "$row"
}

for case in $CASES; do
    for RUN in $(seq "$REPEAT"); do
        case $case in
        http-thrift) run_case "$case" http-thrift collector_http "$HTTP_WORKERS" 0 ;;
        http-thrift-1w) run_case "$case" http-thrift collector_http 1 0 ;;
        udp-compact-300k) run_case "$case" udp-compact agent_compact "$UDP_WORKERS" "$UDP_RATE" ;;
        udp-compact-max) run_case "$case" udp-compact agent_compact "$UDP_WORKERS" 0 ;;
        udp-binary-max) run_case "$case" udp-binary agent_binary "$UDP_WORKERS" 0 ;;
        otlp-grpc) run_case "$case" otlp-grpc otlp_grpc "$HTTP_WORKERS" 0 "$OTLP_BATCH_SPANS" ;;
        otlp-http) run_case "$case" otlp-http otlp_http "$HTTP_WORKERS" 0 "$OTLP_BATCH_SPANS" ;;
        zipkin-json) run_case "$case" zipkin-json zipkin_http "$HTTP_WORKERS" 0 "$OTLP_BATCH_SPANS" ;;
        zipkin-proto) run_case "$case" zipkin-proto zipkin_http "$HTTP_WORKERS" 0 "$OTLP_BATCH_SPANS" ;;
        *) log "unknown case $case"; exit 2 ;;
        esac
    done
done

{
    echo "<!-- $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)," \
        "$(nproc) cores, ${SECONDS_PER_CASE}s per case, x$REPEAT, CLEW_TOML=${CLEW_TOML:-none}, STORE=${STORE:-memory}, SEARCH_LOAD=$SEARCH_LOAD -->"
    echo "| case | workers | rate cap (spans/s) | spans offered | offered/s | refused (HTTP 503 or send error) | received | dropped + rejected | stored | evicted | loss % | stored/s | server CPU % | spans per server CPU-s | server peak RSS MiB | client CPU % | datagrams received (dropped) | searches during the run |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/results.md"
