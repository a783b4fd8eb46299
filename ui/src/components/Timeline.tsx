// The trace timeline: a minimap, a time ruler and the span rows, all drawn
// on canvas. Only the rows in view are drawn (a few dozen per frame,
// whatever the trace size); scrolling is native (a sticky canvas over a
// spacer as tall as all rows), and every redraw is batched into one
// animation frame.

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { TraceModel } from '../model/types';
import { fmtDuration, serviceColor } from '../lib/format';
import { cssVar, drawRows, MINI_PAD, MINIMAP_H, miniRowH, nameWidth, niceTicks, ROW_H } from './timelineDraw';

declare global {
  interface Window {
    /** Duration of each timeline draw, ms (for the benchmark's frame budget). */
    __clewDrawMs?: number[];
  }
}

const RULER_H = 28;

export interface TimelineProps {
  model: TraceModel;
  rows: Int32Array;
  collapsed: Set<number>;
  onToggle: (span: number) => void;
  selected: number;
  onSelect: (span: number) => void;
  matches: Uint8Array | null;
  /** Current find match (span index), scrolled into view. */
  focus: number;
  range: [number, number];
  onRange: (r: [number, number]) => void;
  showCritical: boolean;
  theme: string;
  onKey?: (e: KeyboardEvent) => boolean;
}

