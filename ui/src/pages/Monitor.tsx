// Jaeger UI's Monitor tab (service performance monitoring): latency
// p50/p75/p95, request rate and error rate per service and span kind, and
// a per-operation table, from `/api/metrics/*`. While the server answers
// 501 (no metrics store) the page shows the "not configured" state.

import { useEffect, useState } from 'preact/hooks';
import { fetchMetrics, fetchServices } from '../lib/api';
import { fmtClock } from '../lib/format';
import { Series, seriesOf } from '../lib/metrics';

const KINDS = ['server', 'client', 'internal', 'producer', 'consumer'];
const WINDOWS: [number, string][] = [
  [5 * 60e3, 'Last 5 minutes'],
  [15 * 60e3, 'Last 15 minutes'],
  [3600e3, 'Last hour'],
  [2 * 3600e3, 'Last 2 hours'],
  [6 * 3600e3, 'Last 6 hours'],
  [12 * 3600e3, 'Last 12 hours'],
  [86400e3, 'Last 24 hours'],
  [2 * 86400e3, 'Last 2 days'],
];

function Chart({ title, series, unit }: { title: string; series: Series[]; unit: string }) {
  const W = 360, H = 150, L = 44, B = 22;
  const all = series.flatMap((s) => s.points);
  const x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  const yMax = Math.max(1e-9, ...all.map((p) => p[1])) * 1.1;
  const sx = (x: number) => L + ((x - x0) / Math.max(1, x1 - x0)) * (W - L - 8);
  const sy = (y: number) => 8 + (1 - y / yMax) * (H - 8 - B);
  const colors = ['#5b5bd6', '#17B8BE', '#F89570'];
  return (
    <div class="card card-pad" style={{ flex: 1, minWidth: 320 }}>
      <h3 style={{ marginBottom: 8 }}>{title}</h3>
      {!all.length ? (
        <div class="muted">No data</div>
      ) : (
        <svg width="100%" viewBox={`0 0 ${W} ${H}`}>
          {[0, 0.5, 1].map((f) => (
            <g>
              <line x1={L} x2={W - 8} y1={sy(f * yMax)} y2={sy(f * yMax)} stroke="var(--border)" />
              <text x={L - 6} y={sy(f * yMax) + 4} text-anchor="end" font-size="10" fill="var(--muted)">
                {(f * yMax).toPrecision(2)}
                {unit}
              </text>
            </g>
          ))}
          <text x={L} y={H - 4} font-size="10" fill="var(--muted)">
            {fmtClock(x0 * 1000)}
          </text>
          <text x={W - 8} y={H - 4} font-size="10" fill="var(--muted)" text-anchor="end">
            {fmtClock(x1 * 1000)}
          </text>
          {series.map((s, k) => (
            <polyline fill="none" stroke={colors[k % 3]} stroke-width="2" points={s.points.map(([x, y]) => `${sx(x)},${sy(y)}`).join(' ')} />
          ))}
        </svg>
      )}
    </div>
  );
}

