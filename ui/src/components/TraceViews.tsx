// The alternative views of one trace: statistics, span table, flame graph,
// trace graph and raw JSON.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { traceJsonUrl } from '../lib/api';
import { fmtDuration, serviceColor } from '../lib/format';
import { traceJaegerJson } from '../lib/traceClient';
import { aggregate, AggNode } from '../model/aggregate';
import { statistics, StatRow } from '../model/stats';
import { FLAG_ERROR, spanIdAt, TraceModel } from '../model/types';
import { GNode, TreeGraph } from './TreeGraph';

function useSort<T>(rows: T[], initial: keyof T, desc = true) {
  const [key, setKey] = useState<keyof T>(initial);
  const [dsc, setDsc] = useState(desc);
  const sorted = useMemo(() => {
    const r = [...rows].sort((a, b) => {
      const x = a[key] as any, y = b[key] as any;
      return typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
    });
    return dsc ? r.reverse() : r;
  }, [rows, key, dsc]);
  const th = (k: keyof T, label: string, num = true) => (
    <th class={num ? 'num' : ''} onClick={() => (k === key ? setDsc(!dsc) : (setKey(k), setDsc(num)))}>
      {label}
      {k === key ? (dsc ? ' ↓' : ' ↑') : ''}
    </th>
  );
  return { sorted, th };
}

