// Compact trace → TraceModel: the tree (depth-first order, depth,
// descendants), clock-skew adjustment and the critical path. Pure
// functions, run in the worker and in unit tests.

import { criticalPath } from './critical';
import { adjustSkew, hostKeys } from './skew';
import { CompactTrace, FLAG_ERROR, TraceModel } from './types';

export interface Tree {
  order: Int32Array;
  pos: Int32Array;
  depth: Int32Array;
  descendants: Int32Array;
  childCount: Int32Array;
  /** Children lists as CSR: children of i are childList[childStart[i] .. childStart[i+1]). */
  childStart: Int32Array;
  childList: Int32Array;
  roots: Int32Array;
  maxDepth: number;
}

/**
 * Builds the span tree from parent indices. Children are ordered by start
 * time (then by index); roots likewise. Spans whose parent chain loops are
 * treated as roots. Iterative, so a million-deep chain cannot overflow.
 */
export function buildTree(parent: Int32Array, start: ArrayLike<number>): Tree {
  const n = parent.length;
  const childCount = new Int32Array(n);
  let rootCount = 0;
  for (let i = 0; i < n; i++) {
    const p = parent[i];
    if (p >= 0 && p < n && p !== i) childCount[p]++;
    else rootCount++;
  }
  const childStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) childStart[i + 1] = childStart[i] + childCount[i];
  const fill = childStart.slice(0, n);
  const childList = new Int32Array(childStart[n]);
  const roots: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = parent[i];
    if (p >= 0 && p < n && p !== i) childList[fill[p]++] = i;
    else roots.push(i);
  }
  const byStart = (a: number, b: number) => start[a] - start[b] || a - b;
  for (let i = 0; i < n; i++) {
    const a = childStart[i], b = childStart[i + 1];
    if (b - a > 16) childList.subarray(a, b).sort(byStart);
    else if (b - a > 1) {
      // Insertion sort: most spans have a few children, and a comparator call per step costs more than the sort.
      for (let x = a + 1; x < b; x++) {
        const c = childList[x], cs = start[c];
        let y = x - 1;
        while (y >= a && (start[childList[y]] > cs || (start[childList[y]] === cs && childList[y] > c))) {
          childList[y + 1] = childList[y];
          y--;
        }
        childList[y + 1] = c;
      }
    }
  }
  roots.sort(byStart);

  const order = new Int32Array(n);
  const pos = new Int32Array(n).fill(-1);
  const depth = new Int32Array(n);
  const descendants = new Int32Array(n);
  let k = 0;
  let maxDepth = 0;
  const stack: number[] = [];
  const visit = (root: number) => {
    stack.push(root);
    depth[root] = 0;
    while (stack.length) {
      const i = stack.pop()!;
      if (pos[i] >= 0) continue;
      pos[i] = k;
      order[k++] = i;
      if (depth[i] > maxDepth) maxDepth = depth[i];
      for (let c = childStart[i + 1] - 1; c >= childStart[i]; c--) {
        const ch = childList[c];
        if (pos[ch] < 0) {
          depth[ch] = depth[i] + 1;
          stack.push(ch);
        }
      }
    }
  };
  for (const r of roots) visit(r);
  // Spans in parent cycles are unreachable from any root: make them roots.
  const extraRoots: number[] = [];
  for (let i = 0; i < n; i++) {
    if (pos[i] < 0) {
      extraRoots.push(i);
      visit(i);
    }
  }
  // Descendant counts from the order: a span's subtree is contiguous.
  for (let j = n - 1; j >= 0; j--) {
    const i = order[j];
    let d = 0;
    for (let c = childStart[i]; c < childStart[i + 1]; c++) {
      const ch = childList[c];
      if (pos[ch] > j) d += 1 + descendants[ch];
    }
    descendants[i] = d;
  }
  return {
    order, pos, depth, descendants, childCount, childStart, childList,
    roots: Int32Array.from([...roots, ...extraRoots]), maxDepth,
  };
}

/** Builds the page's model from a compact trace. */
export function buildModel(doc: CompactTrace): TraceModel {
  const n = doc.spanCount ?? doc.parent.length;
  const parent = Int32Array.from(doc.parent);
  const start = Float64Array.from(doc.start);
  const duration = Float64Array.from(doc.duration);
  const flags = Int32Array.from(doc.flags);
  const tree = buildTree(parent, start);

  // Services and operations as their own small tables.
  const serviceIndex = new Map<string, number>();
  const services: string[] = [];
  const procService = doc.processes.map((p) => {
    const name = doc.strings[p.service] ?? '';
    let s = serviceIndex.get(name);
    if (s === undefined) {
      s = services.length;
      services.push(name);
      serviceIndex.set(name, s);
    }
    return s;
  });
  const service = new Int32Array(n);
  for (let i = 0; i < n; i++) service[i] = procService[doc.process[i]] ?? 0;
  const opIndex = new Map<number, number>();
  const operations: string[] = [];
  const operation = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = doc.operation[i];
    let o = opIndex.get(s);
    if (o === undefined) {
      o = operations.length;
      operations.push(doc.strings[s] ?? '');
      opIndex.set(s, o);
    }
    operation[i] = o;
  }

  // Hosts as small numbers per span (0: unknown), so the skew walk compares integers.
  const hostIds = new Map<string, number>([['', 0]]);
  const procHost = hostKeys(doc).map((h) => {
    let k = hostIds.get(h);
    if (k === undefined) hostIds.set(h, (k = hostIds.size));
    return k;
  });
  const spanHost = new Int32Array(n);
  for (let i = 0; i < n; i++) spanHost[i] = procHost[doc.process[i]] ?? 0;
  const skew = adjustSkew(tree.order, parent, start, duration, spanHost);

  let min = Infinity, max = -Infinity, errorCount = 0;
  for (let i = 0; i < n; i++) {
    if (start[i] < min) min = start[i];
    if (start[i] + duration[i] > max) max = start[i] + duration[i];
    if (flags[i] & FLAG_ERROR) errorCount++;
  }
  if (n === 0) min = max = 0;
  // Re-base so the earliest (adjusted) span starts at 0.
  if (min !== 0) for (let i = 0; i < n; i++) start[i] -= min;
  const cp = criticalPath(tree, start, duration);
  return {
    traceID: doc.traceID,
    startTime: doc.startTime + min,
    n,
    duration: max - min,
    services,
    operations,
    service,
    operation,
    parent,
    start,
    duration_: duration,
    flags,
    order: tree.order,
    pos: tree.pos,
    depth: tree.depth,
    descendants: tree.descendants,
    childCount: tree.childCount,
    critical: cp.onPath,
    criticalSegments: cp.segments,
    maxDepth: tree.maxDepth,
    errorCount,
    warnings: doc.warnings ?? [],
    skew,
    spanIDs: Uint32Array.from(doc.spanID),
  };
}

/** The rows shown when `collapsed` spans hide their subtrees. */
export function visibleRows(m: Pick<TraceModel, 'order' | 'descendants' | 'n'>, collapsed: Set<number>): Int32Array {
  if (collapsed.size === 0) return m.order;
  const out = new Int32Array(m.n);
  let k = 0;
  for (let j = 0; j < m.n; j++) {
    const i = m.order[j];
    out[k++] = i;
    if (collapsed.has(i)) j += m.descendants[i];
  }
  return out.subarray(0, k);
}
