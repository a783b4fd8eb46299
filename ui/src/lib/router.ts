// A small history router aware of the base path: the server writes the
// base path into <base href>, and every route is read relative to it, so
// `/jaeger/trace/abc` and `/trace/abc` both open the trace page.

import { useEffect, useState } from 'preact/hooks';

export const basePath = (() => {
  const b = new URL(document.baseURI).pathname;
  return b.endsWith('/') ? b.slice(0, -1) : b;
})();

export interface Location {
  path: string;
  query: URLSearchParams;
}

function read(): Location {
  let p = location.pathname;
  if (basePath && p.startsWith(basePath)) p = p.slice(basePath.length);
  if (!p.startsWith('/')) p = '/' + p;
  return { path: p, query: new URLSearchParams(location.search) };
}

let current = read();
const listeners = new Set<() => void>();
const emit = () => {
  current = read();
  listeners.forEach((l) => l());
};
window.addEventListener('popstate', emit);

/** The current location; re-renders the caller when it changes. */
export function useRoute(): Location {
  const [, set] = useState(0);
  useEffect(() => {
    const l = () => set((x) => x + 1);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return current;
}

/** Navigates to an app path (`/search?…`), relative to the base path. */
export function navigate(to: string, replace = false) {
  const url = basePath + to;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  emit();
  if (!replace) window.scrollTo(0, 0);
}

/** An href for an app path, for links that open in a new tab too. */
export const href = (to: string) => basePath + to;

/** A click handler for <a href> that routes in-app on plain clicks. */
export function linkClick(e: MouseEvent) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as HTMLElement).closest('a');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(basePath + '/') || url.pathname.startsWith(basePath + '/api/')) return;
  e.preventDefault();
  navigate(url.pathname.slice(basePath.length) + url.search);
}
