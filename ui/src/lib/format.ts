// Formatting of durations, times and IDs, as Jaeger UI shows them.

/** µs → "1.23s", "45.6ms", "789μs". */
export function fmtDuration(us: number): string {
  if (!Number.isFinite(us)) return '–';
  const a = Math.abs(us);
  if (a >= 3_600_000_000) return `${(us / 3_600_000_000).toFixed(2)}h`;
  if (a >= 60_000_000) return `${(us / 60_000_000).toFixed(2)}m`;
  if (a >= 1_000_000) return `${+(us / 1_000_000).toFixed(2)}s`;
  if (a >= 1_000) return `${+(us / 1_000).toFixed(2)}ms`;
  return `${+us.toFixed(us < 10 ? 2 : 0)}μs`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** µs epoch → "2026-12-02 14:05:06.123". */
export function fmtTime(us: number): string {
  const d = new Date(us / 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** µs epoch → "14:05:06". */
export function fmtClock(us: number): string {
  const d = new Date(us / 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "5 minutes ago" style. */
export function fmtAgo(us: number, nowMs = Date.now()): string {
  const s = Math.round((nowMs - us / 1000) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  if (s < 86400) return `${Math.round(s / 3600)} hours ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export const shortId = (id: string) => id.replace(/^0+(?=.{7})/, '').slice(0, 7);

/** Go-style duration ("1.2s", "100ms", "500us") → µs, or NaN. */
export function parseGoDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/g;
  let total = 0, m: RegExpExecArray | null, consumed = 0;
  const mult: Record<string, number> = { ns: 0.001, us: 1, 'µs': 1, 'μs': 1, ms: 1000, s: 1e6, m: 6e7, h: 3.6e9 };
  while ((m = re.exec(s.trim()))) {
    total += parseFloat(m[1]) * mult[m[2]];
    consumed += m[0].length;
  }
  return consumed === s.trim().length && consumed > 0 ? total : NaN;
}

/** logfmt-ish `a=b c="d e"` → object; also accepts a JSON object. */
export function parseTags(s: string): Record<string, string> | null {
  const t = s.trim();
  if (!t) return {};
  if (t.startsWith('{')) {
    try {
      const o = JSON.parse(t);
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
    } catch {
      return null;
    }
  }
  const out: Record<string, string> = {};
  const re = /\s*([^\s=]+)=("((?:[^"\\]|\\.)*)"|\S*)/y;
  let pos = 0;
  while (pos < t.length) {
    re.lastIndex = pos;
    const m = re.exec(t);
    if (!m) return null;
    out[m[1]] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2];
    pos = re.lastIndex;
    while (t[pos] === ' ') pos++;
  }
  return out;
}

export const fmtTags = (o: Record<string, string>) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${/[\s"]/.test(v) ? JSON.stringify(v) : v}`)
    .join(' ');

export const PALETTE = [
  '#4f6bed', '#17a2b8', '#e8833a', '#2fa86b', '#c2459e', '#8a63d2', '#d4a017', '#3c8dbc', '#e05d5d', '#5aa02c',
  '#b5651d', '#1f9e89', '#d8578a', '#6574cd', '#a0522d', '#26a69a', '#ef6c00', '#7e57c2', '#9e9d24', '#00838f',
];

const COLORS_KEY = 'clew-service-colors';
/** Palette slot per service name, kept in localStorage. */
const slots: Record<string, number> = (() => {
  try {
    const v = JSON.parse(localStorage.getItem(COLORS_KEY) ?? '{}');
    return v && typeof v === 'object' && Object.keys(v).length < 500 ? v : {};
  } catch {
    return {};
  }
})();

/**
 * A colour per service name, assigned in order of first use (the least
 * used palette slot, so the first services seen get distinct colours) and
 * remembered in localStorage, so the timeline, the dependency graph and a
 * bookmarked search agree across pages, reloads and sessions.
 */
export function serviceColor(name: string): string {
  let slot = slots[name];
  if (typeof slot !== 'number' || !(slot >= 0 && slot < PALETTE.length)) {
    const uses = new Array<number>(PALETTE.length).fill(0);
    for (const k in slots) if (slots[k] >= 0 && slots[k] < PALETTE.length) uses[slots[k]]++;
    slot = uses.indexOf(Math.min(...uses));
    slots[name] = slot;
    try {
      localStorage.setItem(COLORS_KEY, JSON.stringify(slots));
    } catch {}
  }
  return PALETTE[slot];
}
