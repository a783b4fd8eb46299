// Statistics per service and operation: count, total, self time (the part
// of a span not covered by its children), time on the critical path, min,
// max, average.

import { TraceModel } from './types';

export interface StatRow {
  service: string;
  operation: string;
  count: number;
  total: number;
  self: number;
  min: number;
  max: number;
  avg: number;
  errors: number;
  /** µs of the critical path spent in these spans (their own time on it). */
  critical: number;
}

type M = Pick<TraceModel, 'n' | 'parent' | 'start' | 'duration_' | 'service' | 'operation' | 'services' | 'operations' | 'flags'> & Partial<Pick<TraceModel, 'criticalSegments'>>;

/** Self time of every span: its duration minus the union of its children's intervals (clipped to it). */
export function selfTimes(m: M): Float64Array {
  const kids = new Map<number, number[]>();
  for (let i = 0; i < m.n; i++) {
    const p = m.parent[i];
    if (p >= 0) {
      let l = kids.get(p);
      if (!l) kids.set(p, (l = []));
      l.push(i);
    }
  }
  const self = new Float64Array(m.n);
  for (let i = 0; i < m.n; i++) {
    const s = m.start[i], e = s + m.duration_[i];
    const l = kids.get(i);
    if (!l) {
      self[i] = m.duration_[i];
      continue;
    }
    const iv = l.map((c) => [Math.max(s, m.start[c]), Math.min(e, m.start[c] + m.duration_[c])]).filter(([a, b]) => b > a).sort((a, b) => a[0] - b[0]);
    let covered = 0, curA = -Infinity, curB = -Infinity;
    for (const [a, b] of iv) {
      if (a > curB) {
        if (curB > curA) covered += curB - curA;
        curA = a;
        curB = b;
      } else curB = Math.max(curB, b);
    }
    if (curB > curA) covered += curB - curA;
    self[i] = Math.max(0, m.duration_[i] - covered);
  }
  return self;
}

export function statistics(m: M, by: 'operation' | 'service' = 'operation'): StatRow[] {
  const self = selfTimes(m);
  const onPath = new Float64Array(m.n);
  const segs = m.criticalSegments ?? new Float64Array(0);
  for (let k = 0; k + 2 < segs.length; k += 3) onPath[segs[k]] += segs[k + 2] - segs[k + 1];
  const rows = new Map<string, StatRow>();
  for (let i = 0; i < m.n; i++) {
    const service = m.services[m.service[i]];
    const operation = by === 'operation' ? m.operations[m.operation[i]] : '';
    const key = `${service}\u0000${operation}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { service, operation, count: 0, total: 0, self: 0, min: Infinity, max: -Infinity, avg: 0, errors: 0, critical: 0 }));
    const d = m.duration_[i];
    r.count++;
    r.total += d;
    r.self += self[i];
    r.critical += onPath[i];
    r.min = Math.min(r.min, d);
    r.max = Math.max(r.max, d);
    if (m.flags[i] & 1) r.errors++;
  }
  const out = [...rows.values()];
  out.forEach((r) => (r.avg = r.total / r.count));
  return out.sort((a, b) => b.self - a.self);
}
