// The search page: Jaeger UI's form (service, operation, tags, lookback or
// custom range, durations, limit) on the left, results as a scatter plot
// and a sortable list on the right. The URL holds the whole search in
// Jaeger UI's parameter names, so links from Jaeger and Grafana work.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { fetchOperations, fetchServices, searchSummaries, summariesByIds, TraceSummary } from '../lib/api';
import { fmtAgo, fmtDuration, fmtTags, fmtTime, parseGoDuration, parseTags, serviceColor, shortId } from '../lib/format';
import { href, navigate } from '../lib/router';
import { ScatterPlot } from '../components/ScatterPlot';
import { SORTS, SortKey, sortResults } from '../lib/sort';
import { UploadPanel } from '../components/Upload';

const PAGE = 100;

const LOOKBACKS: [string, string][] = [
  ['5m', 'Last 5 minutes'],
  ['15m', 'Last 15 minutes'],
  ['30m', 'Last 30 minutes'],
  ['1h', 'Last hour'],
  ['2h', 'Last 2 hours'],
  ['3h', 'Last 3 hours'],
  ['6h', 'Last 6 hours'],
  ['12h', 'Last 12 hours'],
  ['24h', 'Last 24 hours'],
  ['2d', 'Last 2 days'],
  ['7d', 'Last 7 days'],
  ['custom', 'Custom time range'],
];

const lookbackUs = (lb: string) => {
  const m = lb.match(/^(\d+)([mhdw])$/);
  if (!m) return 3600e6;
  return Number(m[1]) * { m: 60e6, h: 3600e6, d: 86400e6, w: 604800e6 }[m[2] as 'm']!;
};

const toLocalInput = (us: number) => {
  const d = new Date(us / 1000);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
};

interface Form {
  service: string;
  operation: string;
  tags: string;
  lookback: string;
  start: string;
  end: string;
  minDuration: string;
  maxDuration: string;
  limit: string;
}

function formFromQuery(q: URLSearchParams): Form {
  let tags = q.get('tags') ?? '';
  const parsed = parseTags(tags);
  if (parsed && tags.trim().startsWith('{')) tags = fmtTags(parsed);
  const now = Date.now() * 1000;
  const end = Number(q.get('end')) || now;
  const start = Number(q.get('start')) || end - 3600e6;
  return {
    service: q.get('service') ?? '',
    operation: q.get('operation') ?? '',
    tags,
    lookback: q.get('lookback') ?? '1h',
    start: toLocalInput(start),
    end: toLocalInput(end),
    minDuration: q.get('minDuration') ?? '',
    maxDuration: q.get('maxDuration') ?? '',
    limit: q.get('limit') ?? '20',
  };
}

