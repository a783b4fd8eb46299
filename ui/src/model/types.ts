// The trace shapes the UI works with.
//
// `CompactTrace` is what `GET /api/ui/traces/{id}` returns (format
// `clew-ui-trace/2`, documented in crates/clew-query/src/api/ui_trace.rs);
// uploads (Jaeger JSON, OTLP JSON) are converted into the same shape, so
// one pipeline builds every trace.
//
// `TraceModel` is what the worker hands to the page: columns as typed
// arrays (transferred, not copied), service and operation names, and the
// tree (DFS order, depth, subtree sizes). Tags and logs stay in the worker
// and are fetched per span on demand (see worker.ts).

/** Flat tag list: [keyIndex, type, value, keyIndex, type, value, …]. */
export type TagList = number[];

export interface CompactTrace {
  format: 'clew-ui-trace/2';
  traceID: string;
  /** µs since the epoch. */
  startTime: number;
  spanCount: number;
  warnings: string[];
  strings: string[];
  processes: { service: number; tags: TagList }[];
  /** 16 hex digits per span, concatenated. */
  spanID: string;
  parent: number[];
  /** µs since startTime. */
  start: number[];
  duration: number[];
  process: number[];
  operation: number[];
  flags: number[];
  /** Span i's tags: tagData[tagStart[i] .. tagStart[i + 1]]. */
  tagStart: number[];
  tagData: number[];
  /** Span i's logs: logStart[i] .. logStart[i + 1]; log j at logTime[j] (µs since startTime), fields logData[logFieldStart[j] .. logFieldStart[j + 1]]. */
  logStart: number[];
  logTime: number[];
  logFieldStart: number[];
  logData: number[];
  refs: Record<string, [number, string, string][]>;
  spanWarnings: Record<string, string[]>;
}

export const COMPACT_FORMAT = 'clew-ui-trace/2';

/** Span i's tags as a flat [key, type, value, …] list. */
export const spanTags = (d: Pick<CompactTrace, 'tagStart' | 'tagData'>, i: number): TagList => d.tagData.slice(d.tagStart[i], d.tagStart[i + 1]);

/** Span i's logs as [µs since startTime, fields]. */
export function spanLogs(d: Pick<CompactTrace, 'logStart' | 'logTime' | 'logFieldStart' | 'logData'>, i: number): [number, TagList][] {
  const out: [number, TagList][] = [];
  for (let j = d.logStart[i]; j < d.logStart[i + 1]; j++) out.push([d.logTime[j], d.logData.slice(d.logFieldStart[j], d.logFieldStart[j + 1])]);
  return out;
}

/** Flattens per-span tags and logs into the compact columns. */
export function flatten(tags: TagList[], logs: [number, TagList][][]) {
  const tagStart = [0], tagData: number[] = [], logStart = [0], logTime: number[] = [], logFieldStart = [0], logData: number[] = [];
  for (let i = 0; i < tags.length; i++) {
    for (const x of tags[i]) tagData.push(x);
    tagStart.push(tagData.length);
    for (const [t, f] of logs[i] ?? []) {
      logTime.push(t);
      for (const x of f) logData.push(x);
      logFieldStart.push(logData.length);
    }
    logStart.push(logTime.length);
  }
  return { tagStart, tagData, logStart, logTime, logFieldStart, logData };
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
  /** Span IDs as 16 hex digits each, concatenated. */
  spanIDs: string;
}

export interface SkewReport {
  adjusted: number;
  maxDeltaUs: number;
}

export const spanIdAt = (m: { spanIDs: string }, i: number) => m.spanIDs.slice(i * 16, i * 16 + 16);

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