export function StatsTable({ model }: { model: TraceModel }) {
  const [by, setBy] = useState<'operation' | 'service'>('operation');
  const rows = useMemo(() => statistics(model, by), [model, by]);
  const { sorted, th } = useSort<StatRow>(rows, 'self');
  return (
    <div class="view-scroll" data-testid="stats-view">
      <div class="toolbar" style={{ padding: '10px 20px' }}>
        <span class="muted">Group by</span>
        <div class="seg">
          <button class={by === 'service' ? 'active' : ''} onClick={() => setBy('service')}>
            Service
          </button>
          <button class={by === 'operation' ? 'active' : ''} onClick={() => setBy('operation')}>
            Service + operation
          </button>
        </div>
      </div>
      <table class="grid">
        <thead>
          <tr>
            {th('service', 'Service', false)}
            {by === 'operation' && th('operation', 'Operation', false)}
            {th('count', 'Count')}
            {th('errors', 'Errors')}
            {th('total', 'Total')}
            {th('self', 'Self time')}
            {th('critical', 'Critical path')}
            {th('avg', 'Avg')}
            {th('min', 'Min')}
            {th('max', 'Max')}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr>
              <td>
                <span class="swatch" style={{ background: serviceColor(r.service), marginRight: 6 }} />
                {r.service}
              </td>
              {by === 'operation' && <td>{r.operation}</td>}
              <td class="num">{r.count}</td>
              <td class="num" style={r.errors ? { color: 'var(--error)' } : undefined}>
                {r.errors}
              </td>
              <td class="num">{fmtDuration(r.total)}</td>
              <td class="num">{fmtDuration(r.self)}</td>
              <td class="num" title="Time on the critical path, and its share of the trace">
                {r.critical > 0 ? `${fmtDuration(r.critical)} · ${Math.round((r.critical / (model.duration || 1)) * 100)}%` : '–'}
              </td>
              <td class="num">{fmtDuration(r.avg)}</td>
              <td class="num">{fmtDuration(r.min)}</td>
              <td class="num">{fmtDuration(r.max)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const TABLE_ROW = 31;

/** Every span, sortable; rows are virtualised so a million spans scroll. */
export function SpanTable({ model, onOpen }: { model: TraceModel; onOpen: (i: number) => void }) {
  const [sortKey, setSortKey] = useState<'start' | 'duration' | 'service' | 'operation'>('start');
  const [desc, setDesc] = useState(false);
  const [top, setTop] = useState(0);
  const [h, setH] = useState(600);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => setH(ref.current?.clientHeight ?? 600), []);
  const idx = useMemo(() => {
    const a = new Int32Array(model.n).map((_, i) => i);
    const k: Record<string, (x: number, y: number) => number> = {
      start: (x, y) => model.start[x] - model.start[y],
      duration: (x, y) => model.duration_[x] - model.duration_[y],
      service: (x, y) => model.services[model.service[x]].localeCompare(model.services[model.service[y]]),
      operation: (x, y) => model.operations[model.operation[x]].localeCompare(model.operations[model.operation[y]]),
    };
    a.sort(k[sortKey]);
    return desc ? a.reverse() : a;
  }, [model, sortKey, desc]);
  const first = Math.max(0, Math.floor(top / TABLE_ROW) - 5);
  const last = Math.min(model.n, first + Math.ceil(h / TABLE_ROW) + 10);
  const th = (k: typeof sortKey, label: string, num = false) => (
    <th class={num ? 'num' : ''} onClick={() => (k === sortKey ? setDesc(!desc) : (setSortKey(k), setDesc(k === 'duration')))}>
      {label}
      {k === sortKey ? (desc ? ' ↓' : ' ↑') : ''}
    </th>
  );
  return (
    <div class="view-scroll" ref={ref} onScroll={(e) => setTop((e.target as HTMLElement).scrollTop)} data-testid="span-table">
      <table class="grid">
        <thead>
          <tr>
            {th('service', 'Service')}
            {th('operation', 'Operation')}
            <th>Span ID</th>
            {th('start', 'Start', true)}
            {th('duration', 'Duration', true)}
          </tr>
        </thead>
        <tbody>
          <tr style={{ height: `${first * TABLE_ROW}px` }} />
          {Array.from(idx.subarray(first, last), (i) => (
            <tr style={{ height: `${TABLE_ROW}px`, cursor: 'pointer' }} onClick={() => onOpen(i)}>
              <td>
                <span class="swatch" style={{ background: serviceColor(model.services[model.service[i]]), marginRight: 6 }} />
                {model.services[model.service[i]]}
              </td>
              <td style={model.flags[i] & FLAG_ERROR ? { color: 'var(--error)' } : undefined}>{model.operations[model.operation[i]]}</td>
              <td class="mono">{spanIdAt(model, i)}</td>
              <td class="num">+{fmtDuration(model.start[i])}</td>
              <td class="num">{fmtDuration(model.duration_[i])}</td>
            </tr>
          ))}
          <tr style={{ height: `${(model.n - last) * TABLE_ROW}px` }} />
        </tbody>
      </table>
    </div>
  );
}

/** Flame graph (icicle): x is time, y is depth; hover names a span, click zooms. */
export function FlameGraph({ model, theme }: { model: TraceModel; theme: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const wrap = useRef<HTMLDivElement>(null);
  const [range, setRange] = useState<[number, number]>([0, model.duration || 1]);
  const [tip, setTip] = useState<{ x: number; y: number; i: number } | null>(null);
  const H = 20;
  const height = Math.min(model.maxDepth + 1, 400) * H + 8;
  useEffect(() => {
    const c = ref.current!;
    const w = wrap.current!.clientWidth - 40;
    const dpr = window.devicePixelRatio || 1;
    c.width = w * dpr;
    c.height = height * dpr;
    c.style.width = `${w}px`;
    c.style.height = `${height}px`;
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, height);
    const [t0, t1] = range;
    const sx = (t: number) => ((t - t0) / (t1 - t0)) * w;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (let i = 0; i < model.n; i++) {
      const x0 = sx(model.start[i]), x1 = sx(model.start[i] + model.duration_[i]);
      if (x1 < 0 || x0 > w || x1 - x0 < 0.3) continue;
      const y = model.depth[i] * H;
      if (y > height) continue;
      ctx.fillStyle = serviceColor(model.services[model.service[i]]);
      const a = Math.max(0, x0), bw = Math.max(0.5, Math.min(w, x1) - a - 1);
      ctx.fillRect(a, y, bw, H - 1);
      if (model.flags[i] & FLAG_ERROR) {
        ctx.fillStyle = '#d92d20';
        ctx.fillRect(a, y + H - 4, bw, 3);
      }
      if (bw > 40) {
        ctx.fillStyle = '#111';
        ctx.save();
        ctx.beginPath();
        ctx.rect(a, y, bw, H);
        ctx.clip();
        // The duration too, when the frame has room for it.
        const op = model.operations[model.operation[i]];
        const withTime = `${op} · ${fmtDuration(model.duration_[i])}`;
        ctx.fillText(bw > 140 && ctx.measureText(withTime).width < bw - 8 ? withTime : op, a + 4, y + H / 2);
        ctx.restore();
      }
    }
  }, [model, range, theme]);
  const hit = (e: MouseEvent) => {
    const r = ref.current!.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    const d = Math.floor(y / H);
    const t = range[0] + (x / r.width) * (range[1] - range[0]);
    for (let i = 0; i < model.n; i++) if (model.depth[i] === d && model.start[i] <= t && t <= model.start[i] + model.duration_[i]) return i;
    return -1;
  };
  return (
    <div class="view-scroll" ref={wrap} style={{ padding: '16px 20px' }} data-testid="flame-view">
      <div class="toolbar" style={{ marginBottom: 10 }}>
        <span class="muted">Click a frame to zoom into it.</span>
        <button class="small" onClick={() => setRange([0, model.duration || 1])}>
          Reset zoom
        </button>
      </div>
      <canvas
        ref={ref}
        onMouseMove={(e) => {
          const i = hit(e as MouseEvent);
          setTip(i >= 0 ? { x: (e as MouseEvent).clientX, y: (e as MouseEvent).clientY, i } : null);
        }}
        onMouseLeave={() => setTip(null)}
        onClick={(e) => {
          const i = hit(e as MouseEvent);
          if (i >= 0) setRange([model.start[i], model.start[i] + Math.max(1, model.duration_[i])]);
        }}
      />
      {tip && (
        <div class="tooltip" style={{ left: tip.x + 12, top: tip.y + 12 }}>
          <b>{model.operations[model.operation[tip.i]]}</b>
          <div>
            {model.services[model.service[tip.i]]} · {fmtDuration(model.duration_[tip.i])}
          </div>
        </div>
      )}
    </div>
  );
}

const toGraph = (n: AggNode): GNode => ({
  title: n.operation,
  sub: `${n.service} · ${n.count}× · ${fmtDuration(n.total)}${n.errors ? ` · ${n.errors} err` : ''}`,
  service: n.service,
  cls: n.errors ? 'removed' : '',
  children: n.children.map(toGraph),
});

/** The call graph: spans aggregated by (service, operation) under their parent path. */
export function TraceGraph({ model }: { model: TraceModel }) {
  const root = useMemo(() => aggregate(model), [model]);
  return (
    <div class="view-scroll" data-testid="graph-view">
      <TreeGraph roots={root.children.map(toGraph)} />
    </div>
  );
}

const JSON_LIMIT = 4 << 20;

export function JsonView({ traceKey, traceID, upload }: { traceKey: string; traceID: string; upload: boolean }) {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    if (upload) traceJaegerJson(traceKey).then((d) => setText(JSON.stringify(d, null, 2)));
    else
      fetch(traceJsonUrl(traceID))
        .then((r) => r.text())
        .then(setText);
  }, [traceKey]);
  const download = () => {
    const blob = new Blob([text ?? ''], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `trace-${traceID}.json`;
    a.click();
  };
  return (
    <div class="view-scroll" data-testid="json-view">
      <div class="toolbar" style={{ padding: '10px 20px', borderBottom: '1px solid var(--border)' }}>
        <button class="small" onClick={download} disabled={text === null}>
          Download JSON
        </button>
        {!upload && (
          <a class="btn small" href={traceJsonUrl(traceID, true)} target="_blank">
            Unadjusted JSON
          </a>
        )}
        {text && text.length > JSON_LIMIT && <span class="muted">Showing the first {JSON_LIMIT >> 20} MB of {(text.length / (1 << 20)).toFixed(0)} MB; download for the rest.</span>}
      </div>
      {text === null ? <div class="empty"><span class="spinner" /></div> : <pre class="json">{text.slice(0, JSON_LIMIT)}</pre>}
    </div>
  );
}
