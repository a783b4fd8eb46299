// Promise-based access to the trace worker (src/worker/worker.ts).

import type { SpanDetail, TraceModel } from '../model/types';

export interface LoadTimings {
  buildMs: number;
  bytes?: number;
  /** Worker phase ends, ms since the epoch (see worker.ts). */
  marks?: Record<string, number>;
}

declare global {
  interface Window {
    /**
     * The worker index.html starts before the app's script has loaded, and
     * (on a /trace/{id} page) the trace load it already asked of it, as
     * request id -1. Replies that arrive before the app are kept in `replies`.
     */
    __clewEarly?: { worker: Worker; replies: MessageEvent[]; trace?: string; sentAt?: number };
  }
}

let worker: Worker | null = null;
let nextId = 1;
type Reply = { id: number; result?: any; error?: string };
const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
/** Replies nobody waits for yet (the early load's, when it beats the page). */
const unclaimed = new Map<number, Reply>();

function settle(r: Reply, p: { resolve: (v: any) => void; reject: (e: Error) => void }) {
  if (r.error !== undefined) p.reject(new Error(r.error));
  else p.resolve(r.result);
}

function onReply(e: MessageEvent) {
  const r = e.data as Reply;
  const p = pending.get(r.id);
  if (!p) {
    unclaimed.set(r.id, r);
    return;
  }
  pending.delete(r.id);
  settle(r, p);
}

/** Takes over the worker index.html started, or starts one (at app start, so its script loads while the page renders). */
export function startWorker() {
  if (worker) return;
  const early = window.__clewEarly;
  worker = early?.worker ?? new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = onReply;
  if (early) {
    early.replies.forEach(onReply);
    early.replies = [];
  }
}

function reply<T>(id: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = unclaimed.get(id);
    if (done) {
      unclaimed.delete(id);
      settle(done, { resolve, reject });
    } else pending.set(id, { resolve, reject });
  });
}

function call<T>(msg: any, transfer: Transferable[] = []): Promise<T> {
  startWorker();
  const id = nextId++;
  const r = reply<T>(id);
  worker!.postMessage({ ...msg, id }, transfer);
  return r;
}

export type Loaded = { model: TraceModel; timings: LoadTimings };

/** Loads trace `id` from `url` into the worker, or takes the load index.html already started for it. */
export function loadTrace(key: string, id: string, url: string): Promise<Loaded> {
  startWorker();
  const early = window.__clewEarly;
  if (early?.trace === id) {
    early.trace = undefined;
    return reply<Loaded>(-1);
  }
  // Relative API paths resolve against <base href> here: in the worker they would resolve against the script's URL.
  return call<Loaded>({ type: 'load', key, url: new URL(url, document.baseURI).href });
}

export const openTrace = (key: string) => call<Loaded>({ type: 'open', key });
export const parseFile = (text: string, prefix: string) =>
  call<{ key: string; traceID: string; spanCount: number; name: string }[]>({ type: 'parse', text, prefix });
export const spanDetail = (key: string, index: number) => call<SpanDetail>({ type: 'detail', key, index });
export const findSpans = (key: string, query: string) => call<Int32Array>({ type: 'find', key, query });
/** A loaded trace as Jaeger UI JSON. */
export const traceJaegerJson = (key: string) => call<any>({ type: 'jaeger', key });
