// A trace generator of any size, for tests and benchmarks: the shape
// Jaeger UI was measured with (20 services, fan-out 1–8, 4 tags per span,
// some logs). Deterministic for a seed. Emits the compact format directly
// (what `/api/ui/traces/{id}` serves) and, for smaller sizes, Jaeger JSON.

import { flatten, spanIdHex, spanLogs, spanTags } from '../model/types';
export { encodeCompact } from '../model/binary';
export { spanIdHex, spanLogs, spanTags };
export { compactToJaeger } from '../model/convert';
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
  const tags: TagList[] = new Array(n);
  const logs: [number, TagList][][] = new Array(n);
  const kHttp = s('http.method'), kStatus = s('http.status_code'), kUrl = s('http.url'), kErr = s('error'), kKind = s('span.kind');
  const vGet = s('GET'), vEvent = s('event'), vMsg = s('message');
  const ids = new Uint32Array(2 * n);
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
    const kind = i === 0 ? 2 : rand() < 0.5 ? 3 : 2;
    flags[i] = (err ? 1 : 0) | 2 | (kind << 2);
    tags[i] = [kHttp, 0, vGet, kStatus, 2, err ? 500 : 200, kUrl, 0, s(`/api/v1/items/${i % 1000}`), kKind, 0, s(kind === 3 ? 'client' : 'server')];
    if (err) tags[i].push(kErr, 1, 1);
    logs[i] = rand() < 0.1 ? [[start[i] + Math.floor(duration[i] / 2), [vEvent, 0, vMsg, s('note'), 0, s(`step ${i % 100}`)]]] : [];
    const fan = 1 + Math.floor(rand() * 8);
    for (let c = 0; c < fan && next < n; c++) parent[next++] = i;
    ids[2 * i + 1] = i + 1;
  }
  return {
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
    ...flatten(tags, logs),
    refs: {},
    spanWarnings: {},
  };
}