export function SearchPage({ query }: { query: URLSearchParams }) {
  const [tab, setTab] = useState<'search' | 'upload'>('search');
  const [services, setServices] = useState<string[] | null>(null);
  const [servicesError, setServicesError] = useState('');
  const [operations, setOperations] = useState<string[]>([]);
  const [form, setForm] = useState<Form>(() => formFromQuery(query));
  const [formError, setFormError] = useState('');
  const [results, setResults] = useState<TraceSummary[] | null>(null);
  const [missing, setMissing] = useState<string[]>([]);
  const [searchError, setSearchError] = useState('');
  const [loading, setLoading] = useState(false);
  const [sort, setSort] = useState<SortKey>('recent');
  const [selected, setSelected] = useState<string[]>([]);
  // Rows are rendered in pages as the list scrolls, so 1,500 results stay cheap to show and re-sort.
  const [shown, setShown] = useState(PAGE);
  const sentinel = useRef<HTMLDivElement>(null);
  const qs = query.toString();

  useEffect(() => {
    fetchServices()
      .then((s) => {
        setServices(s);
        setForm((f) => (f.service || !s.length ? f : { ...f, service: s.includes(localStorage.getItem('clew-last-service') ?? '') ? localStorage.getItem('clew-last-service')! : s[0] }));
      })
      .catch((e) => setServicesError(e.message));
  }, []);

  useEffect(() => {
    if (!form.service) return setOperations([]);
    let live = true;
    fetchOperations(form.service)
      .then((o) => live && setOperations(o))
      .catch(() => live && setOperations([]));
    return () => {
      live = false;
    };
  }, [form.service]);

  // Run the search the URL describes.
  useEffect(() => {
    setForm(formFromQuery(query));
    const ids = query.getAll('traceID');
    const service = query.get('service');
    if (!ids.length && !service) {
      setResults(null);
      return;
    }
    setLoading(true);
    setSearchError('');
    setSelected([]);
    const t0 = performance.now();
    const run = ids.length
      ? summariesByIds(ids).then((r) => {
          setMissing(r.missing);
          return r.found;
        })
      : (() => {
          setMissing([]);
          const end = Number(query.get('end')) || Date.now() * 1000;
          const lb = query.get('lookback') ?? '1h';
          const start = Number(query.get('start')) || end - lookbackUs(lb);
          const tags = parseTags(query.get('tags') ?? '') ?? {};
          return searchSummaries({
            service: service!,
            operation: query.get('operation') || undefined,
            tags,
            start,
            end,
            minDuration: query.get('minDuration') || undefined,
            maxDuration: query.get('maxDuration') || undefined,
            limit: Number(query.get('limit')) || 20,
          });
        })();
    run
      .then((r) => {
        setResults(r);
        performance.measure?.('clew:search', { start: t0, end: performance.now() });
      })
      .catch((e) => {
        setResults([]);
        setSearchError(e.message);
      })
      .finally(() => setLoading(false));
  }, [qs]);

  const set = (k: keyof Form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value, ...(k === 'service' ? { operation: '' } : {}) });

  const submit = (e: Event) => {
    e.preventDefault();
    const tags = parseTags(form.tags);
    if (tags === null) return setFormError('Tags must look like key=value key2="value with spaces"');
    for (const k of ['minDuration', 'maxDuration'] as const) {
      if (form[k] && Number.isNaN(parseGoDuration(form[k]))) return setFormError(`${k === 'minDuration' ? 'Min' : 'Max'} duration must be like 1.2s, 100ms or 500us`);
    }
    const limit = Number(form.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1500) return setFormError('Limit must be between 1 and 1500');
    setFormError('');
    const p = new URLSearchParams();
    p.set('service', form.service);
    if (form.operation) p.set('operation', form.operation);
    if (Object.keys(tags).length) p.set('tags', JSON.stringify(tags));
    let end = Date.now() * 1000;
    let start = end - lookbackUs(form.lookback);
    if (form.lookback === 'custom') {
      start = new Date(form.start).getTime() * 1000;
      end = new Date(form.end).getTime() * 1000;
      if (!(start < end)) return setFormError('The start of the range must be before its end');
    }
    p.set('start', String(start));
    p.set('end', String(end));
    p.set('lookback', form.lookback);
    if (form.minDuration) p.set('minDuration', form.minDuration);
    if (form.maxDuration) p.set('maxDuration', form.maxDuration);
    p.set('limit', String(limit));
    try {
      localStorage.setItem('clew-last-service', form.service);
    } catch {}
    navigate(`/search?${p}`);
  };

  const sorted = useMemo(() => (results ? sortResults(results, sort) : []), [results, sort]);
  // The same vnode while the results are the same: re-sorting does not redraw the plot.
  const plot = useMemo(() => (results?.length ? <ScatterPlot traces={results} /> : null), [results]);
  useEffect(() => setShown(PAGE), [results, sort]);
  useEffect(() => {
    const el = sentinel.current;
    if (!el) return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setShown((n) => n + PAGE * 2), { rootMargin: '600px' });
    io.observe(el);
    return () => io.disconnect();
  }, [sorted, shown]);
  const maxDur = useMemo(() => Math.max(1, ...sorted.map((r) => r.duration)), [sorted]);
  const toggleSel = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s.slice(-1), id]));

  return (
    <div class="page search-layout">
      <div class="card search-form">
        <div class="tabs">
          <button class={tab === 'search' ? 'active' : ''} onClick={() => setTab('search')}>
            Search
          </button>
          <button class={tab === 'upload' ? 'active' : ''} onClick={() => setTab('upload')}>
            Upload JSON
          </button>
        </div>
        {tab === 'upload' ? (
          <UploadPanel />
        ) : (
          <form onSubmit={submit} style={{ display: 'contents' }}>
            <label class="field">
              <span class="label-line">
                Service <span class="hint">({services?.length ?? 0})</span>
              </span>
              <select value={form.service} onChange={set('service')} name="service">
                {!services?.length && <option value="">{servicesError || 'No services yet'}</option>}
                {services?.map((s) => (
                  <option value={s}>{s}</option>
                ))}
              </select>
            </label>
            <label class="field">
              <span class="label-line">
                Operation <span class="hint">({operations.length})</span>
              </span>
              <select value={form.operation} onChange={set('operation')} name="operation">
                <option value="">all</option>
                {operations.map((o) => (
                  <option value={o}>{o}</option>
                ))}
              </select>
            </label>
            <label class="field">
              Tags
              <input value={form.tags} onInput={set('tags')} placeholder="http.status_code=200 error=true" name="tags" />
            </label>
            <label class="field">
              Lookback
              <select value={form.lookback} onChange={set('lookback')} name="lookback">
                {LOOKBACKS.map(([v, l]) => (
                  <option value={v}>{l}</option>
                ))}
              </select>
            </label>
            {form.lookback === 'custom' && (
              <>
                <label class="field">
                  Start
                  <input type="datetime-local" value={form.start} onInput={set('start')} />
                </label>
                <label class="field">
                  End
                  <input type="datetime-local" value={form.end} onInput={set('end')} />
                </label>
              </>
            )}
            <div class="row">
              <label class="field">
                Min duration
                <input value={form.minDuration} onInput={set('minDuration')} placeholder="e.g. 1.2s" name="minDuration" />
              </label>
              <label class="field">
                Max duration
                <input value={form.maxDuration} onInput={set('maxDuration')} placeholder="e.g. 100ms" name="maxDuration" />
              </label>
            </div>
            <label class="field">
              Limit results
              <input type="number" min={1} max={1500} value={form.limit} onInput={set('limit')} name="limit" />
            </label>
            {formError && <div class="banner error">{formError}</div>}
            <button class="primary" type="submit" disabled={!form.service}>
              Find Traces
            </button>
          </form>
        )}
      </div>
      <div class="card" data-testid="results">
        {results === null && !loading ? (
          <div class="empty">
            <h2>Find a trace</h2>
            <p>Pick a service and press Find Traces, paste a trace ID in the box at the top, or upload a JSON file.</p>
          </div>
        ) : (
          <>
            {plot}
            <div class="results-head">
              <h2>
                {loading ? <span class="spinner" /> : `${sorted.length} Trace${sorted.length === 1 ? '' : 's'}`}
              </h2>
              <label class="row" style={{ flex: 'none', gap: '6px' }}>
                <span class="muted" style={{ flex: 'none' }}>
                  Sort
                </span>
                <select value={sort} onChange={(e) => setSort((e.target as HTMLSelectElement).value as SortKey)} aria-label="Sort">
                  {SORTS.map(([k, l]) => (
                    <option value={k}>{l}</option>
                  ))}
                </select>
              </label>
              <button class="small" disabled={selected.length !== 2} onClick={() => navigate(`/trace/${selected[0]}...${selected[1]}`)} title="Select two traces to compare">
                Compare{selected.length ? ` (${selected.length}/2)` : ''}
              </button>
              <button
                class="small"
                disabled={!sorted.length}
                onClick={() => {
                  const blob = new Blob([JSON.stringify(sorted, null, 2)], { type: 'application/json' });
                  const a = document.createElement('a');
                  a.href = URL.createObjectURL(blob);
                  a.download = 'clew-search-results.json';
                  a.click();
                }}
              >
                Download
              </button>
            </div>
            {searchError && <div class="banner error" style={{ margin: '12px 16px' }}>{searchError}</div>}
            {missing.length > 0 && <div class="banner" style={{ margin: '12px 16px' }}>Not found: {missing.join(', ')}</div>}
            {!loading && !searchError && sorted.length === 0 && (
              <div class="empty">
                <h2>No traces found</h2>
                <p>Try a longer lookback, fewer tags or another operation.</p>
              </div>
            )}
            <div>
              {sorted.slice(0, shown).map((t) => (
                <ResultRow key={t.traceId} t={t} maxDur={maxDur} selected={selected.includes(t.traceId)} onSelect={() => toggleSel(t.traceId)} />
              ))}
            </div>
            {shown < sorted.length && (
              <div ref={sentinel} class="empty" style={{ padding: 16 }}>
                Showing {shown} of {sorted.length}…
              </div>
            )}
          </>
        )}
      </div>
    </div>
  );
}

