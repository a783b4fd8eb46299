// The critical path: the chain of work that determined the trace's end
// time. Jaeger UI's rule: walking back from the end of a span, the child
// that finished last (before the current point) is on the path; the span's
// own time between that child's end and the current point is on the path
// too; then continue from that child's start. Children are first clipped
// to their parent's end; a child still running at the current point (it
// overlaps the child already on the path) is skipped, as in Jaeger UI.

export interface CriticalPath {
  /** 1 where a span has any time on the path. */
  onPath: Uint8Array;
  /** [span, from, to] triples, µs relative to the trace start. */
  segments: Float64Array;
}

interface TreeLike {
  roots: Int32Array;
  childStart: Int32Array;
  childList: Int32Array;
}

export function criticalPath(tree: TreeLike, start: ArrayLike<number>, duration: ArrayLike<number>): CriticalPath {
  const n = start.length;
  const onPath = new Uint8Array(n);
  const segs: number[] = [];
  if (n === 0) return { onPath, segments: new Float64Array(0) };
  // The path starts from the root that ends last.
  let root = tree.roots[0];
  for (const r of tree.roots) if (start[r] + duration[r] > start[root] + duration[root]) root = r;

  const end = (i: number) => start[i] + duration[i];
  // Explicit stack of [span, until] (the point up to which the span is on the path).
  const stack: [number, number][] = [[root, end(root)]];
  while (stack.length) {
    const [i, until] = stack.pop()!;
    onPath[i] = 1;
    // Children sorted by end time, latest first.
    const a = tree.childStart[i], b = tree.childStart[i + 1];
    const kids = Array.from(tree.childList.subarray(a, b)).sort((x, y) => end(y) - end(x));
    let t = until;
    const next: [number, number][] = [];
    for (const c of kids) {
      if (t <= start[i]) break;
      const cEnd = Math.min(end(c), until);
      if (cEnd > t || start[c] >= t) continue; // still running at the current point
      if (cEnd < t) segs.push(i, cEnd, t);
      next.push([c, cEnd]);
      t = Math.max(start[c], start[i]);
    }
    if (t > start[i]) segs.push(i, start[i], t);
    // Visit children in the order found (stack: push reversed).
    for (let k = next.length - 1; k >= 0; k--) stack.push(next[k]);
  }
  return { onPath, segments: Float64Array.from(segs) };
}

/** Span `i`'s time on the critical path, µs (the sum of its segments). */
export function criticalTime(segments: Float64Array, i: number): number {
  let t = 0;
  for (let k = 0; k < segments.length; k += 3) if (segments[k] === i) t += segments[k + 2] - segments[k + 1];
  return t;
}
