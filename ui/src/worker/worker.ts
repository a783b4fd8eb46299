// The trace worker: fetches and parses traces, builds the model (tree,
// skew, critical path) off the main thread, and keeps each trace's tags and
// logs here, answering span-detail and find requests by message. The page
// only receives typed arrays (transferred, not copied) and name tables.

import { buildModel } from '../model/build';
import { parseUpload } from '../model/convert';
import { detail, find } from '../model/query';
import { CompactTrace, TraceModel } from '../model/types';

const docs = new Map<string, CompactTrace>();

function transferables(m: TraceModel): Transferable[] {
  return [m.service, m.operation, m.parent, m.start, m.duration_, m.flags, m.order, m.pos, m.depth, m.descendants, m.childCount, m.critical, m.criticalSegments].map(
    (a) => a.buffer,
  );
}

async function handle(msg: any): Promise<[any, Transferable[]]> {
  switch (msg.type) {
    case 'load': {
      const t0 = performance.now();
      const resp = await fetch(msg.url);
      const text = await resp.text();
      const t1 = performance.now();
      if (!resp.ok) {
        let m = `HTTP ${resp.status}`;
        try {
          m = JSON.parse(text).errors?.[0]?.msg ?? m;
        } catch {}
        throw new Error(m);
      }
      const doc = JSON.parse(text) as CompactTrace;
      const t2 = performance.now();
      docs.set(msg.key, doc);
      const model = buildModel(doc);
      const t3 = performance.now();
      const timings = { fetchMs: t1 - t0, parseMs: t2 - t1, buildMs: t3 - t2, bytes: text.length };
      return [{ model, timings }, transferables(model)];
    }
    case 'parse': {
      const traces = parseUpload(msg.text);
      const list = traces.map((t, k) => {
        const key = `${msg.prefix}${k}`;
        docs.set(key, t);
        let root = -1;
        t.parent.forEach((p, i) => {
          if (p < 0 && (root < 0 || t.start[i] < t.start[root])) root = i;
        });
        const name = root < 0 ? '' : `${t.strings[t.processes[t.process[root]]?.service ?? 0]}: ${t.strings[t.operation[root]]}`;
        return { key, traceID: t.traceID, spanCount: t.spanCount, name };
      });
      return [list, []];
    }
    case 'put': {
      docs.set(msg.key, msg.doc);
      return [true, []];
    }
    case 'open': {
      const doc = docs.get(msg.key);
      if (!doc) throw new Error('trace not loaded');
      const t0 = performance.now();
      const model = buildModel(doc);
      return [{ model, timings: { buildMs: performance.now() - t0 } }, transferables(model)];
    }
    case 'doc': {
      return [docs.get(msg.key) ?? null, []];
    }
    case 'detail': {
      const doc = docs.get(msg.key);
      if (!doc) throw new Error('trace not loaded');
      return [detail(doc, msg.index, msg.startShift ?? 0), []];
    }
    case 'find': {
      const doc = docs.get(msg.key);
      if (!doc) throw new Error('trace not loaded');
      const r = find(doc, msg.query);
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