function ResultRow({ t, maxDur, selected, onSelect }: { t: TraceSummary; maxDur: number; selected: boolean; onSelect: () => void }) {
  return (
    <div class="result" data-testid="result">
      <input type="checkbox" checked={selected} onChange={onSelect} aria-label="Select for compare" style={{ height: 16, marginTop: 3 }} />
      <div style={{ minWidth: 0 }}>
        <div class="title">
          <span class="swatch" style={{ background: serviceColor(t.rootServiceName) }} />
          <a href={href(`/trace/${t.traceId}`)}>
            {t.rootServiceName || '<missing root>'}: {t.rootOperationName}
          </a>
          <span class="mono">{shortId(t.traceId)}</span>
        </div>
        <div class="meta">
          <span class="badge">{t.spanCount} Spans</span>
          {t.errorSpanCount > 0 && <span class="badge error">{t.errorSpanCount} Errors</span>}
          {t.orphanSpanCount > 0 && <span class="badge warn">{t.orphanSpanCount} without parent</span>}
          {t.services.map((s) => (
            <span class="badge" title={`${s.spanCount} spans${s.errorSpanCount ? `, ${s.errorSpanCount} errors` : ''}`}>
              <span class="swatch" style={{ background: serviceColor(s.name) }} />
              {s.name} ({s.spanCount}){s.errorSpanCount > 0 && <span class="error-text">●</span>}
            </span>
          ))}
        </div>
        <div class="bar" style={{ width: `${Math.max(0.5, (t.duration / maxDur) * 100)}%` }} />
      </div>
      <div class="right">
        <div class="dur">{fmtDuration(t.duration)}</div>
        <div class="muted" style={{ fontSize: '12px' }}>{fmtTime(t.start)}</div>
        <div class="muted" style={{ fontSize: '12px' }}>{fmtAgo(t.start)}</div>
      </div>
    </div>
  );
}
