// Promise-based access to the trace worker (src/worker/worker.ts).

import type { SpanDetail, TraceModel } from '../model/types';

export interface LoadTimings {
  fetchMs?: number;
  parseMs?: number;
  buildMs: number;
  bytes?: number;
  /** Worker phase ends, ms since the epoch (see worker.ts). */
  marks?: Record<string, number>;
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
    try {
      worker!.postMessage({ ...msg, id }, transfer);
    } catch (e) {
      pending.delete(id);
      reject(e);
    }
  });
}

declare global {
  interface Window {
    /** The trace request index.html starts before the app loads, when the page is /trace/{id}. */
    __clewPrefetch?: { id: string; resp: Promise<Response> };
  }
}

/** The prefetched response for trace `id`, taken once. */
function takePrefetch(id: string): Promise<Response> | null {
  const p = window.__clewPrefetch;
  if (!p || p.id !== id) return null;
  window.__clewPrefetch = undefined;
  return p.resp;
}

/**
 * Loads trace `id` from `url` into the worker. When index.html already
 * started the request, its body stream is handed to the worker
 * (transferred) instead of fetching again.
 */
export async function loadTrace(key: string, id: string, url: string) {
  // Relative API paths resolve against <base href> here: in the worker they would resolve against the script's URL.
  const abs = new URL(url, document.baseURI).href;
  const pre = takePrefetch(id);
  const resp = pre && (await pre.catch(() => null));
  if (resp?.body) {
    const msg = { type: 'load', key, url: abs, stream: resp.body, status: resp.status, length: Number(resp.headers.get('content-length')) || 0 };
    try {
      return await call<{ model: TraceModel; timings: LoadTimings }>(msg, [resp.body as unknown as Transferable]);
    } catch (e) {
      // A browser that cannot transfer streams: fetch in the worker.
      if (!(e instanceof DOMException)) throw e;
    }
  }
  return call<{ model: TraceModel; timings: LoadTimings }>({ type: 'load', key, url: abs });
}
export const openTrace = (key: string) => call<{ model: TraceModel; timings: LoadTimings }>({ type: 'open', key });
export const parseFile = (text: string, prefix: string) =>
  call<{ key: string; traceID: string; spanCount: number; name: string }[]>({ type: 'parse', text, prefix });
export const spanDetail = (key: string, index: number) => call<SpanDetail>({ type: 'detail', key, index });
export const findSpans = (key: string, query: string) => call<Int32Array>({ type: 'find', key, query });
/** A loaded trace as Jaeger UI JSON. */
export const traceJaegerJson = (key: string) => call<any>({ type: 'jaeger', key });
