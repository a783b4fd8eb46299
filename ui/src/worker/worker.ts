// The trace worker: reads traces (binary, streamed), builds the model (tree,
// skew, critical path) off the main thread, and keeps each trace's tags and
// logs here, answering span-detail and find requests by message. The page
// only receives typed arrays (transferred, not copied) and name tables.
//
// A trace load answers as soon as the columns the tree needs have arrived
// (they come first in the body); the tags, logs and the rest of the string
// table keep streaming in, and detail / find requests wait for them.

import { buildModel } from '../model/build';
import { compactToJaeger, parseUpload } from '../model/convert';
import { decode, Layout, needed, readLayout, STRUCTURE } from '../model/binary';
import { detail, find } from '../model/query';
import { CompactTrace, TraceModel } from '../model/types';

/** Every trace the page may ask about, complete once its whole body has arrived. */
const docs = new Map<string, Promise<CompactTrace>>();

function transferables(m: TraceModel): Transferable[] {
  return [m.service, m.operation, m.parent, m.start, m.duration_, m.flags, m.order, m.pos, m.depth, m.descendants, m.childCount, m.critical, m.criticalSegments, m.spanIDs].map(
    (a) => a.buffer,
  );
}

const abs = () => performance.timeOrigin + performance.now();

async function errorText(resp: Response) {
  const text = await resp.text();
  try {
    return JSON.parse(text).errors?.[0]?.msg ?? `HTTP ${resp.status}`;
  } catch {
    return `HTTP ${resp.status}`;
  }
}

/**
 * Reads a body into one growing buffer; calls `onLayout` once the header
 * is in and `onBytes` after every chunk. Resolves with the whole body.
 */
async function readBody(stream: ReadableStream<Uint8Array>, sizeHint: number, onBytes: (buf: ArrayBuffer, len: number) => void): Promise<[ArrayBuffer, number]> {
  let buf = new Uint8Array(sizeHint > 0 ? sizeHint : 1 << 20);
  let len = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (len + value.length > buf.length) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, len + value.length));
      bigger.set(buf.subarray(0, len));
      buf = bigger;
    }
    buf.set(value, len);
    len += value.length;
    onBytes(buf.buffer, len);
  }
  return [buf.buffer, len];
}

/** Loads a trace; resolves with its model once the structure columns are in. */
function load(key: string, url: string) {
  const marks: Record<string, number> = { workerGot: abs() };
  let answered = false;
  return new Promise<[any, Transferable[]]>((resolve, reject) => {
    const whole = (async () => {
      const resp = await fetch(url);
      if (!resp.ok || !resp.body) throw new Error(await errorText(resp));
      marks.headers = abs();
      let layout: Layout | null = null;
      let structureEnd = Infinity;
      const answer = (buf: ArrayBuffer) => {
        answered = true;
        marks.structure = abs();
        const model = buildModel(decode(buf, layout!, STRUCTURE));
        marks.built = abs();
        resolve([{ model, timings: { marks, buildMs: marks.built - marks.structure, bytes: layout!.total } }, transferables(model)]);
      };
      const [buf, len] = await readBody(resp.body, Number(resp.headers.get('content-length')) || 0, (b, n) => {
        if (!layout) {
          layout = readLayout(new Uint8Array(b, 0, n));
          if (layout) structureEnd = needed(layout, STRUCTURE);
        }
        if (layout && !answered && n >= structureEnd) answer(b);
      });
      marks.body = abs();
      if (!layout) layout = readLayout(new Uint8Array(buf, 0, len));
      if (!layout || len < (layout as Layout).total) throw new Error(`the trace body ended early (${len} bytes)`);
      if (!answered) answer(buf);
      return decode(buf, layout);
    })();
    whole.catch((e) => {
      docs.delete(key);
      if (!answered) reject(e);
    });
    docs.set(key, whole);
  });
}

async function doc(key: string) {
  const d = docs.get(key);
  if (!d) throw new Error('trace not loaded');
  return d;
}

async function handle(msg: any): Promise<[any, Transferable[]]> {
  switch (msg.type) {
    case 'load':
      return load(msg.key, msg.url);
    case 'parse': {
      const traces = parseUpload(msg.text);
      const list = traces.map((t, k) => {
        const key = `${msg.prefix}${k}`;
        docs.set(key, Promise.resolve(t));
        let root = -1;
        for (let i = 0; i < t.spanCount; i++) if (t.parent[i] < 0 && (root < 0 || t.start[i] < t.start[root])) root = i;
        const name = root < 0 ? '' : `${t.strings[t.processes[t.process[root]]?.service ?? 0]}: ${t.strings[t.operation[root]]}`;
        return { key, traceID: t.traceID, spanCount: t.spanCount, name };
      });
      return [list, []];
    }
    case 'put': {
      docs.set(msg.key, Promise.resolve(msg.doc));
      return [true, []];
    }
    case 'open': {
      const d = await doc(msg.key);
      const t0 = performance.now();
      const model = buildModel(d);
      return [{ model, timings: { buildMs: performance.now() - t0 } }, transferables(model)];
    }
    case 'jaeger':
      return [compactToJaeger(await doc(msg.key)), []];
    case 'detail':
      return [detail(await doc(msg.key), msg.index, msg.startShift ?? 0), []];
    case 'find': {
      const r = find(await doc(msg.key), msg.query);
      return [r, [r.buffer]];
    }
    case 'drop': {
      docs.delete(msg.key);
      return [true, []];
    }
  }
  throw new Error(`unknown request ${msg.type}`);
}

self.onmessage = async (e: MessageEvent) => {
  const { id } = e.data;
  try {
    const [result, transfer] = await handle(e.data);
    (self as any).postMessage({ id, result }, transfer);
  } catch (err) {
    (self as any).postMessage({ id, error: (err as Error).message ?? String(err) });
  }
};
