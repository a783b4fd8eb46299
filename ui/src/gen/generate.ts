// A trace generator of any size, for tests and benchmarks: the shape
// Jaeger UI was measured with (20 services, fan-out 1–8, 4 tags per span,
// some logs). Deterministic for a seed. Emits the compact format directly
// (what `/api/ui/traces/{id}` serves) and, for smaller sizes, Jaeger JSON.

import { COMPACT_FORMAT, spanLogs, spanTags } from '../model/types';
import type { CompactTrace, TagList } from '../model/types';

/** mulberry32 */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenOptions {
  spans: number;
  services?: number;
  seed?: number;
  /** Fraction of spans with an error tag. */
  errorRate?: number;
}

export function generateCompact(o: GenOptions): CompactTrace {
  const n = o.spans;
  const nsvc = o.services ?? 20;
  const rand = rng(o.seed ?? 1);
  const strings: string[] = [''];
  const idx = new Map<string, number>([['', 0]]);
  const s = (x: string) => {
    let i = idx.get(x);
    if (i === undefined) {
      i = strings.length;
      strings.push(x);
      idx.set(x, i);
    }
    return i;
  };
  const processes = Array.from({ length: nsvc }, (_, k) => ({
    service: s(`service-${String(k).padStart(2, '0')}`),
    tags: [s('hostname'), 0, s(`host-${k}`), s('ip'), 0, s(`10.0.${k >> 8}.${k & 255}`), s('client-uuid'), 0, s(`uuid-${k}`)],
  }));
  const ops = Array.from({ length: 40 }, (_, k) => s(`op-${k}`));
  const parent = new Array<number>(n);
  const start = new Array<number>(n);
  const duration = new Array<number>(n);
  const process = new Array<number>(n);
  const operation = new Array<number>(n);
  const flags = new Array<number>(n);
  const tagStart = [0];
  const tagData: number[] = [];
  const logStart = [0];
  const logTime: number[] = [];
  const logFieldStart = [0];
  const logData: number[] = [];
  const kHttp = s('http.method'), kStatus = s('http.status_code'), kUrl = s('http.url'), kErr = s('error'), kKind = s('span.kind');
  const vGet = s('GET'), vEvent = s('event'), vMsg = s('message');
  let ids = '';
  // Breadth-first: each span gets 1–8 children until n spans exist.
  parent[0] = -1;
  start[0] = 0;
  duration[0] = 10_000_000;
  process[0] = 0;
  let next = 1;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const p = parent[i];
      const room = duration[p];
      const off = Math.floor(rand() * room * 0.5);
      start[i] = start[p] + off;
      duration[i] = Math.max(1, Math.floor((room - off) * (0.2 + rand() * 0.7)));
      process[i] = rand() < 0.3 ? process[p] : Math.floor(rand() * nsvc);
    }
    operation[i] = ops[Math.floor(rand() * ops.length)];
    const err = rand() < (o.errorRate ?? 0.01);
    flags[i] = (err ? 1 : 0) | 2 | ((i === 0 ? 2 : rand() < 0.5 ? 3 : 2) << 2);
    tagData.push(kHttp, 0, vGet, kStatus, 2, err ? 500 : 200, kUrl, 0, s(`/api/v1/items/${i % 1000}`), kKind, 0, s(i % 2 ? 'client' : 'server'));
    if (err) tagData.push(kErr, 1, 1);
    tagStart.push(tagData.length);
    if (rand() < 0.1) {
      logTime.push(start[i] + Math.floor(duration[i] / 2));
      logData.push(vEvent, 0, vMsg, s('note'), 0, s(`step ${i % 100}`));
      logFieldStart.push(logData.length);
    }
    logStart.push(logTime.length);
    const fan = 1 + Math.floor(rand() * 8);
    for (let c = 0; c < fan && next < n; c++) parent[next++] = i;
    ids += (i + 1).toString(16).padStart(16, '0');
  }
  return {
    format: COMPACT_FORMAT as CompactTrace['format'],
    traceID: `${(o.seed ?? 1).toString(16).padStart(16, '0')}${n.toString(16).padStart(16, '0')}`,
    startTime: 1_750_000_000_000_000,
    spanCount: n,
    warnings: [],
    strings,
    processes,
    spanID: ids,
    parent,
    start,
    duration,
    process,
    operation,
    flags,
    tagStart,
    tagData,
    logStart,
    logTime,
    logFieldStart,
    logData,
    refs: {},
    spanWarnings: {},
  };
}

/** The same trace as Jaeger UI JSON (`{"data": [trace]}`). */
export function compactToJaeger(d: CompactTrace): any {
  const tag = (t: TagList) => {
    const out = [];
    for (let k = 0; k + 2 < t.length; k += 3) {
      const type = ['string', 'bool', 'int64', 'float64', 'binary', 'string'][t[k + 1]];
      const v = t[k + 1] === 1 ? !!t[k + 2] : t[k + 1] === 2 || t[k + 1] === 3 ? t[k + 2] : d.strings[t[k + 2]];
      out.push({ key: d.strings[t[k]], type, value: v });
    }
    return out;
  };
  const processes: any = {};
  d.processes.forEach((p, k) => (processes[`p${k + 1}`] = { serviceName: d.strings[p.service], tags: tag(p.tags) }));
  const sid = (i: number) => d.spanID.slice(i * 16, i * 16 + 16);
  return {
    data: [
      {
        traceID: d.traceID,
        processes,
        warnings: null,
        spans: d.parent.map((p, i) => ({
          traceID: d.traceID,
          spanID: sid(i),
          operationName: d.strings[d.operation[i]],
          references: p >= 0 ? [{ refType: 'CHILD_OF', traceID: d.traceID, spanID: sid(p) }] : [],
          startTime: d.startTime + d.start[i],
          duration: d.duration[i],
          tags: tag(spanTags(d, i)),
          logs: spanLogs(d, i).map(([ts, f]) => ({ timestamp: d.startTime + ts, fields: tag(f) })),
          processID: `p${d.process[i] + 1}`,
          warnings: null,
        })),
      },
    ],
  };
}
