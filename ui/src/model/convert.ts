// Uploaded files → CompactTrace, so they go through the same pipeline as
// traces from the server. Accepts Jaeger UI JSON (`{"data": [trace…]}`, a
// bare array of traces, or one trace) and OTLP JSON (`{"resourceSpans":
// …}`, also one document per line as the OTel file exporter writes).

import { CompactTrace, flatten, spanIdHex, spanIdWords, spanLogs, spanTags, TAG_BINARY, TAG_BOOL, TAG_FLOAT, TAG_INT, TAG_OTHER, TAG_STRING, TagList } from './types';

class StringTable {
  map = new Map<string, number>();
  list: string[] = [];
  constructor() {
    this.get('');
  }
  get(s: string): number {
    let i = this.map.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.map.set(s, i);
    }
    return i;
  }
}

const hex16 = (s: string) => (s || '').toLowerCase().replace(/^0+(?=.)/, '').padStart(16, '0').slice(-16);
const hexTrace = (s: string) => {
  const h = (s || '').toLowerCase().replace(/^0+(?=.)/, '');
  return h.length <= 16 ? h.padStart(16, '0') : h.padStart(32, '0');
};

interface RawSpan {
  traceID: string;
  spanID: string;
  operation: string;
  parentIDs: { type: number; traceID: string; spanID: string }[];
  start: number; // µs epoch
  duration: number; // µs
  process: number;
  error: boolean;
  kind: number;
  tags: TagList;
  logs: [number, TagList][];
  warnings: string[];
}

const KIND_CODES: Record<string, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

function jaegerTag(st: StringTable, out: TagList, kv: any) {
  const k = st.get(String(kv.key));
  const v = kv.value;
  switch (kv.type) {
    case 'bool':
      out.push(k, TAG_BOOL, v === true || v === 'true' ? 1 : 0);
      break;
    case 'int64':
      if (typeof v === 'number') out.push(k, TAG_INT, v);
      else out.push(k, TAG_OTHER, st.get(String(v)));
      break;
    case 'float64':
      out.push(k, TAG_FLOAT, Number(v));
      break;
    case 'binary':
      out.push(k, TAG_BINARY, st.get(String(v)));
      break;
    default:
      out.push(k, typeof v === 'string' ? TAG_STRING : TAG_OTHER, st.get(typeof v === 'string' ? v : JSON.stringify(v)));
  }
}

function finish(traceID: string, spans: RawSpan[], st: StringTable, processes: CompactTrace['processes'], warnings: string[]): CompactTrace {
  spans = spans.filter((s) => Number.isFinite(s.start));
  const byId = new Map<string, number>();
  spans.forEach((s, i) => {
    if (!byId.has(s.spanID)) byId.set(s.spanID, i);
  });
  let min = Infinity;
  for (const s of spans) min = Math.min(min, s.start);
  if (!Number.isFinite(min)) min = 0;
  const refs: CompactTrace['refs'] = {};
  const spanWarnings: CompactTrace['spanWarnings'] = {};
  const parent = spans.map((s, i) => {
    let p = -1;
    let used = -1;
    s.parentIDs.forEach((r, k) => {
      if (p >= 0 || hexTrace(r.traceID) !== hexTrace(s.traceID)) return;
      const j = byId.get(r.spanID);
      if (j !== undefined && j !== i) {
        p = j;
        used = k;
      }
    });
    const extra = s.parentIDs.filter((_, k) => k !== used);
    if (extra.length) refs[i] = extra.map((r) => [r.type, r.traceID, r.spanID]);
    if (s.warnings.length) spanWarnings[i] = s.warnings;
    return p;
  });
  return {
    traceID,
    startTime: min,
    spanCount: spans.length,
    warnings,
    strings: st.list,
    processes,
    spanID: spans.flatMap((s) => spanIdWords(s.spanID)),
    parent,
    start: spans.map((s) => s.start - min),
    duration: spans.map((s) => s.duration),
    process: spans.map((s) => s.process),
    operation: spans.map((s) => st.get(s.operation)),
    flags: spans.map((s) => (s.error ? 1 : 0) | (s.kind << 2)),
    ...flatten(
      spans.map((s) => s.tags),
      spans.map((s) => s.logs.map(([t, f]) => [t - min, f] as [number, TagList])),
    ),
    refs,
    spanWarnings,
  };
}

