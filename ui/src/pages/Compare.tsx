// Compare two traces: their span trees aggregated by (service, operation)
// path and diffed; added nodes green, removed red, changed amber.

import { useMemo, useState } from 'preact/hooks';
import { fmtDuration } from '../lib/format';
import { href, navigate } from '../lib/router';
import { aggregate, DiffNode, diffSummary, diffTrees } from '../model/aggregate';
import { GNode, TreeGraph } from '../components/TreeGraph';
import { useTrace } from './Trace';

const side = (x: DiffNode['a']) => (x ? `${x.count}×${x.errors ? ` ${x.errors}err` : ''}` : '–');

const toGraph = (d: DiffNode): GNode => ({
  title: d.operation,
  sub: `${d.service} · A ${side(d.a)} · B ${side(d.b)}${d.a && d.b ? ` · Δ ${fmtDuration((d.b.total - d.a.total) / Math.max(1, d.b.count))}` : ''}`,
  service: d.service,
  cls: d.status === 'same' ? '' : d.status,
  children: d.children.map(toGraph),
});

function Picker({ a, b }: { a: string; b: string }) {
  const [va, setA] = useState(a);
  const [vb, setB] = useState(b);
  return (
    <form
      class="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        if (va && vb) navigate(`/trace/${va.trim()}...${vb.trim()}`);
      }}
    >
      <input placeholder="Trace A ID" value={va} onInput={(e) => setA((e.target as HTMLInputElement).value)} aria-label="Trace A" style={{ width: 300 }} />
      <input placeholder="Trace B ID" value={vb} onInput={(e) => setB((e.target as HTMLInputElement).value)} aria-label="Trace B" style={{ width: 300 }} />
      <button class="primary" type="submit" disabled={!va || !vb}>
        Compare
      </button>
    </form>
  );
}

export function ComparePage({ a, b }: { a: string; b: string }) {
  if (!a || !b)
    return (
      <div class="page">
        <div class="card card-pad">
          <h1 style={{ marginBottom: 12 }}>Compare two traces</h1>
          <p class="muted">Paste two trace IDs, or tick two results on the search page and press Compare.</p>
          <Picker a={a} b={b} />
        </div>
      </div>
    );
  return <CompareLoaded a={a} b={b} />;
}

function CompareLoaded({ a, b }: { a: string; b: string }) {
  const ta = useTrace(a, null);
  const tb = useTrace(b, null);
  const diff = useMemo(() => (ta.model && tb.model ? diffTrees(aggregate(ta.model), aggregate(tb.model)) : null), [ta.model, tb.model]);
  const sum = diff && diffSummary(diff);
  return (
    <div class="page" style={{ display: 'flex', flexDirection: 'column', gap: 16 }}>
      <div class="card card-pad" style={{ display: 'flex', flexDirection: 'column', gap: 10 }}>
        <h1>Compare traces</h1>
        <Picker a={a} b={b} />
        <div class="stats-line">
          <span>
            A <a href={href(`/trace/${a}`)} class="mono">{a}</a>
            {ta.model && <b>{ta.model.n} spans · {fmtDuration(ta.model.duration)}</b>}
          </span>
          <span>
            B <a href={href(`/trace/${b}`)} class="mono">{b}</a>
            {tb.model && <b>{tb.model.n} spans · {fmtDuration(tb.model.duration)}</b>}
          </span>
        </div>
        {(ta.error || tb.error) && <div class="banner error">{ta.error && `A: ${ta.error}`} {tb.error && `B: ${tb.error}`}</div>}
        {sum && (
          <div class="legend" data-testid="diff-summary">
            <span>
              <span class="swatch" style={{ background: '#16a34a' }} /> {sum.added} added (only in B)
            </span>
            <span>
              <span class="swatch" style={{ background: '#dc2626' }} /> {sum.removed} removed (only in A)
            </span>
            <span>
              <span class="swatch" style={{ background: '#d97706' }} /> {sum.changed} changed
            </span>
            <span>
              <span class="swatch" style={{ background: 'var(--border)' }} /> {sum.same} unchanged
            </span>
          </div>
        )}
      </div>
      <div class="card" style={{ overflow: 'auto' }} data-testid="diff-graph">
        {!diff ? <div class="empty">{ta.error || tb.error ? 'Cannot compare.' : <span class="spinner" />}</div> : <TreeGraph roots={diff.children.map(toGraph)} />}
      </div>
    </div>
  );
}
