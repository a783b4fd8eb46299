// Promise-based access to the trace worker (src/worker/worker.ts).

import type { SpanDetail, TraceModel } from '../model/types';

export interface LoadTimings {
  fetchMs?: number;
  parseMs?: number;
  buildMs: number;
  bytes?: number;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

/** Starts the worker early (at app start), so its script loads while the page renders. */
export function startWorker() {
  if (!worker) {
    worker = new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e) => {
      const p = pending.get(e.data.id);
      if (!p) return;
      pending.delete(e.data.id);
      if (e.data.error !== undefined) p.reject(new Error(e.data.error));
      else p.resolve(e.data.result);
    };
  }
}

function call<T>(msg: any, transfer: Transferable[] = []): Promise<T> {
  startWorker();
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker!.postMessage({ ...msg, id }, transfer);
  });
}

// Relative API paths resolve against <base href> here: in the worker they would resolve against the script's URL.
export const loadTrace = (key: string, url: string) =>
  call<{ model: TraceModel; timings: LoadTimings }>({ type: 'load', key, url: new URL(url, document.baseURI).href });
export const openTrace = (key: string) => call<{ model: TraceModel; timings: LoadTimings }>({ type: 'open', key });
export const parseFile = (text: string, prefix: string) =>
  call<{ key: string; traceID: string; spanCount: number; name: string }[]>({ type: 'parse', text, prefix });
export const spanDetail = (key: string, index: number) => call<SpanDetail>({ type: 'detail', key, index });
export const findSpans = (key: string, query: string) => call<Int32Array>({ type: 'find', key, query });
export const traceDoc = (key: string) => call<any>({ type: 'doc', key });