/** One Jaeger UI JSON trace (`{traceID, spans, processes}`). */
export function fromJaeger(trace: any): CompactTrace {
  const st = new StringTable();
  const processes: CompactTrace['processes'] = [];
  const procKey = new Map<string, number>();
  for (const [key, p] of Object.entries<any>(trace.processes ?? {})) {
    const tags: TagList = [];
    for (const kv of p.tags ?? []) jaegerTag(st, tags, kv);
    procKey.set(key, processes.length);
    processes.push({ service: st.get(p.serviceName ?? ''), tags });
  }
  const spans: RawSpan[] = (trace.spans ?? []).map((s: any): RawSpan => {
    let process = procKey.get(s.processID);
    if (process === undefined) {
      const tags: TagList = [];
      for (const kv of s.process?.tags ?? []) jaegerTag(st, tags, kv);
      process = processes.length;
      processes.push({ service: st.get(s.process?.serviceName ?? ''), tags });
    }
    const tags: TagList = [];
    let error = false;
    let kind = 0;
    for (const kv of s.tags ?? []) {
      jaegerTag(st, tags, kv);
      if (kv.key === 'error' && (kv.value === true || kv.value === 'true')) error = true;
      if (kv.key === 'span.kind') kind = KIND_CODES[String(kv.value)] ?? 0;
    }
    const refs = (s.references ?? []).map((r: any) => ({
      type: r.refType === 'FOLLOWS_FROM' ? 1 : 0,
      traceID: hexTrace(r.traceID ?? s.traceID),
      spanID: hex16(r.spanID),
    }));
    if (s.parentSpanID && !refs.some((r: any) => r.spanID === hex16(s.parentSpanID)))
      refs.unshift({ type: 0, traceID: hexTrace(s.traceID), spanID: hex16(s.parentSpanID) });
    return {
      traceID: hexTrace(s.traceID ?? trace.traceID),
      spanID: hex16(s.spanID),
      operation: s.operationName ?? '',
      parentIDs: refs,
      start: Number(s.startTime),
      duration: Number(s.duration) || 0,
      process,
      error,
      kind,
      tags,
      logs: (s.logs ?? []).map((l: any) => {
        const f: TagList = [];
        for (const kv of l.fields ?? []) jaegerTag(st, f, kv);
        return [Number(l.timestamp), f] as [number, TagList];
      }),
      warnings: s.warnings ?? [],
    };
  });
  return finish(hexTrace(trace.traceID ?? spans[0]?.traceID ?? ''), spans, st, processes, trace.warnings ?? []);
}

// ---- OTLP JSON ----

