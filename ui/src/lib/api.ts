// Clew's public query API, as the UI calls it. Paths are relative (no
// leading slash) so they resolve against <base href>, i.e. the base path.

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

async function getJson<T>(path: string): Promise<T> {
  const resp = await fetch(path);
  const text = await resp.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(resp.status, `${resp.status}: ${text.slice(0, 200)}`);
  }
  if (!resp.ok) {
    const msg = body?.errors?.[0]?.msg ?? body?.error?.message ?? `HTTP ${resp.status}`;
    throw new ApiError(resp.status, msg);
  }
  return body as T;
}

export const fetchServices = () => getJson<{ data: string[] | null }>('api/services').then((r) => (r.data ?? []).sort());

export const fetchOperations = (service: string) =>
  getJson<{ data: { name: string; spanKind: string }[] | null }>(`api/operations?service=${encodeURIComponent(service)}`).then((r) =>
    [...new Set((r.data ?? []).map((o) => o.name))].sort(),
  );

export interface TraceSummary {
  traceId: string;
  rootServiceName: string;
  rootOperationName: string;
  /** µs epoch */
  start: number;
  /** µs */
  duration: number;
  spanCount: number;
  errorSpanCount: number;
  orphanSpanCount: number;
  services: { name: string; spanCount: number; errorSpanCount: number }[];
}

export interface SearchQuery {
  service: string;
  operation?: string;
  tags?: Record<string, string>;
  /** µs */
  start: number;
  end: number;
  minDuration?: string;
  maxDuration?: string;
  limit: number;
}

const rfc3339 = (us: number) => new Date(Math.floor(us / 1000)).toISOString();

/** Search via API v3 trace summaries: the server never ships whole traces for a list. */
export async function searchSummaries(q: SearchQuery): Promise<TraceSummary[]> {
  const p = new URLSearchParams();
  p.set('query.serviceName', q.service);
  if (q.operation) p.set('query.operationName', q.operation);
  if (q.tags && Object.keys(q.tags).length) p.set('query.attributes', JSON.stringify(q.tags));
  p.set('query.startTimeMin', rfc3339(q.start));
  p.set('query.startTimeMax', rfc3339(q.end));
  if (q.minDuration) p.set('query.durationMin', q.minDuration);
  if (q.maxDuration) p.set('query.durationMax', q.maxDuration);
  p.set('query.searchDepth', String(q.limit));
  const r = await getJson<{ summaries: any[] }>(`api/v3/trace-summaries?${p}`);
  return r.summaries.map(fromV3);
}

function fromV3(s: any): TraceSummary {
  const start = Number(BigInt(s.minStartTimeUnixNano) / 1000n);
  const end = Number(BigInt(s.maxEndTimeUnixNano) / 1000n);
  let id: string = s.traceId;
  if (id.length === 32 && id.startsWith('0000000000000000')) id = id.slice(16);
  return {
    traceId: id,
    rootServiceName: s.rootServiceName,
    rootOperationName: s.rootOperationName,
    start,
    duration: end - start,
    spanCount: s.spanCount,
    errorSpanCount: s.errorSpanCount,
    orphanSpanCount: s.orphanSpanCount ?? 0,
    services: s.services ?? [],
  };
}

/** Summaries of traces by ID (Jaeger's multi-get; a handful of traces). */
export async function summariesByIds(ids: string[]): Promise<{ found: TraceSummary[]; missing: string[] }> {
  const p = new URLSearchParams();
  ids.forEach((id) => p.append('traceID', id));
  const resp = await fetch(`api/traces?${p}`);
  const body = await resp.json();
  if (!resp.ok) throw new ApiError(resp.status, body?.errors?.[0]?.msg ?? `HTTP ${resp.status}`);
  const found: TraceSummary[] = (body.data ?? []).map(summaryFromJaeger);
  const missing = (body.errors ?? []).map((e: any) => e.traceID).filter(Boolean);
  return { found, missing };
}

function summaryFromJaeger(t: any): TraceSummary {
  const spans: any[] = t.spans ?? [];
  const ids = new Set(spans.map((s) => s.spanID));
  let start = Infinity, end = -Infinity;
  const svc = new Map<string, { spanCount: number; errorSpanCount: number }>();
  let errors = 0, orphans = 0;
  let root: any = null;
  for (const s of spans) {
    start = Math.min(start, s.startTime);
    end = Math.max(end, s.startTime + s.duration);
    const name = t.processes?.[s.processID]?.serviceName ?? '';
    const e = svc.get(name) ?? { spanCount: 0, errorSpanCount: 0 };
    e.spanCount++;
    const isErr = (s.tags ?? []).some((kv: any) => kv.key === 'error' && (kv.value === true || kv.value === 'true'));
    if (isErr) {
      e.errorSpanCount++;
      errors++;
    }
    svc.set(name, e);
    const parent = (s.references ?? [])[0];
    if (!parent) {
      if (!root || s.startTime < root.startTime) root = s;
    } else if (!ids.has(parent.spanID)) orphans++;
  }
  return {
    traceId: t.traceID,
    rootServiceName: root ? t.processes?.[root.processID]?.serviceName ?? '' : '',
    rootOperationName: root?.operationName ?? '',
    start,
    duration: end - start,
    spanCount: spans.length,
    errorSpanCount: errors,
    orphanSpanCount: orphans,
    services: [...svc.entries()].sort().map(([name, v]) => ({ name, ...v })),
  };
}

export interface DependencyLink {
  parent: string;
  child: string;
  callCount: number;
}

export const fetchDependencies = (endMs: number, lookbackMs: number) =>
  getJson<{ data: DependencyLink[] | null }>(`api/dependencies?endTs=${endMs}&lookback=${lookbackMs}`).then((r) => r.data ?? []);

/** One `/api/metrics/{kind}` call; null when metrics are not configured (501). */
export async function fetchMetrics(kind: string, params: Record<string, string | string[]>): Promise<any | null> {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) (Array.isArray(v) ? v : [v]).forEach((x) => p.append(k, x));
  const resp = await fetch(`api/metrics/${kind}?${p}`);
  if (resp.status === 501) return null;
  const body = await resp.json().catch(() => null);
  if (!resp.ok) throw new ApiError(resp.status, body?.errors?.[0]?.msg ?? `HTTP ${resp.status}`);
  return body;
}

export const traceJsonUrl = (id: string, raw = false) => `api/traces/${id}?prettyPrint=true${raw ? '&raw=true' : ''}`;
export const compactTraceUrl = (id: string) => `api/ui/traces/${id}`;
