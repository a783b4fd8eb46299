// Clock-skew adjustment for display, Jaeger's algorithm (reference §10):
// walking the tree top-down, a child on a different host than its parent
// that does not fit inside the (already adjusted) parent is moved:
//  - longer than its parent: only so that it does not start before it;
//  - otherwise to the middle, assuming symmetric network latency:
//    delta = parent.start + (parent.duration − child.duration)/2 − child.start.
// Descendants on the child's host inherit the delta. Spans whose host is
// unknown are never moved. The server runs with clock-skew correction off
// (Jaeger's default), so the UI does it and says how many spans moved.

import { CompactTrace, SkewReport, TAG_STRING } from './types';

const HOST_KEYS = ['ip', 'host.ip', 'host.name', 'hostname', 'host.id', 'host'];

/** A host key per process index ('' when unknown). */
export function hostKeys(doc: Pick<CompactTrace, 'processes' | 'strings'>): string[] {
  return doc.processes.map((p) => {
    const t = p.tags;
    for (const want of HOST_KEYS) {
      for (let k = 0; k + 2 < t.length; k += 3) {
        if (doc.strings[t[k]] === want) {
          const v = t[k + 1] === TAG_STRING || t[k + 1] >= 4 ? doc.strings[t[k + 2]] : String(t[k + 2]);
          return `${want}=${v}`;
        }
      }
    }
    return '';
  });
}

/**
 * Adjusts `start` in place (µs). `order` lists parents before children.
 * `host[i]` is span i's host: a key, or a number standing for one ('' or
 * 0 = unknown); only equality is used.
 */
export function adjustSkew(
  order: Int32Array,
  parent: Int32Array,
  start: Float64Array,
  duration: Float64Array,
  host: ArrayLike<string | number>,
): SkewReport {
  const n = order.length;
  const delta = new Float64Array(n);
  let adjusted = 0;
  let maxDeltaUs = 0;
  for (let j = 0; j < n; j++) {
    const i = order[j];
    const p = parent[i];
    if (p < 0 || p >= n) continue;
    // Inherit the parent's shift first (the parent is already adjusted).
    let d = 0;
    const sameHost = host[i] === host[p];
    if (sameHost || !host[i] || !host[p]) {
      d = delta[p];
    } else {
      const ps = start[p], pe = ps + duration[p];
      const cs = start[i], ce = cs + duration[i];
      if (cs >= ps && ce <= pe) {
        d = 0;
      } else if (duration[i] > duration[p]) {
        d = cs < ps ? ps - cs : 0;
      } else {
        d = ps + (duration[p] - duration[i]) / 2 - cs;
      }
      if (d !== 0) {
        adjusted++;
        if (Math.abs(d) > maxDeltaUs) maxDeltaUs = Math.abs(d);
      }
    }
    delta[i] = d;
    if (d !== 0) start[i] += d;
  }
  return { adjusted, maxDeltaUs };
}
