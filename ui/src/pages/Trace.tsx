// The trace page: header, view switcher, and the timeline with its span
// detail panel (or one of the alternative views). The trace is fetched,
// parsed and built by the worker; the page only holds typed arrays.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { compactTraceUrl, traceJsonUrl } from '../lib/api';
import { fmtDuration, fmtTime, serviceColor, shortId } from '../lib/format';
import { href, navigate } from '../lib/router';
import { findSpans, LoadTimings, loadTrace, openTrace } from '../lib/traceClient';
import { visibleRows } from '../model/build';
import { TraceModel } from '../model/types';
import { Timeline } from '../components/Timeline';
import { SpanDetailPanel } from '../components/SpanDetail';
import { FlameGraph, JsonView, SpanTable, StatsTable, TraceGraph } from '../components/TraceViews';

export type View = 'timeline' | 'table' | 'stats' | 'flame' | 'graph' | 'json';
const VIEWS: [View, string][] = [
  ['timeline', 'Timeline'],
  ['stats', 'Statistics'],
  ['table', 'Span Table'],
  ['flame', 'Flame Graph'],
  ['graph', 'Trace Graph'],
  ['json', 'JSON'],
];

declare global {
  interface Window {
    __clewTimings?: Record<string, any>;
  }
}

/** Loads a trace into the worker: from an upload key or from the server. */
export function useTrace(id: string, upload: string | null) {
  const [state, setState] = useState<{ model: TraceModel | null; error: string; key: string; timings?: LoadTimings }>({ model: null, error: '', key: '' });
  useEffect(() => {
    let live = true;
    setState({ model: null, error: '', key: '' });
    const key = upload ?? `server:${id}`;
    const t0 = performance.now();
    (upload ? openTrace(upload) : loadTrace(key, id, compactTraceUrl(id)))
      .then(({ model, timings }) => {
        if (!live) return;
        const now = performance.now();
        // Every phase as ms since navigation start (the page's time origin).
        const early = window.__clewEarly?.sentAt;
        const phases: Record<string, number> = { appStart: performance.getEntriesByName('clew:app-start')[0]?.startTime ?? 0, loadSent: early ?? t0, modelReceived: now };
        for (const [k, v] of Object.entries(timings.marks ?? {})) phases[k] = v - performance.timeOrigin;
        window.__clewTimings = { ...timings, loadedMs: now - t0, spans: model.n, phases } as any;
        setState({ model, error: '', key, timings });
      })
      .catch((e) => live && setState({ model: null, error: e.message, key }));
    return () => {
      live = false;
    };
  }, [id, upload]);
  return state;
}

export function TracePage({ id, query, theme }: { id: string; query: URLSearchParams; theme: string }) {
  const upload = query.get('upload');
  const { model, error, key } = useTrace(id, upload);
  const view = (query.get('view') as View) || 'timeline';
  const setView = (v: View) => {
    const q = new URLSearchParams(query);
    if (v === 'timeline') q.delete('view');
    else q.set('view', v);
    navigate(`/trace/${id}${q.toString() ? `?${q}` : ''}`, true);
  };

  if (error)
    return (
      <div class="page">
        <div class="card empty">
          <h2>Trace {shortId(id)} could not be loaded</h2>
          <p class="error-text">{error}</p>
          <p>
            <a href={href('/search')}>Back to search</a>
          </p>
        </div>
      </div>
    );
  if (!model)
    return (
      <div class="page">
        <div class="card empty">
          <span class="spinner" /> Loading trace {shortId(id)}…
        </div>
      </div>
    );
  return <TraceView model={model} traceKey={key} view={view} setView={setView} query={query} theme={theme} upload={upload} />;
}

