#!/usr/bin/env bash
# Runs fuzz targets one after another, never two at once, each for
# FUZZ_SECONDS (default 600) or FUZZ_RUNS executions (default 10 M),
# whichever comes first, at the lowest CPU priority; then minimises each
# corpus into corpus/<target>. Stable toolchain: RUSTC_BOOTSTRAP=1 and no
# sanitizer (see docs/reliability.md). Usage: fuzz/run-all.sh [target…]
# Per-target logs and a summary (results.tsv) go to $FUZZ_LOG_DIR
# (default /tmp/clew-fuzz-logs).
set -uo pipefail
cd "$(dirname "$0")"
here=$PWD
secs=${FUZZ_SECONDS:-600}
runs=${FUZZ_RUNS:-10000000}
logs=${FUZZ_LOG_DIR:-/tmp/clew-fuzz-logs}
mkdir -p "$logs" artifacts
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
[ -n "${FUZZ_NO_BUILD:-}" ] || RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz build --sanitizer none
bin_dir=$(ls -d target/*/release | head -1)
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "$logs/$t"
  seeds=()
  [ -d "seeds/$t" ] && seeds=("seeds/$t")
  start=$(date +%s)
  # -jobs=1: libFuzzer runs one worker and writes its output to fuzz-0.log.
  (cd "$logs/$t" && nice -n 19 "$here/$bin_dir/$t" -jobs=1 -workers=1 \
      -max_total_time="$secs" -runs="$runs" -timeout=10 -rss_limit_mb=2048 \
      -max_len=8192 -print_final_stats=1 -artifact_prefix="$here/artifacts/$t/" \
      "$here/corpus/$t" ${seeds[@]/#/$here/})
  rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(grep -h 'stat::number_of_executed_units' "$logs/$t"/fuzz-0.log | tail -1 | awk '{print $2}')
  cov=$(grep -h '^#[0-9]*.*cov:' "$logs/$t"/fuzz-0.log | tail -1 | sed 's/.*cov: \([0-9]*\).*ft: \([0-9]*\).*/cov=\1 ft=\2/')
  # Minimise: keep only inputs that add coverage.
  rm -rf "corpus/$t.min" && mkdir "corpus/$t.min"
  nice -n 19 "$bin_dir/$t" -merge=1 -rss_limit_mb=2048 -timeout=10 "corpus/$t.min" "corpus/$t" \
      > "$logs/$t/merge.log" 2>&1 && rm -rf "corpus/$t" && mv "corpus/$t.min" "corpus/$t"
  files=$(ls "corpus/$t" | wc -l)
  kb=$(( $(cat "corpus/$t"/* 2>/dev/null | wc -c) / 1024 ))
  crashes=$(ls "artifacts/$t" | wc -l)
  printf '%s\t%s\t%ss\t%s\t%s files\t%s KB\t%s artifacts\trc=%s\n' \
    "$t" "${execs:-?}" "$took" "${cov:-?}" "$files" "$kb" "$crashes" "$rc" | tee -a "$logs/results.tsv"
done
