// A left-to-right tree drawn in SVG: leaves get successive rows, a parent
// sits at the middle of its children. Used by the trace graph and by the
// compare page. Large trees are cut at MAX_NODES (and say so).

import { serviceColor } from '../lib/format';

export interface GNode {
  title: string;
  sub: string;
  service: string;
  cls?: string;
  children: GNode[];
}

const NODE_W = 230, NODE_H = 46, COL = 280, ROW = 58, MAX_NODES = 3000;

export function TreeGraph({ roots }: { roots: GNode[] }) {
  const placed: { n: GNode; x: number; y: number; px?: number; py?: number }[] = [];
  let leaf = 0;
  let count = 0;
  const place = (n: GNode, depth: number, parent?: { x: number; y: number }): number | null => {
    if (count >= MAX_NODES) return null;
    count++;
    const entry = { n, x: depth * COL + 16, y: 0, px: parent?.x, py: parent?.y };
    placed.push(entry);
    const ys: number[] = [];
    for (const c of n.children) {
      const y = place(c, depth + 1, entry);
      if (y !== null) ys.push(y);
    }
    entry.y = ys.length ? (ys[0] + ys[ys.length - 1]) / 2 : leaf++ * ROW + 16;
    return entry.y;
  };
  roots.forEach((r) => place(r, 0));
  // Parent positions were captured before their y was known: fix edges.
  const pos = new Map(placed.map((p) => [p.n, p]));
  const width = Math.max(...placed.map((p) => p.x)) + NODE_W + 32;
  const height = leaf * ROW + 32;
  const parentOf = new Map<GNode, GNode>();
  placed.forEach((p) => p.n.children.forEach((c) => parentOf.set(c, p.n)));
  return (
    <div class="graph" style={{ padding: 8 }}>
      {count >= MAX_NODES && <div class="banner">Showing the first {MAX_NODES} nodes.</div>}
      <svg width={width} height={height}>
        {placed.map((p) => {
          const par = parentOf.get(p.n);
          const q = par && pos.get(par);
          if (!q) return null;
          const x1 = q.x + NODE_W, y1 = q.y + NODE_H / 2, x2 = p.x, y2 = p.y + NODE_H / 2;
          const mx = (x1 + x2) / 2;
          return <path class="edge" d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`} />;
        })}
        {placed.map((p) => (
          <g class={`node ${p.n.cls ?? ''}`} transform={`translate(${p.x},${p.y})`}>
            <title>{`${p.n.title}\n${p.n.sub}`}</title>
            <rect width={NODE_W} height={NODE_H} rx={6} />
            <rect width={5} height={NODE_H} rx={2} style={{ fill: serviceColor(p.n.service), stroke: 'none' }} />
            <text x={14} y={19}>
              {p.n.title.length > 32 ? p.n.title.slice(0, 31) + '…' : p.n.title}
            </text>
            <text x={14} y={35} class="sub">
              {p.n.sub.length > 38 ? p.n.sub.slice(0, 37) + '…' : p.n.sub}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}