export function Timeline(p: TimelineProps) {
  const { model, rows } = p;
  const wrap = useRef<HTMLDivElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const mini = useRef<HTMLCanvasElement>(null);
  const ruler = useRef<HTMLCanvasElement>(null);
  const size = useRef({ w: 800, h: 400 }).current;
  const [, setRenders] = useState(0);
  const hover = useRef(-1);
  const frame = useRef(0);
  const props = useRef(p);
  props.current = p;

  const colors = useMemo(() => model.services.map((s) => serviceColor(s)), [model]);
  // Critical-path segments per span (CSR over the segment triples).
  const segIndex = useMemo(() => {
    const segs = model.criticalSegments;
    const bySpan = new Map<number, number[]>();
    for (let k = 0; k < segs.length; k += 3) {
      const i = segs[k];
      let l = bySpan.get(i);
      if (!l) bySpan.set(i, (l = []));
      l.push(segs[k + 1], segs[k + 2]);
    }
    return bySpan;
  }, [model]);

  // The size is measured in place, so the draw right after mounting (in
  // the same layout effect pass) already uses it; the re-render follows.
  useLayoutEffect(() => {
    const el = scroller.current!;
    const measure = () => {
      if (el.clientWidth === size.w && el.clientHeight === size.h) return;
      size.w = el.clientWidth;
      size.h = el.clientHeight;
      setRenders((n) => n + 1);
    };
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    measure();
    return () => ro.disconnect();
  }, []);

  const nameW = nameWidth(size.w);

  const draw = () => {
    const drawT0 = performance.now();
    frame.current = 0;
    const pr = props.current;
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    const w = size.w, h = size.h;
    const nameW = nameWidth(w);
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const bg = cssVar('--panel'), border = cssVar('--border');
    ctx.fillStyle = bg;
    ctx.fillRect(0, 0, w, h);
    const top = scroller.current!.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_H));
    const last = Math.min(pr.rows.length, Math.ceil((top + h) / ROW_H));
    const [t0, t1] = pr.range;
    const tw = w - nameW - 12;
    const sx = (t: number) => nameW + ((t - t0) / (t1 - t0)) * tw;
    // Grid lines at the ruler's ticks.
    ctx.strokeStyle = border;
    ctx.lineWidth = 1;
    for (const t of niceTicks(t0, t1, 6)) {
      const x = Math.round(sx(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, 0);
      ctx.lineTo(x, h);
      ctx.stroke();
    }
    drawRows(ctx, {
      model, rows: pr.rows, first, last, top, w, h, nameW, t0, span: t1 - t0, tw,
      colors, segIndex, selected: pr.selected, hover: hover.current, focus: pr.focus,
      matches: pr.matches, collapsed: pr.collapsed, showCritical: pr.showCritical,
    });
    // Column divider.
    ctx.fillStyle = border;
    ctx.fillRect(nameW - 1, 0, 1, h);
    drawRuler();
    drawMiniOverlay();
    const t = window.__clewTimings;
    if (t?.phases && t.phases.firstDrawEnd === undefined) {
      t.phases.firstDrawStart = drawT0;
      t.phases.firstDrawEnd = performance.now();
    }
    (window.__clewDrawMs ??= []).push(performance.now() - drawT0);
    if (window.__clewDrawMs.length > 2000) window.__clewDrawMs.splice(0, 1000);
  };

  // The frame runs the latest render's draw (current size, props, model).
  const drawRef = useRef(draw);
  drawRef.current = draw;
  const schedule = () => {
    if (!frame.current) frame.current = requestAnimationFrame(() => drawRef.current());
  };

  // ---- ruler ----
  const drawRuler = () => {
    const c = ruler.current;
    if (!c) return;
    const pr = props.current;
    const dpr = window.devicePixelRatio || 1;
    const w = size.w;
    const nameW = nameWidth(w);
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(RULER_H * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(RULER_H * dpr);
      c.style.width = `${w}px`;
      c.style.height = `${RULER_H}px`;
    }
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = cssVar('--panel-2');
    ctx.fillRect(0, 0, w, RULER_H);
    ctx.fillStyle = cssVar('--muted');
    ctx.font = `600 11px ${cssVar('--font')}`;
    ctx.textBaseline = 'middle';
    ctx.fillText('SERVICE & OPERATION', 12, RULER_H / 2);
    const [t0, t1] = pr.range;
    const tw = w - nameW - 12;
    ctx.font = `11px ${cssVar('--font')}`;
    for (const t of niceTicks(t0, t1, 6)) {
      const x = nameW + ((t - t0) / (t1 - t0)) * tw;
      ctx.fillRect(Math.round(x), RULER_H - 6, 1, 6);
      const label = fmtDuration(t);
      const lw = ctx.measureText(label).width;
      ctx.fillText(label, Math.min(Math.max(x - lw / 2, nameW + 2), w - lw - 2), RULER_H / 2 - 2);
    }
    ctx.fillStyle = cssVar('--border');
    ctx.fillRect(nameW - 1, 0, 1, RULER_H);
  };

  // ---- minimap: every span, drawn once into an image, then overlays ----
  // Drawn once per model and width into an offscreen canvas; each frame copies it (drawImage) and adds the overlays.
  const miniImage = useRef<HTMLCanvasElement | null>(null);
  useEffect(() => {
    const c = mini.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    const W = Math.max(1, Math.round(size.w * dpr)), H = Math.round(MINIMAP_H * dpr);
    const img = new ImageData(W, H);
    const data = img.data;
    const rgb = colors.map((c) => [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)]);
    const n = model.n;
    const dur = model.duration || 1;
    const rowsPer = miniRowH(n) * dpr;
    for (let j = 0; j < n; j++) {
      const i = model.order[j];
      const y0 = Math.floor(MINI_PAD * dpr + j * rowsPer);
      const y1 = Math.max(y0 + 1, Math.floor(MINI_PAD * dpr + (j + 1) * rowsPer) - (rowsPer > 3 ? 1 : 0));
      const x0 = Math.floor((model.start[i] / dur) * (W - 1));
      const x1 = Math.max(x0 + 1, Math.ceil(((model.start[i] + model.duration_[i]) / dur) * (W - 1)));
      const [r, g, b] = rgb[model.service[i]];
      for (let y = y0; y < y1 && y < H; y++) {
        let o = (y * W + x0) * 4;
        for (let x = x0; x < x1 && x < W; x++) {
          data[o] = r;
          data[o + 1] = g;
          data[o + 2] = b;
          data[o + 3] = 255;
          o += 4;
        }
      }
    }
    const off = document.createElement('canvas');
    off.width = W;
    off.height = H;
    off.getContext('2d')!.putImageData(img, 0, 0);
    miniImage.current = off;
    schedule();
  }, [model, size.w]);

  const drawMiniOverlay = () => {
    const c = mini.current;
    const img = miniImage.current;
    if (!c || !img) return;
    const pr = props.current;
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== img.width || c.height !== img.height) {
      c.width = img.width;
      c.height = img.height;
      c.style.width = `${size.w}px`;
      c.style.height = `${MINIMAP_H}px`;
    }
    const ctx = c.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(img, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const w = size.w;
    const dur = model.duration || 1;
    const [t0, t1] = pr.range;
    const a = (t0 / dur) * w, b = (t1 / dur) * w;
    ctx.fillStyle = 'rgba(120,120,140,0.35)';
    ctx.fillRect(0, 0, a, MINIMAP_H);
    ctx.fillRect(b, 0, w - b, MINIMAP_H);
    ctx.strokeStyle = cssVar('--accent');
    ctx.lineWidth = 1.5;
    ctx.strokeRect(a + 0.75, 0.75, Math.max(1, b - a - 1.5), MINIMAP_H - 1.5);
    // The rows in view (when nothing is collapsed, rows map to DFS positions).
    const top = scroller.current?.scrollTop ?? 0;
    const first = Math.floor(top / ROW_H);
    const lastRow = Math.min(pr.rows.length - 1, Math.ceil((top + size.h) / ROW_H));
    if (pr.rows.length && (first > 0 || lastRow < pr.rows.length - 1)) {
      const pa = model.pos[pr.rows[first] ?? 0] / model.n, pb = (model.pos[pr.rows[lastRow] ?? 0] + 1) / model.n;
      ctx.fillStyle = 'rgba(91,91,214,0.18)';
      const span = miniRowH(model.n) * model.n;
      ctx.fillRect(0, MINI_PAD + pa * span, w, Math.max(2, (pb - pa) * span));
    }
    if (drag.current && drag.current.mode === 'select') {
      const { x0, x1 } = drag.current;
      ctx.fillStyle = 'rgba(91,91,214,0.25)';
      ctx.fillRect(Math.min(x0, x1), 0, Math.abs(x1 - x0), MINIMAP_H);
    }
  };

  const drag = useRef<{ mode: 'select' | 'pan'; x0: number; x1: number; r0: [number, number] } | null>(null);
  const miniX = (e: MouseEvent) => e.clientX - mini.current!.getBoundingClientRect().left;
  const onMiniDown = (e: MouseEvent) => {
    const x = miniX(e);
    const dur = model.duration || 1;
    const [t0, t1] = props.current.range;
    const zoomed = t0 > 0 || t1 < dur;
    const inWindow = x >= (t0 / dur) * size.w && x <= (t1 / dur) * size.w;
    drag.current = { mode: zoomed && inWindow ? 'pan' : 'select', x0: x, x1: x, r0: [t0, t1] };
    const move = (ev: MouseEvent) => {
      const d = drag.current!;
      d.x1 = miniX(ev);
      if (d.mode === 'pan') {
        const dt = ((d.x1 - d.x0) / size.w) * dur;
        const len = d.r0[1] - d.r0[0];
        const s = Math.min(Math.max(0, d.r0[0] + dt), dur - len);
        props.current.onRange([s, s + len]);
      }
      schedule();
    };
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      const d = drag.current!;
      drag.current = null;
      if (d.mode === 'select') {
        if (Math.abs(d.x1 - d.x0) > 3) {
          const a = (Math.min(d.x0, d.x1) / size.w) * dur, b = (Math.max(d.x0, d.x1) / size.w) * dur;
          props.current.onRange([Math.max(0, a), Math.min(dur, b)]);
        } else {
          // A click scrolls to the rows at that height.
          const y = e.clientY - mini.current!.getBoundingClientRect().top;
          const j = Math.floor((y - MINI_PAD) / miniRowH(model.n));
          const i = model.order[Math.min(model.n - 1, Math.max(0, j))];
          const r = props.current.rows.indexOf(i);
          if (r >= 0) scroller.current!.scrollTop = Math.max(0, r * ROW_H - size.h / 3);
        }
      }
      schedule();
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };

  // Scroll the selected / focused row into view.
  const scrollTo = (span: number) => {
    const r = props.current.rows.indexOf(span);
    const el = scroller.current;
    if (r < 0 || !el) return;
    const y = r * ROW_H;
    if (y < el.scrollTop) el.scrollTop = y;
    else if (y + ROW_H > el.scrollTop + el.clientHeight) el.scrollTop = y - el.clientHeight + ROW_H * 2;
  };
  useEffect(() => {
    if (p.focus >= 0) scrollTo(p.focus);
  }, [p.focus]);
  useEffect(() => {
    if (p.selected >= 0) scrollTo(p.selected);
  }, [p.selected]);

  // The first frame with rows is drawn before the browser paints (not a
  // frame later), once the render knows the real size; later ones are batched.
  const firstDrawn = useRef(false);
  useLayoutEffect(() => {
    const el = scroller.current;
    const ph = window.__clewTimings?.phases;
    if (ph && ph.firstLayout === undefined) ph.firstLayout = performance.now();
    if (!firstDrawn.current && el && size.w > 0 && size.h > 0) {
      if (ph) ph.syncDraw = performance.now();
      firstDrawn.current = true;
      drawRef.current();
    } else schedule();
  });

  const rowAt = (e: MouseEvent) => {
    const rect = canvas.current!.getBoundingClientRect();
    const y = e.clientY - rect.top + scroller.current!.scrollTop;
    const r = Math.floor(y / ROW_H);
    return { r, x: e.clientX - rect.left, i: r >= 0 && r < props.current.rows.length ? props.current.rows[r] : -1 };
  };

  const onClick = (e: MouseEvent) => {
    const { i, x } = rowAt(e);
    if (i < 0) return;
    const indent = Math.min(model.depth[i] * 14, nameW - 140) + 8;
    if (model.childCount[i] > 0 && x >= indent - 4 && x <= indent + 12) p.onToggle(i);
    else p.onSelect(i === p.selected ? -1 : i);
    wrap.current?.focus();
  };
  // The bar tooltip: name, start, duration and the time on the critical path.
  const tip = useRef<HTMLDivElement>(null);
  const showTip = (e: MouseEvent, i: number, x: number) => {
    const el = tip.current;
    if (!el) return;
    if (i < 0 || x < nameW) {
      el.style.display = 'none';
      return;
    }
    const segs = segIndex.get(i);
    let onPath = 0;
    if (segs) for (let k = 0; k < segs.length; k += 2) onPath += segs[k + 1] - segs[k];
    const d = model.duration_[i];
    el.textContent = '';
    const title = document.createElement('b');
    title.textContent = `${model.services[model.service[i]]}: ${model.operations[model.operation[i]]}`;
    const line = document.createElement('div');
    line.textContent = `start +${fmtDuration(model.start[i])} · duration ${fmtDuration(d)}`;
    el.append(title, line);
    if (segs) {
      const c = document.createElement('div');
      c.textContent = `critical path ${fmtDuration(onPath)}${d > 0 ? ` (${Math.round((onPath / d) * 100)}%)` : ''} in ${segs.length / 2} segment${segs.length > 2 ? 's' : ''}`;
      el.append(c);
    }
    el.style.display = 'block';
    el.style.left = `${Math.min(e.clientX + 14, window.innerWidth - el.offsetWidth - 8)}px`;
    el.style.top = `${e.clientY + 16}px`;
  };
  const onMove = (e: MouseEvent) => {
    const { i, x } = rowAt(e);
    showTip(e, i, x);
    if (i !== hover.current) {
      hover.current = i;
      canvas.current!.style.cursor = i >= 0 ? 'pointer' : 'default';
      schedule();
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).tagName === 'INPUT') return;
    if (p.onKey?.(e)) return;
    const rows = p.rows;
    const r = p.selected >= 0 ? rows.indexOf(p.selected) : -1;
    const sel = (k: number) => {
      e.preventDefault();
      if (k >= 0 && k < rows.length) p.onSelect(rows[k]);
    };
    switch (e.key) {
      case 'ArrowDown':
      case 'j':
        return sel(r + 1);
      case 'ArrowUp':
      case 'k':
        return sel(Math.max(0, r - 1));
      case 'PageDown':
        return sel(Math.min(rows.length - 1, r + Math.floor(size.h / ROW_H)));
      case 'PageUp':
        return sel(Math.max(0, r - Math.floor(size.h / ROW_H)));
      case 'Home':
        return sel(0);
      case 'End':
        return sel(rows.length - 1);
      case 'ArrowLeft':
      case 'h':
        e.preventDefault();
        if (p.selected < 0) return;
        if (model.childCount[p.selected] > 0 && !p.collapsed.has(p.selected)) p.onToggle(p.selected);
        else if (model.parent[p.selected] >= 0) p.onSelect(model.parent[p.selected]);
        return;
      case 'ArrowRight':
      case 'l':
        e.preventDefault();
        if (p.selected >= 0 && p.collapsed.has(p.selected)) p.onToggle(p.selected);
        return;
      case 'Enter':
      case ' ':
        e.preventDefault();
        if (p.selected >= 0 && model.childCount[p.selected] > 0) p.onToggle(p.selected);
        return;
      case 'Escape':
        return p.onSelect(-1);
    }
  };

  const totalH = rows.length * ROW_H;
  return (
    <div class="timeline" ref={wrap} tabIndex={0} onKeyDown={onKeyDown} data-testid="timeline">
      <canvas ref={mini} class="minimap" onMouseDown={onMiniDown} onDblClick={() => p.onRange([0, model.duration])} title="Drag to zoom · drag the window to pan · double-click to reset · click to scroll" data-testid="minimap" />
      <canvas ref={ruler} class="ruler" />
      <div class="scroller" ref={scroller} onScroll={() => {
          // The row under the pointer changes: the tooltip would describe the wrong span.
          if (tip.current) tip.current.style.display = 'none';
          schedule();
        }}>
        <canvas ref={canvas} onClick={onClick} onMouseMove={onMove} onMouseLeave={() => {
            hover.current = -1;
            if (tip.current) tip.current.style.display = 'none';
            schedule();
          }} data-testid="timeline-canvas" />
        <div style={{ height: `${Math.max(0, totalH - size.h)}px` }} />
      </div>
      <div class="tooltip" ref={tip} style={{ display: 'none' }} data-testid="bar-tooltip" />
    </div>
  );
}
