// The service dependency graph for a time window (`/api/dependencies`),
// laid out in layers (callers left of callees); a click on a service opens
// a search for it.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { DependencyLink, fetchDependencies } from '../lib/api';
import { serviceColor } from '../lib/format';
import { navigate } from '../lib/router';
import { layoutDependencies } from '../model/depLayout';

const WINDOWS: [number, string][] = [
  [3600e3, 'Last hour'],
  [6 * 3600e3, 'Last 6 hours'],
  [86400e3, 'Last 24 hours'],
  [2 * 86400e3, 'Last 2 days'],
  [7 * 86400e3, 'Last 7 days'],
];

export function DependenciesPage({ query }: { query: URLSearchParams }) {
  const [lookback, setLookback] = useState(Number(query.get('lookback')) || 86400e3);
  const [links, setLinks] = useState<DependencyLink[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    setLinks(null);
    fetchDependencies(Date.now(), lookback)
      .then(setLinks)
      .catch((e) => setError(e.message));
  }, [lookback]);
  const layout = useMemo(() => (links ? layoutDependencies(links) : null), [links]);
  const pos = new Map(layout?.nodes.map((n) => [n.name, n]) ?? []);
  const W = 170, H = 44;
  return (
    <div class="page" style={{ display: 'flex', flexDirection: 'column', gap: 16 }}>
      <div class="card card-pad toolbar">
        <h1 style={{ flex: 1 }}>System Architecture</h1>
        <select value={lookback} onChange={(e) => setLookback(Number((e.target as HTMLSelectElement).value))} aria-label="Time window">
          {WINDOWS.map(([v, l]) => (
            <option value={v}>{l}</option>
          ))}
        </select>
      </div>
      <div class="card graph" style={{ overflow: 'auto' }} data-testid="dependency-graph">
        {error && <div class="banner error">{error}</div>}
        {!links && !error && (
          <div class="empty">
            <span class="spinner" />
          </div>
        )}
        {links && links.length === 0 && (
          <div class="empty">
            <h2>No dependencies in this window</h2>
            <p>Calls between services appear here once traces with cross-service spans arrive.</p>
          </div>
        )}
        {layout && links && links.length > 0 && (
          <svg width={layout.width + W} height={layout.height + 20}>
            <defs>
              <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" fill="var(--muted)" />
              </marker>
            </defs>
            {links.map((l) => {
              const a = pos.get(l.parent)!, b = pos.get(l.child)!;
              if (a === b) return null;
              const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
              const back = x2 <= x1;
              const mx = (x1 + x2) / 2;
              const d = back ? `M${a.x + W / 2},${a.y + H} C${a.x + W / 2},${a.y + H + 60} ${b.x + W / 2},${b.y + H + 60} ${b.x + W / 2},${b.y + H}` : `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
              return (
                <g>
                  <path class="edge" d={d} marker-end="url(#arrow)" style={{ strokeWidth: 1 + Math.min(4, Math.log10(l.callCount + 1)) }} />
                  <text class="edge-label" x={back ? (a.x + b.x) / 2 + W / 2 : mx} y={back ? Math.max(a.y, b.y) + H + 50 : (y1 + y2) / 2 - 6} text-anchor="middle">
                    {l.callCount}
                  </text>
                </g>
              );
            })}
            {layout.nodes.map((n) => (
              <g class="node clickable" transform={`translate(${n.x},${n.y})`} onClick={() => navigate(`/search?service=${encodeURIComponent(n.name)}&lookback=1h&limit=20`)} data-testid="dep-node">
                <title>Search traces of {n.name}</title>
                <rect width={W} height={H} rx={8} />
                <rect width={5} height={H} rx={2} style={{ fill: serviceColor(n.name), stroke: 'none' }} />
                <text x={14} y={20}>
                  {n.name.length > 22 ? n.name.slice(0, 21) + '…' : n.name}
                </text>
                <text x={14} y={35} class="sub">
                  {n.calls ? `${n.calls} calls in` : 'entry point'}
                </text>
              </g>
            ))}
          </svg>
        )}
      </div>
    </div>
  );
}