function TraceView({ model, traceKey, view, setView, query, theme, upload }: { model: TraceModel; traceKey: string; view: View; setView: (v: View) => void; query: URLSearchParams; theme: string; upload: string | null }) {
  const [collapsed, setCollapsed] = useState<Set<number>>(() => new Set());
  const [selected, setSelected] = useState(-1);
  const [range, setRange] = useState<[number, number]>([0, model.duration || 1]);
  const [findText, setFindText] = useState(query.get('uiFind') ?? '');
  const [matches, setMatches] = useState<Int32Array | null>(null);
  const [matchPos, setMatchPos] = useState(0);
  const [critical, setCritical] = useState(true);
  const [keysHelp, setKeysHelp] = useState(false);
  const findRef = useRef<HTMLInputElement>(null);
  const rows = useMemo(() => visibleRows(model, collapsed), [model, collapsed]);
  const matchSet = useMemo(() => {
    if (!matches) return null;
    const s = new Uint8Array(model.n);
    matches.forEach((i) => (s[i] = 1));
    return s;
  }, [matches, model]);

  useEffect(() => {
    performance.mark('clew:timeline-ready');
    requestAnimationFrame(() => {
      const t = window.__clewTimings;
      if (t) t.firstPaintMs = performance.now() - (performance.getEntriesByName('clew:nav').pop()?.startTime ?? 0);
    });
  }, [model]);

  // Find: debounced, answered by the worker.
  useEffect(() => {
    const q = findText.trim();
    if (!q) {
      setMatches(null);
      return;
    }
    const t = setTimeout(() => {
      findSpans(traceKey, q).then((m) => {
        setMatches(m);
        setMatchPos(0);
      });
    }, 150);
    return () => clearTimeout(t);
  }, [findText, traceKey]);

  const focus = matches && matches.length ? matches[Math.min(matchPos, matches.length - 1)] : -1;
  // Reveal the focused match: expand its collapsed ancestors.
  useEffect(() => {
    if (focus < 0) return;
    let p = model.parent[focus];
    let changed = false;
    const next = new Set(collapsed);
    while (p >= 0) {
      if (next.delete(p)) changed = true;
      p = model.parent[p];
    }
    if (changed) setCollapsed(next);
  }, [focus]);

  const toggle = (i: number) => {
    const next = new Set(collapsed);
    if (next.has(i)) next.delete(i);
    else next.add(i);
    setCollapsed(next);
  };
  const collapseAll = () => {
    const next = new Set<number>();
    for (let i = 0; i < model.n; i++) if (model.childCount[i] > 0 && model.depth[i] >= 1) next.add(i);
    setCollapsed(next);
  };
  const step = (d: number) => matches && matches.length && setMatchPos((matchPos + d + matches.length) % matches.length);

  const rootIdx = model.order[0];
  const rootSvc = model.n ? model.services[model.service[rootIdx]] : '';
  const rootOp = model.n ? model.operations[model.operation[rootIdx]] : '';
  const zoomed = range[0] > 0 || range[1] < model.duration;

  return (
    <div class="trace-page">
      <div class="trace-header">
        <div class="top">
          <span class="swatch" style={{ background: serviceColor(rootSvc), width: 14, height: 14 }} />
          <h1 data-testid="trace-title">
            {rootSvc}: {rootOp}
            <span class="mono" title={model.traceID}>
              {model.traceID}
            </span>
          </h1>
          <a class="btn small" href={href(`/trace/${model.traceID}...`)}>
            Compare…
          </a>
          {!upload && (
            <>
              <a class="btn small" href={traceJsonUrl(model.traceID)} target="_blank">
                JSON
              </a>
              <a class="btn small" href={traceJsonUrl(model.traceID, true)} target="_blank">
                JSON (unadjusted)
              </a>
            </>
          )}
        </div>
        <div class="stats-line" data-testid="trace-stats">
          <span>
            Trace Start<b>{fmtTime(model.startTime)}</b>
          </span>
          <span>
            Duration<b>{fmtDuration(model.duration)}</b>
          </span>
          <span>
            Services<b>{model.services.length}</b>
          </span>
          <span>
            Depth<b>{model.maxDepth + 1}</b>
          </span>
          <span>
            Total Spans<b>{model.n}</b>
          </span>
          <span>
            Errors<b style={model.errorCount ? { color: 'var(--error)' } : undefined}>{model.errorCount}</b>
          </span>
          <span style={{ display: 'inline-flex', gap: 6, flexWrap: 'wrap' }}>
            {model.services.slice(0, 6).map((s) => (
              <span class="badge">
                <span class="swatch" style={{ background: serviceColor(s) }} />
                {s}
              </span>
            ))}
            {model.services.length > 6 && <span class="badge" title={model.services.slice(6).join(', ')}>+{model.services.length - 6} more</span>}
          </span>
        </div>
        {model.skew.adjusted > 0 && (
          <div class="banner" data-testid="skew-note">
            Clock skew adjusted for display: {model.skew.adjusted} span{model.skew.adjusted === 1 ? '' : 's'} on other hosts moved by up to {fmtDuration(model.skew.maxDeltaUs)} to sit inside their parents.
          </div>
        )}
        {model.warnings.length > 0 && <div class="banner">{model.warnings.join(' · ')}</div>}
        <div class="toolbar">
          <div class="seg" role="tablist">
            {VIEWS.map(([v, l]) => (
              <button class={view === v ? 'active' : ''} onClick={() => setView(v)} role="tab">
                {l}
              </button>
            ))}
          </div>
          <span style={{ flex: 1 }} />
          {view === 'timeline' && (
            <>
              <label class="row" style={{ flex: 'none', gap: 6, fontSize: 13 }}>
                <input type="checkbox" checked={critical} onChange={() => setCritical(!critical)} style={{ height: 16 }} />
                Critical path
              </label>
              <button class="small" onClick={collapseAll}>
                Collapse all
              </button>
              <button class="small" onClick={() => setCollapsed(new Set())}>
                Expand all
              </button>
              {zoomed && (
                <button class="small" onClick={() => setRange([0, model.duration])}>
                  Reset zoom
                </button>
              )}
              <input
                ref={findRef}
                class="find"
                placeholder="Find… (/)"
                value={findText}
                onInput={(e) => setFindText((e.target as HTMLInputElement).value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') step(e.shiftKey ? -1 : 1);
                  if (e.key === 'Escape') setFindText('');
                }}
                aria-label="Find in trace"
              />
              <span class="muted" style={{ fontSize: 13 }} data-testid="find-count">
                {matches ? (matches.length ? `${Math.min(matchPos, matches.length - 1) + 1} of ${matches.length}` : 'no match') : ''}
              </span>
              <button class="small icon-btn" onClick={() => step(-1)} disabled={!matches?.length} aria-label="Previous match">
                ↑
              </button>
              <button class="small icon-btn" onClick={() => step(1)} disabled={!matches?.length} aria-label="Next match">
                ↓
              </button>
              <button class="small icon-btn" onClick={() => setKeysHelp(!keysHelp)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
                ?
              </button>
            </>
          )}
        </div>
      </div>
      <div class="trace-body">
        {view === 'timeline' && (
          <>
            <Timeline
              model={model}
              rows={rows}
              collapsed={collapsed}
              onToggle={toggle}
              selected={selected}
              onSelect={setSelected}
              matches={matchSet}
              focus={focus}
              range={range}
              onRange={setRange}
              showCritical={critical}
              theme={theme}
              onKey={(e) => {
                if (e.key === '/') {
                  e.preventDefault();
                  findRef.current?.focus();
                  return true;
                }
                if (e.key === '?') {
                  setKeysHelp(!keysHelp);
                  return true;
                }
                if (e.key === 'n' || e.key === 'N') {
                  step(e.key === 'n' ? 1 : -1);
                  return true;
                }
                return false;
              }}
            />
            {keysHelp && <KeysHelp onClose={() => setKeysHelp(false)} />}
            {selected >= 0 && <SpanDetailPanel model={model} traceKey={traceKey} index={selected} onClose={() => setSelected(-1)} onSelect={setSelected} />}
          </>
        )}
        {view === 'stats' && <StatsTable model={model} />}
        {view === 'table' && <SpanTable model={model} onOpen={(i) => (setSelected(i), setView('timeline'))} />}
        {view === 'flame' && <FlameGraph model={model} theme={theme} />}
        {view === 'graph' && <TraceGraph model={model} />}
        {view === 'json' && <JsonView traceKey={traceKey} traceID={model.traceID} upload={!!upload} />}
      </div>
    </div>
  );
}

const KEYS: [string, string][] = [
  ['↓ ↑  or  j k', 'next / previous span'],
  ['PgDn PgUp', 'a page down / up'],
  ['Home End', 'first / last span'],
  ['← or h', 'collapse, then go to the parent'],
  ['→ or l', 'expand'],
  ['Enter Space', 'collapse or expand'],
  ['/', 'find in trace'],
  ['n N', 'next / previous match'],
  ['Esc', 'clear the selection'],
  ['?', 'this list'],
];

/** The timeline's keyboard shortcuts (as Jaeger UI lists its own). */
function KeysHelp({ onClose }: { onClose: () => void }) {
  return (
    <div class="card keys-help" data-testid="keys-help" role="dialog" aria-label="Keyboard shortcuts">
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', gap: 16 }}>
        <b>Keyboard shortcuts</b>
        <button class="small icon-btn" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </div>
      <table>
        {KEYS.map(([k, what]) => (
          <tr>
            <td>
              <kbd>{k}</kbd>
            </td>
            <td>{what}</td>
          </tr>
        ))}
      </table>
    </div>
  );
}
