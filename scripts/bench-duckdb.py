#!/usr/bin/env python3
"""Clew's embedded store beside DuckDB on the same spans (issue 9's anchor).

One command, one run, one table:

    python3 scripts/bench-duckdb.py --spans 1000000
    python3 scripts/bench-duckdb.py --spans 10000000 --dir /tmp/clew-duckdb-10m

What it does, in order:
1. runs `store_bench --shape tracegen --print-sample` (release build of
   crates/clew-store/examples/store_bench.rs) and keeps its figures;
2. generates the *same* spans in Python (store_bench's splitmix64 streams,
   writer interleaving, times and `attr_KK=val_VV` counters, re-derived
   with numpy) and checks them against the trace IDs store_bench printed;
3. writes them once to a plain Parquet file (the load's source, untimed),
   bulk-loads that into an untuned DuckDB table (IDs as unsigned integers,
   attributes and process tags as MAPs, rows in time order) and writes the
   table as Parquet + zstd;
4. asks DuckDB (table and zstd Parquet) what store_bench asked Clew: trace
   by ID (200 lookups of store_bench's sampled traces), service + operation
   + 1 h, service + tag + 1 h and tag only over 24 h (limit 20, most recent
   first), with the same services, hours and tags per run;
5. prints a Markdown table with ratios, the load average before and after
   each half, and writes everything as JSON beside the data.

Needs duckdb 2.0.1, numpy and pyarrow: when they are missing the script
makes its own venv under /tmp (pinned duckdb) and re-runs itself there.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

VENV = "/tmp/clew-bench-duckdb-venv"
PACKAGES = ["duckdb==2.0.1", "numpy", "pyarrow"]

try:
    import duckdb
    import numpy as np
    import pyarrow as pa
except ImportError:
    if os.environ.get("CLEW_BENCH_DUCKDB_VENV"):
        raise
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", *PACKAGES], check=True)
    os.environ["CLEW_BENCH_DUCKDB_VENV"] = "1"
    os.execv(py, [py, *sys.argv])

HOUR = 3_600_000_000_000
DAY = 24 * HOUR
BASE = 1_700_000_000_000_000_000
GAMMA = 0x9E3779B97F4A7C15
CHILD_NS = 100_000
# Calls to the writer's generator per trace: high, low, start jitter, root
# span ID, nine child span IDs (store_bench's Gen::trace + Gen::tracegen).
CALLS_PER_TRACE = 13


def uptime():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def splitmix(seed, calls):
    """Outputs 1..=calls of store_bench's `Rng(seed)` (splitmix64)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.arange(1, calls + 1, dtype=np.uint64) * np.uint64(GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def traces(spans, writers):
    """One row per trace, as store_bench's `ingest` builds them."""
    n_traces = spans // 10
    cols = {k: [] for k in ["i", "t", "hi", "lo", "start", "root", "kids"]}
    for w in range(writers):
        idx = np.arange(w, n_traces, writers, dtype=np.int64)
        r = splitmix(w + 1, len(idx) * CALLS_PER_TRACE).reshape(len(idx), CALLS_PER_TRACE)
        cols["i"].append(idx)
        cols["t"].append(np.arange(len(idx), dtype=np.int64))
        cols["hi"].append(r[:, 0])
        cols["lo"].append(r[:, 1])
        jitter = (r[:, 2] % np.uint64(1_000_000)).astype(np.int64)
        cols["start"].append(BASE + idx * (DAY // n_traces) + jitter)
        cols["root"].append(r[:, 3])
        cols["kids"].append(r[:, 4:])
    cat = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.argsort(cat["i"], kind="stable")
    table = {k: cat[k][order] for k in ["i", "t", "hi", "lo", "start", "root"]}
    kids = cat["kids"][order]
    for c in range(9):
        table[f"c{c + 1}"] = kids[:, c]
    # store_bench's sample: traces with i % 997 == 0, writer by writer.
    sample = []
    for w in range(writers):
        mine = (cat["i"] % writers == w) & (cat["i"] % 997 == 0)
        for i, hi, lo in zip(cat["i"][mine], cat["hi"][mine], cat["lo"][mine]):
            sample.append((int(hi), int(lo), int(i)))
    return pa.table(table), sample


# Spans from the trace rows: the root `lets-go` (server, peer.service,
# peer.host.ipv4) and nine `child-span-NN` clients with 11 attributes each;
# a writer's attribute counter advances 11 per child, 99 per trace.
SPANS_SQL = """
SELECT hi AS trace_id_high, lo AS trace_id_low,
  CASE WHEN k = 0 THEN root ELSE list_value(c1,c2,c3,c4,c5,c6,c7,c8,c9)[k] END AS span_id,
  CASE WHEN k = 0 THEN NULL ELSE root END AS parent_span_id,
  printf('tracegen-%02d', i % 10) AS service,
  CASE WHEN k = 0 THEN 'lets-go' ELSE printf('child-span-%02d', k) END AS operation,
  CASE WHEN k = 0 THEN start ELSE start + (k - 1) * 100000 END AS start_ns,
  CASE WHEN k = 0 THEN 900000 ELSE 100000 END AS duration_ns,
  1 AS flags,
  CASE WHEN k = 0 THEN MAP {'span.kind': 'server', 'peer.service': 'tracegen-server',
                            'peer.host.ipv4': '1.1.1.1'}
  ELSE map_from_entries(list_prepend({'k': 'span.kind', 'v': 'client'},
       list_transform(range(11), lambda a: {
         'k': printf('attr_%02d', (t * 99 + (k - 1) * 11 + a) % 97),
         'v': printf('val_%02d', (t * 99 + (k - 1) * 11 + a) % 1000)})))
  END AS attributes,
  MAP {'hostname': 'tracegen', 'ip': '127.0.0.1', 'jaeger.version': 'clew-tracegen'}
    AS process_tags
FROM (SELECT *, unnest(range(10)) AS k FROM trace_rows)
"""

# What store_bench asks, as SQL: the 20 most recent traces with a matching
# span (IDs and trace start, as the anchor's queries answer).
TRACE_SQL = "SELECT * FROM {t} WHERE trace_id_high = $1 AND trace_id_low = $2"
SVC_OP_SQL = """SELECT trace_id_high, trace_id_low, min(start_ns) AS s FROM {t}
 WHERE service = $1 AND operation = $2 AND start_ns BETWEEN $3 AND $4
 GROUP BY ALL ORDER BY s DESC LIMIT 20"""
SVC_TAG_SQL = """SELECT trace_id_high, trace_id_low, min(start_ns) AS s FROM {t}
 WHERE service = $1 AND attributes[$2] = $3 AND start_ns BETWEEN $4 AND $5
 GROUP BY ALL ORDER BY s DESC LIMIT 20"""
TAG_SQL = """SELECT trace_id_high, trace_id_low, min(start_ns) AS s FROM {t}
 WHERE attributes[$1] = $2 AND start_ns BETWEEN $3 AND $4
 GROUP BY ALL ORDER BY s DESC LIMIT 20"""


def pct(times, p):
    s = sorted(times)
    return s[round((len(s) - 1) * p)]


def timed(con, sql, params_of, runs):
    times, found = [], 0
    for i in range(runs):
        t = time.perf_counter()
        rows = con.execute(sql, params_of(i)).fetchall()
        times.append((time.perf_counter() - t) * 1000)
        found += len(rows)
    return {"p50": pct(times, 0.5), "p99": pct(times, 0.99), "found": found}


# store_bench's `searches`: service i % 10, hour (i * 7) % 24, tag
# attr_{i % 97}=val_{(i * 13) % 1000}.
def window(i):
    hour = (i * 7) % 24
    return BASE + hour * HOUR, BASE + (hour + 1) * HOUR


def svc(i):
    return f"tracegen-{i % 10:02}"


def tag(i):
    return f"attr_{i % 97:02}", f"val_{(i * 13) % 1000:02}"


def queries(con, table, sample):
    out = {}
    out["trace_by_id"] = timed(
        con, TRACE_SQL.format(t=table),
        lambda i: list(sample[(i * 7919) % len(sample)][:2]), 200)
    out["svc_op_1h"] = timed(
        con, SVC_OP_SQL.format(t=table),
        lambda i: [svc(i), "lets-go", *window(i)], 50)
    out["svc_tag_1h"] = timed(
        con, SVC_TAG_SQL.format(t=table),
        lambda i: [svc(i), *tag(i), *window(i)], 50)
    out["tag_24h"] = timed(
        con, TAG_SQL.format(t=table),
        lambda i: [*tag(i), BASE, BASE + DAY], 20)
    return out


def run_store_bench(args, clew_dir):
    cmd = [args.store_bench, "--spans", str(args.spans), "--shape", "tracegen",
           "--dir", clew_dir, "--writers", str(args.writers), "--print-sample"]
    print("$", " ".join(cmd), flush=True)
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = {"sample": []}
    for line in text.splitlines():
        if line.startswith("sample "):
            _, hexid, i = line.split()
            res["sample"].append((int(hexid[:16], 16), int(hexid[16:], 16), int(i)))
            continue
        print("  clew:", line, flush=True)
        num = r"([0-9.]+)"
        pats = {
            "ingest": rf"disk store ingest .*: {num} spans/s",
            "restart": rf"^restart: {num} s",
            "bytes_per_span": rf"= {num} bytes/span \(data dir",
            "rss": rf"^peak RSS: {num} MiB",
        }
        for key, pat in pats.items():
            m = re.search(pat, line)
            if m:
                res[key] = float(m.group(1))
        for key, prefix in [("trace_by_id", "trace by ID"),
                            ("svc_op_1h", "service + operation + 1 h"),
                            ("svc_tag_1h", "service + tag + 1 h"),
                            ("tag_24h", "tag only, 24 h")]:
            if line.startswith(prefix):
                m = re.search(rf"p50 {num} ms, p99 {num} ms \((\d+)", line)
                res[key] = {"p50": float(m.group(1)), "p99": float(m.group(2)),
                            "found": int(m.group(3))}
    return res


def main():
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--writers", type=int, default=4, help="store_bench writers (and generator streams)")
    ap.add_argument("--dir", default="/tmp/clew-duckdb-bench")
    ap.add_argument("--store-bench", default=os.path.join(target, "release/examples/store_bench"))
    ap.add_argument("--skip-clew", action="store_true", help="DuckDB only (no ratios)")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    report = {"spans": args.spans, "duckdb": duckdb.__version__, "load": {}}

    clew = None
    if not args.skip_clew:
        report["load"]["clew_before"] = uptime()
        clew = run_store_bench(args, os.path.join(args.dir, "clew"))
        report["load"]["clew_after"] = uptime()

    report["load"]["duckdb_before"] = uptime()
    t = time.perf_counter()
    rows, sample = traces(args.spans, args.writers)
    if clew is not None:
        assert sample == clew["sample"], "Python's traces differ from store_bench's"
        print(f"  same traces: {len(sample)} sampled trace IDs match store_bench's", flush=True)
    src = os.path.join(args.dir, "source.parquet")
    db_path = os.path.join(args.dir, "spans.duckdb")
    zstd = os.path.join(args.dir, "spans-zstd.parquet")
    for p in (src, db_path, db_path + ".wal", zstd):
        if os.path.exists(p):
            os.remove(p)
    gen = duckdb.connect()
    gen.register("trace_rows", rows)
    gen.execute(f"COPY ({SPANS_SQL}) TO '{src}' (FORMAT parquet, COMPRESSION uncompressed)")
    gen.close()
    print(f"  generated {args.spans} spans in {time.perf_counter() - t:.1f} s", flush=True)

    con = duckdb.connect(db_path)
    t = time.perf_counter()
    con.execute(f"CREATE TABLE spans AS SELECT * FROM read_parquet('{src}')")
    con.execute("CHECKPOINT")
    load_s = time.perf_counter() - t
    os.remove(src)
    n = con.execute("SELECT count(*) FROM spans").fetchone()[0]
    assert n == args.spans, n
    con.execute(f"COPY spans TO '{zstd}' (FORMAT parquet, COMPRESSION zstd)")
    db_bytes = os.path.getsize(db_path) + (os.path.getsize(db_path + ".wal") if os.path.exists(db_path + ".wal") else 0)
    duck = {
        "load_spans_per_s": n / load_s,
        "load_s": load_s,
        "bytes_per_span": db_bytes / n,
        "parquet_zstd_bytes_per_span": os.path.getsize(zstd) / n,
        "table": queries(con, "spans", sample),
    }
    con.execute(f"CREATE VIEW pq AS SELECT * FROM read_parquet('{zstd}')")
    duck["parquet"] = queries(con, "pq", sample)
    con.close()
    report["load"]["duckdb_after"] = uptime()
    report["duckdb_results"] = duck
    if clew is not None:
        report["clew"] = {k: v for k, v in clew.items() if k != "sample"}
    with open(os.path.join(args.dir, "bench-duckdb.json"), "w") as f:
        json.dump(report, f, indent=1)
    print_table(report, clew, duck)


def print_table(report, clew, duck):
    def q(res, key, p):
        return res[key][p] if res and key in res else float("nan")

    print(f"\n{report['spans']:,} spans, tracegen shape, DuckDB {report['duckdb']}; load average: "
          + ", ".join(f"{k} {v}" for k, v in report["load"].items()))
    print("| | Clew (store_bench) | DuckDB table | DuckDB on Parquet+zstd | DuckDB table / Clew |")
    print("|---|---|---|---|---|")
    c = clew or {}
    bps = c.get("bytes_per_span", float("nan"))
    print(f"| bytes on disk / span | {bps:.2f} | {duck['bytes_per_span']:.2f} | "
          f"{duck['parquet_zstd_bytes_per_span']:.2f} | {duck['bytes_per_span'] / bps:.1f}× |")
    rate = c.get("ingest", float("nan"))
    print(f"| ingest, spans/s | {rate:,.0f} (fsync before every ack, 4 writers) | "
          f"{duck['load_spans_per_s']:,.0f} (bulk load from Parquet, not durable per batch) | — | "
          f"{duck['load_spans_per_s'] / rate:.2f}× |")
    for key, name in [("trace_by_id", "trace by ID"), ("svc_op_1h", "service + operation + 1 h"),
                      ("svc_tag_1h", "service + tag + 1 h"), ("tag_24h", "tag only, 24 h")]:
        cells = []
        for res in (c, duck["table"], duck["parquet"]):
            cells.append(f"{q(res, key, 'p50'):.2f} / {q(res, key, 'p99'):.2f} ms "
                         f"({res.get(key, {}).get('found', '?')} found)")
        ratio = q(duck["table"], key, "p50") / q(c, key, "p50")
        print(f"| {name}, p50 / p99 | {cells[0]} | {cells[1]} | {cells[2]} | {ratio:.1f}× (p50) |")


if __name__ == "__main__":
    main()