const b64hex = (s: string) => {
  if (/^[0-9a-fA-F]*$/.test(s)) return s.toLowerCase();
  try {
    return Array.from(atob(s), (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch {
    return s;
  }
};

function otlpValue(v: any): { type: number; value: any } {
  if (!v) return { type: TAG_STRING, value: '' };
  if ('stringValue' in v) return { type: TAG_STRING, value: String(v.stringValue) };
  if ('boolValue' in v) return { type: TAG_BOOL, value: v.boolValue ? 1 : 0 };
  if ('intValue' in v) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? { type: TAG_INT, value: n } : { type: TAG_OTHER, value: String(v.intValue) };
  }
  if ('doubleValue' in v) return { type: TAG_FLOAT, value: Number(v.doubleValue) };
  if ('bytesValue' in v) return { type: TAG_BINARY, value: b64hex(v.bytesValue) };
  if ('arrayValue' in v) return { type: TAG_OTHER, value: JSON.stringify((v.arrayValue.values ?? []).map((x: any) => otlpValue(x).value)) };
  if ('kvlistValue' in v)
    return { type: TAG_OTHER, value: JSON.stringify(Object.fromEntries((v.kvlistValue.values ?? []).map((kv: any) => [kv.key, otlpValue(kv.value).value]))) };
  return { type: TAG_STRING, value: '' };
}

function otlpAttrs(st: StringTable, attrs: any[] | undefined, skip?: string): TagList {
  const out: TagList = [];
  for (const kv of attrs ?? []) {
    if (kv.key === skip) continue;
    const { type, value } = otlpValue(kv.value);
    out.push(st.get(kv.key), type, type === TAG_STRING || type >= TAG_BINARY ? st.get(value) : value);
  }
  return out;
}

const OTLP_KINDS = [0, 1, 2, 3, 4, 5]; // OTLP: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer

/** OTLP JSON documents → one CompactTrace per trace ID. */
export function fromOtlp(docs: any[]): CompactTrace[] {
  const byTrace = new Map<string, { st: StringTable; processes: CompactTrace['processes']; spans: RawSpan[]; procIndex: Map<any, number> }>();
  for (const doc of docs) {
    for (const rs of doc.resourceSpans ?? []) {
      const attrs = rs.resource?.attributes ?? [];
      const serviceName = otlpValue(attrs.find((a: any) => a.key === 'service.name')?.value).value || 'unknown_service';
      for (const ss of rs.scopeSpans ?? rs.instrumentationLibrarySpans ?? []) {
        for (const s of ss.spans ?? []) {
          const tid = hexTrace(b64hex(s.traceId ?? ''));
          let t = byTrace.get(tid);
          if (!t) {
            t = { st: new StringTable(), processes: [], spans: [], procIndex: new Map() };
            byTrace.set(tid, t);
          }
          let process = t.procIndex.get(rs);
          if (process === undefined) {
            process = t.processes.length;
            t.processes.push({ service: t.st.get(serviceName), tags: otlpAttrs(t.st, attrs, 'service.name') });
            t.procIndex.set(rs, process);
          }
          const st = t.st;
          const tags = otlpAttrs(st, s.attributes);
          const kind = OTLP_KINDS[Number(s.kind) || 0] ?? 0;
          const kindNames = ['', 'internal', 'server', 'client', 'producer', 'consumer'];
          if (kind) tags.push(st.get('span.kind'), TAG_STRING, st.get(kindNames[kind]));
          const code = s.status?.code;
          const error = code === 2 || code === 'STATUS_CODE_ERROR';
          if (error) tags.push(st.get('error'), TAG_BOOL, 1);
          if (s.status?.message) tags.push(st.get('otel.status_description'), TAG_STRING, st.get(s.status.message));
          if (ss.scope?.name) tags.push(st.get('otel.scope.name'), TAG_STRING, st.get(ss.scope.name));
          const startNs = BigInt(s.startTimeUnixNano ?? 0);
          const endNs = BigInt(s.endTimeUnixNano ?? s.startTimeUnixNano ?? 0);
          const parentIDs: RawSpan['parentIDs'] = [];
          if (s.parentSpanId) parentIDs.push({ type: 0, traceID: tid, spanID: hex16(b64hex(s.parentSpanId)) });
          for (const l of s.links ?? []) {
            const rt = (l.attributes ?? []).find((a: any) => a.key === 'opentracing.ref_type');
            parentIDs.push({
              type: rt && otlpValue(rt.value).value === 'child_of' ? 0 : 1,
              traceID: hexTrace(b64hex(l.traceId ?? '')),
              spanID: hex16(b64hex(l.spanId ?? '')),
            });
          }
          t.spans.push({
            traceID: tid,
            spanID: hex16(b64hex(s.spanId ?? '')),
            operation: s.name ?? '',
            parentIDs,
            start: Number(startNs / 1000n),
            duration: Number((endNs - startNs) / 1000n),
            process,
            error,
            kind,
            tags,
            logs: (s.events ?? []).map((e: any) => {
              const f = otlpAttrs(st, e.attributes);
              f.unshift(st.get('event'), TAG_STRING, st.get(e.name ?? ''));
              return [Number(BigInt(e.timeUnixNano ?? 0) / 1000n), f] as [number, TagList];
            }),
            warnings: [],
          });
        }
      }
    }
  }
  return [...byTrace.entries()].map(([tid, t]) => finish(tid, t.spans, t.st, t.processes, []));
}

/** Any supported upload → traces. Throws with a readable message otherwise. */
export function parseUpload(text: string): CompactTrace[] {
  let docs: any[];
  try {
    docs = [JSON.parse(text)];
  } catch {
    // OTLP file exporter: one JSON document per line.
    try {
      docs = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    } catch (e) {
      throw new Error(`not JSON: ${(e as Error).message}`);
    }
  }
  if (docs.some((d) => d && (d.resourceSpans || d.result?.resourceSpans))) {
    return fromOtlp(docs.map((d) => (d.result?.resourceSpans ? d.result : d)));
  }
  const traces: any[] = [];
  for (const d of docs) {
    if (Array.isArray(d)) traces.push(...d);
    else if (Array.isArray(d?.data)) traces.push(...d.data);
    else if (d?.spans) traces.push(d);
  }
  if (!traces.length) throw new Error('no traces found: expected Jaeger JSON ({"data": [...]}) or OTLP JSON ({"resourceSpans": [...]})');
  return traces.map(fromJaeger);
}

/** A compact trace as Jaeger UI JSON (`{"data": [trace]}`): the JSON view and download of uploads, the generator's Jaeger form. */
export function compactToJaeger(d: CompactTrace): any {
  const tag = (t: TagList) => {
    const out = [];
    for (let k = 0; k + 2 < t.length; k += 3) {
      const type = ['string', 'bool', 'int64', 'float64', 'binary', 'string'][t[k + 1]];
      const v = t[k + 1] === 1 ? !!t[k + 2] : t[k + 1] === 2 || t[k + 1] === 3 ? t[k + 2] : d.strings[t[k + 2]];
      out.push({ key: d.strings[t[k]], type, value: v });
    }
    return out;
  };
  const processes: any = {};
  d.processes.forEach((p, k) => (processes[`p${k + 1}`] = { serviceName: d.strings[p.service], tags: tag(p.tags) }));
  const sid = (i: number) => spanIdHex(d.spanID, i);
  return {
    data: [
      {
        traceID: d.traceID,
        processes,
        warnings: null,
        spans: Array.from(d.parent, (p, i) => ({
          traceID: d.traceID,
          spanID: sid(i),
          operationName: d.strings[d.operation[i]],
          references: p >= 0 ? [{ refType: 'CHILD_OF', traceID: d.traceID, spanID: sid(p) }] : [],
          startTime: d.startTime + d.start[i],
          duration: d.duration[i],
          tags: tag(spanTags(d, i)),
          logs: spanLogs(d, i).map(([ts, f]) => ({ timestamp: d.startTime + ts, fields: tag(f) })),
          processID: `p${d.process[i] + 1}`,
          warnings: null,
        })),
      },
    ],
  };
}
