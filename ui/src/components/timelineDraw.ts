// Drawing the timeline's rows on canvas, kept apart from the component
// (Timeline.tsx: layout, scrolling, pointer and keys). One frame draws only
// the rows in view, in passes that each set the canvas state once (one
// clip, one font), with text widths and labels cached across frames.

import { FLAG_ERROR, TraceModel } from '../model/types';
import { fmtDuration } from '../lib/format';

export const ROW_H = 24;
export const MINIMAP_H = 56;

// CSS variables read once per theme, not on every frame.
let varCache: { theme: string | undefined; values: Map<string, string> } = { theme: undefined, values: new Map() };
export function cssVar(name: string) {
  const theme = document.documentElement.dataset.theme;
  if (varCache.theme !== theme) varCache = { theme, values: new Map() };
  let v = varCache.values.get(name);
  if (v === undefined) {
    v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    varCache.values.set(name, v);
  }
  return v;
}

// Text widths per font, measured once: the names repeat on every frame.
const widths = new Map<string, Map<string, number>>();
function textWidth(ctx: CanvasRenderingContext2D, font: string, text: string): number {
  let m = widths.get(font);
  if (!m) widths.set(font, (m = new Map()));
  let v = m.get(text);
  if (v === undefined) {
    if (m.size > 5000) m.clear();
    v = ctx.measureText(text).width;
    m.set(text, v);
  }
  return v;
}

// Duration labels by value: formatting allocates, and rows repeat every frame while scrolling.
const labels = new Map<number, string>();
function durationLabel(us: number): string {
  let l = labels.get(us);
  if (l === undefined) {
    if (labels.size > 20000) labels.clear();
    labels.set(us, (l = fmtDuration(us)));
  }
  return l;
}

/** Space kept clear above and below the minimap's rows. */
export const MINI_PAD = 3;
/** Height of one span's row in the minimap: the whole trace fits, but a small trace is not stretched into blocks. */
export const miniRowH = (n: number) => Math.min((MINIMAP_H - 2 * MINI_PAD) / Math.max(n, 1), 6);

/** Width of the service & operation column for a timeline `w` wide. */
export const nameWidth = (w: number) => Math.round(Math.min(420, Math.max(220, w * 0.3)));

export function niceTicks(t0: number, t1: number, count: number): number[] {
  const span = t1 - t0;
  if (span <= 0) return [t0];
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(t0 / step) * step; v <= t1 + 1e-9; v += step) out.push(v);
  return out;
}

/** What one frame of rows needs. */
export interface RowsFrame {
  model: TraceModel;
  rows: Int32Array;
  /** Rows first .. last (exclusive) are in view; `top` is the scroll offset. */
  first: number;
  last: number;
  top: number;
  w: number;
  h: number;
  nameW: number;
  /** The time window: t0 .. t0 + span µs over `tw` px right of the name column. */
  t0: number;
  span: number;
  tw: number;
  colors: string[];
  /** Critical-path segments per span: [from, to, from, to, …] µs. */
  segIndex: Map<number, number[]>;
  selected: number;
  hover: number;
  focus: number;
  matches: Uint8Array | null;
  collapsed: Set<number>;
  showCritical: boolean;
}

