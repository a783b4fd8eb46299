// Duration over start time, one dot per trace (size by span count, red
// outline when the trace has errors); a click opens the trace.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { TraceSummary } from '../lib/api';
import { fmtClock, fmtDuration, fmtTime, serviceColor } from '../lib/format';
import { navigate } from '../lib/router';

export function ScatterPlot({ traces }: { traces: TraceSummary[] }) {
  const H = 170, L = 64, R = 16, T = 12, B = 26;
  const [tip, setTip] = useState<{ x: number; y: number; t: TraceSummary } | null>(null);
  const ref = useRef<HTMLDivElement>(null);
  const [W, setW] = useState(900);
  useEffect(() => {
    const el = ref.current!;
    const ro = new ResizeObserver(() => setW(Math.max(300, el.clientWidth - 32)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  let x0 = Math.min(...traces.map((t) => t.start));
  let x1 = Math.max(...traces.map((t) => t.start));
  if (x1 - x0 < 1e6) {
    x0 -= 5e5;
    x1 += 5e5;
  }
  const yMax = Math.max(...traces.map((t) => t.duration)) * 1.1 || 1;
  const maxSpans = Math.max(...traces.map((t) => t.spanCount));
  const sx = (v: number) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const sy = (v: number) => T + (1 - v / yMax) * (H - T - B);
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => x0 + f * (x1 - x0));
  return (
    <div class="scatter" data-testid="scatter" ref={ref}>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H}>
        {yTicks.map((v) => (
          <g>
            <line class="grid" x1={L} x2={W - R} y1={sy(v)} y2={sy(v)} />
            <text x={L - 8} y={sy(v) + 4} text-anchor="end">
              {fmtDuration(v)}
            </text>
          </g>
        ))}
        {xTicks.map((v, k) => (
          <text x={sx(v)} y={H - 6} text-anchor={k === 0 ? 'start' : k === xTicks.length - 1 ? 'end' : 'middle'}>
            {x1 - x0 < 10e6 ? fmtTime(v).slice(11) : fmtClock(v)}
          </text>
        ))}
        {traces.map((t) => (
          <circle
            key={t.traceId}
            cx={sx(t.start)}
            cy={sy(t.duration)}
            r={4 + 6 * Math.sqrt(t.spanCount / maxSpans)}
            fill={serviceColor(t.rootServiceName)}
            stroke={t.errorSpanCount ? 'var(--error)' : serviceColor(t.rootServiceName)}
            onClick={() => navigate(`/trace/${t.traceId}`)}
            onMouseEnter={(e) => setTip({ x: (e as MouseEvent).clientX, y: (e as MouseEvent).clientY, t })}
            onMouseLeave={() => setTip(null)}
          />
        ))}
      </svg>
      {tip && (
        <div class="tooltip" style={{ left: tip.x + 12, top: tip.y + 12 }}>
          <b>
            {tip.t.rootServiceName}: {tip.t.rootOperationName}
          </b>
          <div>
            {fmtDuration(tip.t.duration)} · {tip.t.spanCount} spans{tip.t.errorSpanCount ? ` · ${tip.t.errorSpanCount} errors` : ''}
          </div>
        </div>
      )}
    </div>
  );
}