export function MonitorPage({ query }: { query: URLSearchParams }) {
  const [services, setServices] = useState<string[]>([]);
  const [service, setService] = useState(query.get('service') ?? '');
  const [kind, setKind] = useState('server');
  const [window_, setWindow] = useState(3600e3);
  const [state, setState] = useState<'loading' | 'disabled' | 'ready' | 'error'>('loading');
  const [error, setError] = useState('');
  const [data, setData] = useState<Record<string, any>>({});
  useEffect(() => {
    fetchServices().then((s) => {
      setServices(s);
      if (!service && s.length) setService(s[0]);
    });
  }, []);
  useEffect(() => {
    const base = { service: service || '_', endTs: String(Date.now()), lookback: String(window_), step: '60000', ratePer: '600000', spanKind: kind };
    setState('loading');
    // One probe first: without a metrics store every call answers 501.
    fetchMetrics('latencies', { ...base, quantile: '0.95' })
      .then((probe) =>
        probe === null
          ? null
          : Promise.all([
      fetchMetrics('latencies', { ...base, quantile: '0.5' }),
      fetchMetrics('latencies', { ...base, quantile: '0.75' }),
      fetchMetrics('latencies', { ...base, quantile: '0.95' }),
      fetchMetrics('calls', base),
      fetchMetrics('errors', base),
      fetchMetrics('latencies', { ...base, quantile: '0.95', groupByOperation: 'true' }),
      fetchMetrics('calls', { ...base, groupByOperation: 'true' }),
      fetchMetrics('errors', { ...base, groupByOperation: 'true' }),
            ]),
      )
      .then((all) => {
        if (!all || all.slice(0, 5).some((x) => x === null)) return setState('disabled');
        const [p50, p75, p95, calls, errors, opLat, opCalls, opErr] = all;
        setData({ p50, p75, p95, calls, errors, opLat, opCalls, opErr });
        setState('ready');
      })
      .catch((e) => {
        setError(e.message);
        setState('error');
      });
  }, [service, kind, window_]);

  const ops = state === 'ready' ? seriesOf(data.opLat, '').map((s) => s.label) : [];
  const last = (fam: any, op: string) => {
    const s = seriesOf(fam, '').find((x) => x.label === op);
    return s?.points.length ? s.points[s.points.length - 1][1] : NaN;
  };
  return (
    <div class="page" style={{ display: 'flex', flexDirection: 'column', gap: 16 }} data-testid="monitor">
      <div class="card card-pad toolbar">
        <h1 style={{ flex: 1 }}>Monitor</h1>
        <select value={service} onChange={(e) => setService((e.target as HTMLSelectElement).value)} aria-label="Service">
          {services.map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
        <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)} aria-label="Span kind">
          {KINDS.map((k) => (
            <option value={k}>{k}</option>
          ))}
        </select>
        <select value={window_} onChange={(e) => setWindow(Number((e.target as HTMLSelectElement).value))} aria-label="Time frame">
          {WINDOWS.map(([v, l]) => (
            <option value={v}>{l}</option>
          ))}
        </select>
      </div>
      {state === 'loading' && (
        <div class="card empty">
          <span class="spinner" />
        </div>
      )}
      {state === 'error' && <div class="banner error">{error}</div>}
      {state === 'disabled' && (
        <div class="card empty" data-testid="monitor-disabled">
          <h2>Service Performance Monitoring is not configured</h2>
          <p>
            This Clew serves no span metrics yet: <code>/api/metrics/*</code> answers 501 Not Implemented. The Monitor tab shows latency percentiles, request rates and error
            rates per service and operation once a metrics source is enabled.
          </p>
          <p>Until then, the Search page and the System Architecture graph work on stored traces.</p>
        </div>
      )}
      {state === 'ready' && (
        <>
          <div style={{ display: 'flex', gap: 16, flexWrap: 'wrap' }}>
            <Chart title="Latency (p50 / p75 / p95, ms)" unit="" series={[...seriesOf(data.p50, 'p50'), ...seriesOf(data.p75, 'p75'), ...seriesOf(data.p95, 'p95')]} />
            <Chart title="Request rate (req/s)" unit="" series={seriesOf(data.calls, 'calls')} />
            <Chart title="Error rate (%)" unit="" series={seriesOf(data.errors, 'errors')} />
          </div>
          <div class="card">
            <table class="grid">
              <thead>
                <tr>
                  <th>Operation</th>
                  <th class="num">P95 latency</th>
                  <th class="num">Request rate</th>
                  <th class="num">Error rate</th>
                </tr>
              </thead>
              <tbody>
                {ops.map((op) => (
                  <tr>
                    <td>{op}</td>
                    <td class="num">{last(data.opLat, op).toFixed(2)} ms</td>
                    <td class="num">{last(data.opCalls, op).toFixed(2)} req/s</td>
                    <td class="num">{(last(data.opErr, op) * 100).toFixed(1)}%</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
