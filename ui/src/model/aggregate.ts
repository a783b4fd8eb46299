// The span tree aggregated by path: spans with the same (service,
// operation) under the same aggregated parent become one node with a count
// and total duration. The trace graph draws it; comparing two traces diffs
// two of them.

import { TraceModel } from './types';

export interface AggNode {
  key: string;
  service: string;
  operation: string;
  count: number;
  total: number;
  errors: number;
  children: AggNode[];
}

type M = Pick<TraceModel, 'n' | 'order' | 'parent' | 'service' | 'operation' | 'services' | 'operations' | 'duration_' | 'flags'>;

/** Aggregated tree under a synthetic root (key ''). */
export function aggregate(m: M): AggNode {
  const root: AggNode = { key: '', service: '', operation: '', count: 0, total: 0, errors: 0, children: [] };
  const nodeOf = new Array<AggNode>(m.n);
  const childMaps = new Map<AggNode, Map<string, AggNode>>();
  for (let j = 0; j < m.n; j++) {
    const i = m.order[j];
    const p = m.parent[i];
    const parentNode = p >= 0 && nodeOf[p] ? nodeOf[p] : root;
    const service = m.services[m.service[i]];
    const operation = m.operations[m.operation[i]];
    const key = `${service}\u0000${operation}`;
    let map = childMaps.get(parentNode);
    if (!map) childMaps.set(parentNode, (map = new Map()));
    let node = map.get(key);
    if (!node) {
      node = { key, service, operation, count: 0, total: 0, errors: 0, children: [] };
      map.set(key, node);
      parentNode.children.push(node);
    }
    node.count++;
    node.total += m.duration_[i];
    if (m.flags[i] & 1) node.errors++;
    nodeOf[i] = node;
  }
  root.count = 1;
  return root;
}

export type DiffStatus = 'same' | 'added' | 'removed' | 'changed';

export interface DiffNode {
  service: string;
  operation: string;
  status: DiffStatus;
  a: { count: number; total: number; errors: number } | null;
  b: { count: number; total: number; errors: number } | null;
  children: DiffNode[];
}

/**
 * Structural diff of two aggregated trees: children are matched by
 * (service, operation); a node only in B is added, only in A removed, in
 * both with a different span count or error count changed.
 */
export function diffTrees(a: AggNode | null, b: AggNode | null): DiffNode {
  const pick = (n: AggNode | null) => (n ? { count: n.count, total: n.total, errors: n.errors } : null);
  const status: DiffStatus = !a ? 'added' : !b ? 'removed' : a.count !== b.count || a.errors !== b.errors ? 'changed' : 'same';
  const keys: string[] = [];
  const am = new Map((a?.children ?? []).map((c) => [c.key, c]));
  const bm = new Map((b?.children ?? []).map((c) => [c.key, c]));
  for (const c of a?.children ?? []) keys.push(c.key);
  for (const c of b?.children ?? []) if (!am.has(c.key)) keys.push(c.key);
  const n = (a ?? b)!;
  return {
    service: n.service,
    operation: n.operation,
    status,
    a: pick(a),
    b: pick(b),
    children: keys.map((k) => diffTrees(am.get(k) ?? null, bm.get(k) ?? null)),
  };
}

/** Counts of nodes per status in a diff tree. */
export function diffSummary(d: DiffNode): Record<DiffStatus, number> {
  const out: Record<DiffStatus, number> = { same: 0, added: 0, removed: 0, changed: 0 };
  const walk = (x: DiffNode, isRoot: boolean) => {
    if (!isRoot) out[x.status]++;
    x.children.forEach((c) => walk(c, false));
  };
  walk(d, true);
  return out;
}
