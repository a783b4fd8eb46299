// The binary compact trace (`clew-ui-trace/3`), as served by
// `GET /api/ui/traces/{id}`; the layout is documented in
// crates/clew-query/src/api/ui_trace.rs. Columns become typed arrays
// viewing the body (no parse, no copy). The columns the tree needs come
// first, so `readLayout` + `decode(…, STRUCTURE)` can build the timeline
// before the tags, logs and most strings have arrived.
//
// `encodeCompact` writes the same bytes from a CompactTrace, for the tests
// and the benchmark's generated traces.

import type { Column, CompactTrace } from './types';

export const BINARY_FORMAT = 'clew-ui-trace/3';
const MAGIC = 'CLEWUIT3';

type ColType = 'i32' | 'u32' | 'f64' | 'u8' | 'json';
const WIDTH: Record<ColType, number> = { i32: 4, u32: 4, f64: 8, u8: 1, json: 1 };

/** The columns, in body order. */
const COLUMNS: [keyof CompactTrace | 'strings', ColType][] = [
  ['parent', 'i32'],
  ['start', 'f64'],
  ['duration', 'f64'],
  ['process', 'u32'],
  ['operation', 'u32'],
  ['flags', 'u8'],
  ['spanID', 'u32'],
  ['tagStart', 'u32'],
  ['tagKey', 'u32'],
  ['tagType', 'u8'],
  ['tagValue', 'f64'],
  ['logStart', 'u32'],
  ['logTime', 'f64'],
  ['logFieldStart', 'u32'],
  ['logKey', 'u32'],
  ['logType', 'u8'],
  ['logValue', 'f64'],
  ['strings', 'json'],
];

/** The columns the tree and timeline need (all before the tags). */
export const STRUCTURE = ['parent', 'start', 'duration', 'process', 'operation', 'flags', 'spanID'];

export interface ColumnAt {
  type: ColType;
  count: number;
  /** Byte offset from the start of the body. */
  offset: number;
  end: number;
}

export interface Layout {
  header: any;
  columns: Map<string, ColumnAt>;
  /** Total body length the header promises. */
  total: number;
}

const align8 = (n: number) => (n + 7) & ~7;

/** The header and column offsets, or null while fewer bytes than the header have arrived. */
export function readLayout(bytes: Uint8Array): Layout | null {
  if (bytes.length < 12) return null;
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== MAGIC) throw new Error('not a clew-ui-trace/3 body');
  const len = new DataView(bytes.buffer, bytes.byteOffset, 12).getUint32(8, true);
  if (bytes.length < 12 + len) return null;
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len)));
  if (header.format !== BINARY_FORMAT) throw new Error(`unknown trace format ${header.format}`);
  const columns = new Map<string, ColumnAt>();
  let off = 12 + len;
  for (const [name, type, count] of header.columns as [string, ColType, number][]) {
    const w = WIDTH[type];
    if (!w) throw new Error(`unknown column type ${type}`);
    columns.set(name, { type, count, offset: off, end: off + count * w });
    off = align8(off + count * w);
  }
  return { header, columns, total: off };
}

/** Byte offset by which all the named columns have arrived. */
export const needed = (l: Layout, names: string[]) => Math.max(0, ...names.map((n) => l.columns.get(n)?.end ?? 0));

function view(buf: ArrayBuffer, c: ColumnAt | undefined): Column {
  if (!c) return [];
  switch (c.type) {
    case 'i32':
      return new Int32Array(buf, c.offset, c.count);
    case 'u32':
      return new Uint32Array(buf, c.offset, c.count);
    case 'f64':
      return new Float64Array(buf, c.offset, c.count);
    default:
      return new Uint8Array(buf, c.offset, c.count);
  }
}

/**
 * A CompactTrace over `buf` (which holds the body from byte 0). With
 * `only`, the other columns are left empty and `strings` holds just the
 * header's (enough for the tree); without, everything is read.
 */
export function decode(buf: ArrayBuffer, l: Layout, only?: string[]): CompactTrace {
  const h = l.header;
  const doc: any = {
    traceID: h.traceID,
    startTime: h.startTime,
    spanCount: h.spanCount,
    warnings: h.warnings ?? [],
    processes: h.processes ?? [],
    refs: h.refs ?? {},
    spanWarnings: h.spanWarnings ?? {},
    strings: h.strings ?? [],
  };
  for (const [name] of COLUMNS) {
    if (name === 'strings') continue;
    doc[name] = only && !only.includes(name) ? [] : view(buf, l.columns.get(name));
  }
  const rest = l.columns.get('strings');
  if (!only && rest && rest.count) {
    const more: string[] = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, rest.offset, rest.count)));
    doc.strings = doc.strings.concat(more);
  }
  return doc as CompactTrace;
}

/** A whole body at once. */
export function decodeBody(body: ArrayBuffer): CompactTrace {
  const l = readLayout(new Uint8Array(body));
  if (!l || body.byteLength < l.total) throw new Error('truncated clew-ui-trace/3 body');
  return decode(body, l);
}

/** The binary body of a trace (what clew serves for it). */
export function encodeCompact(d: CompactTrace, headerStrings = headerStringCount(d)): Uint8Array {
  const enc = new TextEncoder();
  const cols: [string, ColType, ArrayLike<number> | Uint8Array][] = COLUMNS.map(([name, type]) =>
    name === 'strings' ? [name, type, enc.encode(JSON.stringify(d.strings.slice(headerStrings)))] : [name, type, (d as any)[name] as Column],
  );
  const header = {
    format: BINARY_FORMAT,
    traceID: d.traceID,
    startTime: d.startTime,
    spanCount: d.spanCount,
    warnings: d.warnings,
    strings: d.strings.slice(0, headerStrings),
    processes: d.processes,
    refs: d.refs,
    spanWarnings: d.spanWarnings,
    columns: cols.map(([name, type, v]) => [name, type, v.length]),
  };
  const head = enc.encode(JSON.stringify(header));
  const padded = align8(12 + head.length) - 12;
  let total = 12 + padded;
  for (const [, type, v] of cols) total = align8(total + v.length * WIDTH[type]);
  const out = new Uint8Array(total);
  out.fill(32, 12, 12 + padded);
  out.set(enc.encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, padded, true);
  out.set(head, 12);
  let off = 12 + padded;
  for (const [, type, v] of cols) {
    const n = v.length;
    if (type === 'json' || type === 'u8') out.set(v as ArrayLike<number>, off);
    else if (type === 'i32') new Int32Array(out.buffer, off, n).set(v);
    else if (type === 'u32') new Uint32Array(out.buffer, off, n).set(v);
    else new Float64Array(out.buffer, off, n).set(v);
    off = align8(off + n * WIDTH[type]);
  }
  return out;
}

/** How many leading strings the tree needs: up to the largest service, operation or process-tag index. */
function headerStringCount(d: CompactTrace): number {
  let max = 0;
  for (const p of d.processes) {
    max = Math.max(max, p.service);
    for (let k = 0; k + 2 < p.tags.length; k += 3) max = Math.max(max, p.tags[k], p.tags[k + 1] === 0 || p.tags[k + 1] >= 4 ? p.tags[k + 2] : 0);
  }
  for (let i = 0; i < d.operation.length; i++) if (d.operation[i] > max) max = d.operation[i];
  return Math.min(d.strings.length, max + 1);
}
