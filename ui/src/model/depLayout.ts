// Layered layout of the service dependency graph: callers left of callees.

import type { DependencyLink } from '../lib/api';

export interface Layout {
  nodes: { name: string; x: number; y: number; calls: number }[];
  width: number;
  height: number;
}

/** Layers by longest path from a source (cycles broken by visit order), order by barycentre. */
export function layoutDependencies(links: DependencyLink[]): Layout {
  const names = [...new Set(links.flatMap((l) => [l.parent, l.child]))].sort();
  const out = new Map<string, string[]>(names.map((n) => [n, []]));
  links.forEach((l) => l.parent !== l.child && out.get(l.parent)!.push(l.child));
  // Break cycles: a depth-first walk from the entry points (services nobody
  // calls first) drops edges back to a service still on the walk's stack.
  const indeg = new Map<string, number>(names.map((n) => [n, 0]));
  links.forEach((l) => l.parent !== l.child && indeg.set(l.child, indeg.get(l.child)! + 1));
  const state = new Map<string, 0 | 1 | 2>();
  const dag = new Map<string, string[]>(names.map((n) => [n, []]));
  const topo: string[] = [];
  const visit = (root: string) => {
    const stack: [string, number][] = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const kids = out.get(top[0])!;
      if (top[1] < kids.length) {
        const c = kids[top[1]++];
        const st = state.get(c) ?? 0;
        if (st === 1) continue; // back edge: part of a cycle
        dag.get(top[0])!.push(c);
        if (st === 0) {
          state.set(c, 1);
          stack.push([c, 0]);
        }
      } else {
        state.set(top[0], 2);
        topo.push(top[0]);
        stack.pop();
      }
    }
  };
  for (const n of [...names].sort((a, b) => indeg.get(a)! - indeg.get(b)!)) if (!state.get(n)) visit(n);
  topo.reverse();
  // Longest path from an entry point, over the acyclic edges.
  const layer = new Map<string, number>(names.map((n) => [n, 0]));
  for (const n of topo) for (const c of dag.get(n)!) layer.set(c, Math.max(layer.get(c)!, layer.get(n)! + 1));
  const layers: string[][] = [];
  names.forEach((n) => (layers[layer.get(n)!] ??= []).push(n));
  const ypos = new Map<string, number>();
  layers.forEach((ns, k) => {
    if (k > 0) {
      const bary = (n: string) => {
        const ps = links.filter((l) => l.child === n && ypos.has(l.parent)).map((l) => ypos.get(l.parent)!);
        return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : 0;
      };
      ns.sort((a, b) => bary(a) - bary(b));
    }
    ns.forEach((n, i) => ypos.set(n, i));
  });
  const COL = 240, ROW = 80;
  const maxRows = Math.max(1, ...layers.map((l) => l?.length ?? 0));
  const calls = new Map<string, number>();
  links.forEach((l) => calls.set(l.child, (calls.get(l.child) ?? 0) + l.callCount));
  const nodes = names.map((name) => {
    const k = layer.get(name)!;
    const offset = ((maxRows - layers[k].length) * ROW) / 2;
    return { name, x: 40 + k * COL, y: 40 + offset + ypos.get(name)! * ROW, calls: calls.get(name) ?? 0 };
  });
  return { nodes, width: 40 + layers.length * COL, height: 40 + maxRows * ROW };
}

