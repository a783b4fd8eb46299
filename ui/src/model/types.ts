// The trace shapes the UI works with.
//
// `CompactTrace` is what `GET /api/ui/traces/{id}` returns (format
// `clew-ui-trace/1`, documented in crates/clew-query/src/api/ui_trace.rs);
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
  format: 'clew-ui-trace/1';
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
  tags: TagList[];
  logs: (0 | [number, TagList][])[];
  refs: Record<string, [number, string, string][]>;
  spanWarnings: Record<string, string[]>;
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