/** Backgrounds, names, bars (with error outlines and critical-path segments) and duration labels. */
export function drawRows(ctx: CanvasRenderingContext2D, f: RowsFrame) {
  const { model, rows, first, last, top, w, h, nameW, t0, span, tw, colors, segIndex } = f;
  const sx = (t: number) => nameW + ((t - t0) / span) * tw;
  const text = cssVar('--text'), muted = cssVar('--muted'), sel = cssVar('--select'), hov = cssVar('--hover');
  const find = cssVar('--find'), err = cssVar('--error'), crit = cssVar('--critical'), accent = cssVar('--accent');
  ctx.textBaseline = 'middle';
  const font = cssVar('--font');
  const fName = `12px ${font}`, fService = `600 12px ${font}`, fLabel = `11px ${font}`, fBang = `bold 9px ${font}`;
  const mid = ROW_H / 2;
  // Pass 1: row backgrounds (selection, find matches, hover).
  for (let r = first; r < last; r++) {
    const i = rows[r];
    const y = r * ROW_H - top;
    const isSel = i === f.selected;
    const isMatch = f.matches && f.matches[i];
    if (isSel || isMatch || i === f.hover) {
      ctx.fillStyle = isSel ? sel : isMatch ? find : hov;
      ctx.fillRect(0, y, w, ROW_H);
    }
    if (i === f.focus) {
      ctx.strokeStyle = accent;
      ctx.strokeRect(1.5, y + 1.5, w - 3, ROW_H - 3);
    }
  }
  // Pass 2: the name column, under one clip; one font switch per kind of text.
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, nameW - 8, h);
  ctx.clip();
  const textX = new Float64Array(last - first);
  for (let r = first; r < last; r++) {
    const i = rows[r];
    const y = r * ROW_H - top;
    const indent = Math.min(model.depth[i] * 14, nameW - 140) + 8;
    ctx.fillStyle = colors[model.service[i]];
    ctx.fillRect(indent + 14, y + 5, 3, ROW_H - 10);
    let x = indent + 22;
    if (model.flags[i] & FLAG_ERROR) {
      ctx.fillStyle = err;
      ctx.beginPath();
      ctx.arc(x + 5, y + mid, 5, 0, Math.PI * 2);
      ctx.fill();
      x += 14;
    }
    textX[r - first] = x;
  }
  ctx.font = fBang;
  ctx.fillStyle = '#fff';
  for (let r = first; r < last; r++) {
    const i = rows[r];
    if (model.flags[i] & FLAG_ERROR) ctx.fillText('!', textX[r - first] - 10.5, (r * ROW_H - top) + mid + 0.5);
  }
  ctx.font = fService;
  ctx.fillStyle = text;
  for (let r = first; r < last; r++) {
    const i = rows[r];
    const svc = model.services[model.service[i]];
    ctx.fillText(svc, textX[r - first], r * ROW_H - top + mid);
    textX[r - first] += textWidth(ctx, fService, svc) + 6;
  }
  ctx.font = fName;
  ctx.fillStyle = muted;
  for (let r = first; r < last; r++) {
    const i = rows[r];
    const y = r * ROW_H - top + mid;
    if (model.childCount[i] > 0) ctx.fillText(f.collapsed.has(i) ? '▸' : '▾', Math.min(model.depth[i] * 14, nameW - 140) + 8, y);
    const op = model.operations[model.operation[i]];
    ctx.fillText(op, textX[r - first], y);
    if (f.collapsed.has(i)) ctx.fillText(`(+${model.descendants[i]})`, textX[r - first] + textWidth(ctx, fName, op) + 6, y);
  }
  ctx.restore();
  // Pass 3: bars, error outlines, critical-path segments with end markers.
  for (let r = first; r < last; r++) {
    const i = rows[r];
    const y = r * ROW_H - top;
    const bx = sx(model.start[i]);
    const bw = Math.max(1, (model.duration_[i] / span) * tw);
    ctx.fillStyle = colors[model.service[i]];
    ctx.fillRect(bx, y + 6, bw, ROW_H - 12);
    if (model.flags[i] & FLAG_ERROR) {
      ctx.strokeStyle = err;
      ctx.lineWidth = 1.5;
      ctx.strokeRect(bx, y + 6, bw, ROW_H - 12);
      ctx.lineWidth = 1;
    }
    if (f.showCritical) {
      const segs = segIndex.get(i);
      if (segs) {
        ctx.fillStyle = crit;
        for (let k = 0; k < segs.length; k += 2) {
          const a = sx(segs[k]), b = sx(segs[k + 1]);
          ctx.fillRect(a, y + mid - 1.5, Math.max(1, b - a), 3);
          // Markers where the path enters and leaves this span, so a segment's time span reads at a glance.
          if (b - a >= 4) {
            ctx.fillRect(a, y + 4, 1.5, ROW_H - 8);
            ctx.fillRect(b - 1.5, y + 4, 1.5, ROW_H - 8);
          }
        }
      }
    }
  }
  // Pass 4: duration labels beside the bars.
  ctx.fillStyle = muted;
  ctx.font = fLabel;
  for (let r = first; r < last; r++) {
    const i = rows[r];
    const y = r * ROW_H - top + mid;
    const d = model.duration_[i];
    const bx = sx(model.start[i]);
    const bw = Math.max(1, (d / span) * tw);
    const label = durationLabel(d);
    const lw = textWidth(ctx, fLabel, label);
    if (bx + bw + 6 + lw < w) ctx.fillText(label, bx + bw + 6, y);
    else if (bx - 6 - lw > nameW) ctx.fillText(label, bx - 6 - lw, y);
  }
}
