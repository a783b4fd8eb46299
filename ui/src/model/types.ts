// The trace shapes the UI works with.
//
// `CompactTrace` is what `GET /api/ui/traces/{id}` returns (the binary
// format `clew-ui-trace/3`, documented in crates/clew-query/src/api/ui_trace.rs
// and read by ./binary.ts): one column per span attribute, typed arrays
// viewing the response body without a parse. Uploads (Jaeger JSON, OTLP
// JSON) and the generator build the same shape with plain arrays, so one
// pipeline builds every trace.
//
// `TraceModel` is what the worker hands to the page: columns as typed
// arrays (transferred, not copied), service and operation names, and the
// tree (DFS order, depth, subtree sizes). Tags and logs stay in the worker
// and are fetched per span on demand (see worker.ts).

/** Flat tag list: [keyIndex, type, value, keyIndex, type, value, …] (process tags, one span's tags). */
export type TagList = number[];

/** One column: a plain array (uploads, generator) or a typed array (the binary format). */
export type Column = ArrayLike<number>;

export interface CompactTrace {
  traceID: string;
  /** µs since the epoch. */
  startTime: number;
  spanCount: number;
  warnings: string[];
  strings: string[];
  processes: { service: number; tags: TagList }[];
  /** Span IDs as two 32-bit words per span (high, low). */
  spanID: Column;
  parent: Column;
  /** µs since startTime. */
  start: Column;
  duration: Column;
  process: Column;
  operation: Column;
  flags: Column;
  /** Span i's tags: tagStart[i] .. tagStart[i + 1] in tagKey / tagType / tagValue. */
  tagStart: Column;
  tagKey: Column;
  tagType: Column;
  tagValue: Column;
  /** Span i's logs: logStart[i] .. logStart[i + 1]; log j at logTime[j] (µs since startTime), fields logFieldStart[j] .. logFieldStart[j + 1] in logKey / logType / logValue. */
  logStart: Column;
  logTime: Column;
  logFieldStart: Column;
  logKey: Column;
  logType: Column;
  logValue: Column;
  refs: Record<string, [number, string, string][]>;
  spanWarnings: Record<string, string[]>;
}

const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
/** Span i's ID as 16 hex digits. */
export const spanIdHex = (ids: Column, i: number) => hex8(ids[2 * i]) + hex8(ids[2 * i + 1]);
/** A hex span ID as its [high, low] words (shorter IDs are zero-padded). */
export function spanIdWords(hex: string): [number, number] {
  const h = (hex || '').replace(/^0+(?=.)/, '').padStart(16, '0').slice(-16);
  return [parseInt(h.slice(0, 8), 16) || 0, parseInt(h.slice(8), 16) || 0];
}

function triples(key: Column, type: Column, value: Column, from: number, to: number): TagList {
  const out: TagList = [];
  for (let k = from; k < to; k++) out.push(key[k], type[k], value[k]);
  return out;
}

/** Span i's tags as a flat [key, type, value, …] list. */
export const spanTags = (d: Pick<CompactTrace, 'tagStart' | 'tagKey' | 'tagType' | 'tagValue'>, i: number): TagList =>
  triples(d.tagKey, d.tagType, d.tagValue, d.tagStart[i], d.tagStart[i + 1]);

/** Span i's logs as [µs since startTime, fields]. */
export function spanLogs(d: Pick<CompactTrace, 'logStart' | 'logTime' | 'logFieldStart' | 'logKey' | 'logType' | 'logValue'>, i: number): [number, TagList][] {
  const out: [number, TagList][] = [];
  for (let j = d.logStart[i]; j < d.logStart[i + 1]; j++) out.push([d.logTime[j], triples(d.logKey, d.logType, d.logValue, d.logFieldStart[j], d.logFieldStart[j + 1])]);
  return out;
}

/** Per-span tag and log lists as the compact columns. */
export function flatten(tags: TagList[], logs: [number, TagList][][]) {
  const tagStart = [0], tagKey: number[] = [], tagType: number[] = [], tagValue: number[] = [];
  const logStart = [0], logTime: number[] = [], logFieldStart = [0], logKey: number[] = [], logType: number[] = [], logValue: number[] = [];
  for (let i = 0; i < tags.length; i++) {
    const t = tags[i];
    for (let k = 0; k + 2 < t.length; k += 3) tagKey.push(t[k]), tagType.push(t[k + 1]), tagValue.push(t[k + 2]);
    tagStart.push(tagKey.length);
    for (const [time, f] of logs[i] ?? []) {
      logTime.push(time);
      for (let k = 0; k + 2 < f.length; k += 3) logKey.push(f[k]), logType.push(f[k + 1]), logValue.push(f[k + 2]);
      logFieldStart.push(logKey.length);
    }
    logStart.push(logTime.length);
  }
  return { tagStart, tagKey, tagType, tagValue, logStart, logTime, logFieldStart, logKey, logType, logValue };
}

export const TAG_STRING = 0;
export const TAG_BOOL = 1;
export const TAG_INT = 2;
export const TAG_FLOAT = 3;
export const TAG_BINARY = 4;
export const TAG_OTHER = 5;

export const FLAG_ERROR = 1;
export const KINDS = ['', 'internal', 'server', 'client', 'producer', 'consumer'];
export const kindOf = (flags: number) => KINDS[(flags >> 2) & 7] ?? '';

/** The trace as the page sees it. Arrays are indexed by span. */
export interface TraceModel {
  traceID: string;
  startTime: number;
  n: number;
  /** Trace duration, µs (max end − min start). */
  duration: number;
  services: string[];
  operations: string[];
  /** Service index per span. */
  service: Int32Array;
  operation: Int32Array;
  parent: Int32Array;
  /** µs since startTime, after clock-skew adjustment. */
  start: Float64Array;
  duration_: Float64Array;
  flags: Int32Array;
  /** Spans in depth-first order, children by start time. */
  order: Int32Array;
  /** Position of each span in `order`. */
  pos: Int32Array;
  depth: Int32Array;
  /** Number of descendants (so a collapsed span skips that many rows). */
  descendants: Int32Array;
  childCount: Int32Array;
  /** 1 where the span has time on the critical path. */
  critical: Uint8Array;
  /** Critical-path segments: [span, from, to] triples (µs). */
  criticalSegments: Float64Array;
  maxDepth: number;
  errorCount: number;
  warnings: string[];
  skew: SkewReport;
  /** Span IDs as two 32-bit words per span (high, low). */
  spanIDs: Uint32Array;
}

export interface SkewReport {
  adjusted: number;
  maxDeltaUs: number;
}

export const spanIdAt = (m: { spanIDs: Uint32Array }, i: number) => spanIdHex(m.spanIDs, i);

export interface TagView {
  key: string;
  type: string;
  value: string;
}

/** One span with everything the detail panel shows. */
export interface SpanDetail {
  index: number;
  spanID: string;
  parentSpanID: string;
  service: string;
  operation: string;
  kind: string;
  start: number;
  duration: number;
  tags: TagView[];
  process: TagView[];
  logs: { offset: number; fields: TagView[] }[];
  references: { type: string; traceID: string; spanID: string }[];
  warnings: string[];
}
