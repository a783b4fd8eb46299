import { describe, expect, it } from 'vitest';
import { buildModel, buildTree, visibleRows } from '../src/model/build';
import { criticalPath, criticalTime } from '../src/model/critical';
import { adjustSkew } from '../src/model/skew';
import { aggregate, diffSummary, diffTrees } from '../src/model/aggregate';
import { selfTimes, statistics } from '../src/model/stats';
import { fromOtlp, parseUpload } from '../src/model/convert';
import { find, detail } from '../src/model/query';
import { compactToJaeger, generateCompact } from '../src/gen/generate';
import { parseGoDuration, parseTags } from '../src/lib/format';
import { flatten } from '../src/model/types';
import type { CompactTrace } from '../src/model/types';

/** A small trace: spans given as [parent, start, duration, service, op]. */
function trace(spans: [number, number, number, string, string][], hosts?: Record<string, string>): CompactTrace {
  const strings = [''];
  const s = (x: string) => (strings.includes(x) ? strings.indexOf(x) : strings.push(x) - 1);
  const services = [...new Set(spans.map((x) => x[3]))];
  return {
    traceID: 'abc',
    startTime: 1_000_000,
    spanCount: spans.length,
    warnings: [],
    strings,
    processes: services.map((name) => ({ service: s(name), tags: hosts?.[name] ? [s('ip'), 0, s(hosts[name])] : [] })),
    spanID: spans.flatMap((_, i) => [0, i + 1]),
    parent: spans.map((x) => x[0]),
    start: spans.map((x) => x[1]),
    duration: spans.map((x) => x[2]),
    process: spans.map((x) => services.indexOf(x[3])),
    operation: spans.map((x) => s(x[4])),
    flags: spans.map(() => 0),
    ...flatten(spans.map(() => []), []),
    refs: {},
    spanWarnings: {},
  };
}

describe('tree building', () => {
  it('orders depth-first with children by start time, and counts descendants', () => {
    // 0 root; 1 and 2 children of 0 (2 starts first); 3 child of 1.
    const t = buildTree(Int32Array.from([-1, 0, 0, 1]), [0, 50, 10, 60]);
    expect(Array.from(t.order)).toEqual([0, 2, 1, 3]);
    expect(Array.from(t.depth)).toEqual([0, 1, 1, 2]);
    expect(Array.from(t.descendants)).toEqual([3, 1, 0, 0]);
    expect(t.maxDepth).toBe(2);
  });

  it('treats orphans and parent cycles as roots, and handles deep chains', () => {
    const t = buildTree(Int32Array.from([-1, 2, 1, 0]), [0, 1, 2, 3]);
    expect(new Set(t.order)).toEqual(new Set([0, 1, 2, 3]));
    const n = 200_000;
    const chain = Int32Array.from({ length: n }, (_, i) => i - 1);
    const deep = buildTree(chain, Float64Array.from({ length: n }, (_, i) => i));
    expect(deep.maxDepth).toBe(n - 1);
    expect(deep.descendants[0]).toBe(n - 1);
  });

  it('hides collapsed subtrees', () => {
    const m = buildModel(trace([[-1, 0, 100, 'a', 'root'], [0, 10, 50, 'a', 'x'], [1, 20, 10, 'b', 'y'], [0, 70, 10, 'b', 'z']]));
    expect(Array.from(visibleRows(m, new Set()))).toEqual([0, 1, 2, 3]);
    expect(Array.from(visibleRows(m, new Set([1])))).toEqual([0, 1, 3]);
    expect(Array.from(visibleRows(m, new Set([0])))).toEqual([0]);
  });

  it('builds a 100k-span generated trace quickly and consistently', () => {
    const doc = generateCompact({ spans: 100_000 });
    const t0 = performance.now();
    const m = buildModel(doc);
    const ms = performance.now() - t0;
    expect(m.n).toBe(100_000);
    expect(m.services.length).toBe(20);
    expect(m.descendants[m.order[0]]).toBe(99_999);
    console.log(`buildModel(100k spans): ${ms.toFixed(0)} ms`);
  }, 60_000);
});

describe('critical path', () => {
  it('follows the last-finishing child back from the end', () => {
    // root 0..100; a 10..40; b 30..90 (finishes last); c (child of b) 40..80.
    const doc = trace([[-1, 0, 100, 's', 'root'], [0, 10, 30, 's', 'a'], [0, 30, 60, 's', 'b'], [2, 40, 40, 's', 'c']]);
    const m = buildModel(doc);
    // a (10..40) still runs when b starts (30): not on the path.
    expect(Array.from(m.critical)).toEqual([1, 0, 1, 1]);
    const segs: [number, number, number][] = [];
    for (let k = 0; k < m.criticalSegments.length; k += 3) segs.push([m.criticalSegments[k], m.criticalSegments[k + 1], m.criticalSegments[k + 2]]);
    // root's own time after b ends, b's after c, c whole, b before c, root before b.
    expect(segs.sort((x, y) => x[1] - y[1])).toEqual([
      [0, 0, 30],
      [2, 30, 40],
      [3, 40, 80],
      [2, 80, 90],
      [0, 90, 100],
    ]);
    // Time on the path per span (what the detail panel and tooltip show).
    expect([0, 1, 2, 3].map((i) => criticalTime(m.criticalSegments, i))).toEqual([40, 0, 20, 40]);
  });

  it('skips a child still running when the path moves before it (Jaeger UI rule)', () => {
    // b 60..70 finishes last; c 15..65 still runs at 60, so the path goes to a 10..20.
    const doc = trace([[-1, 0, 100, 's', 'root'], [0, 10, 10, 's', 'a'], [0, 60, 10, 's', 'b'], [0, 15, 50, 's', 'c']]);
    const m = buildModel(doc);
    expect(Array.from(m.critical)).toEqual([1, 1, 1, 0]);
  });

  it('clips a child that outlives its parent', () => {
    const doc = trace([[-1, 0, 100, 's', 'root'], [0, 50, 500, 's', 'async']]);
    const m = buildModel(doc);
    const segs = Array.from(m.criticalSegments);
    expect(segs).toEqual([0, 0, 50, 1, 50, 100]);
  });

  it('works on the raw function for a single span', () => {
    const t = buildTree(Int32Array.from([-1]), [0]);
    const cp = criticalPath(t, [0], [5]);
    expect(Array.from(cp.segments)).toEqual([0, 0, 5]);
  });
});

describe('clock skew', () => {
  it('centres a child from another host that falls outside its parent', () => {
    const doc = trace([[-1, 0, 100, 'front', 'get'], [0, 500, 40, 'back', 'handle']], { front: '10.0.0.1', back: '10.0.0.2' });
    const m = buildModel(doc);
    expect(m.skew.adjusted).toBe(1);
    expect(m.start[1]).toBe(30); // 0 + (100 - 40) / 2
    expect(m.skew.maxDeltaUs).toBe(470);
  });

  it('moves same-host descendants along, leaves fitting and unknown hosts alone', () => {
    const order = Int32Array.from([0, 1, 2]);
    const start = Float64Array.from([0, -50, -40]);
    const dur = Float64Array.from([100, 20, 5]);
    const r = adjustSkew(order, Int32Array.from([-1, 0, 1]), start, dur, ['h1', 'h2', 'h2']);
    expect(r.adjusted).toBe(1);
    expect(start[1]).toBe(40);
    expect(start[2]).toBe(50);
    const s2 = Float64Array.from([0, -50]);
    expect(adjustSkew(Int32Array.from([0, 1]), Int32Array.from([-1, 0]), s2, Float64Array.from([100, 20]), ['', 'h2']).adjusted).toBe(0);
    const s3 = Float64Array.from([0, 10]);
    expect(adjustSkew(Int32Array.from([0, 1]), Int32Array.from([-1, 0]), s3, Float64Array.from([100, 20]), ['h1', 'h2']).adjusted).toBe(0);
  });

  it('only stops a child longer than its parent from starting before it', () => {
    const start = Float64Array.from([0, -30]);
    adjustSkew(Int32Array.from([0, 1]), Int32Array.from([-1, 0]), start, Float64Array.from([10, 200]), ['h1', 'h2']);
    expect(start[1]).toBe(0);
  });
});

describe('diff', () => {
  it('marks added, removed and changed nodes', () => {
    const a = buildModel(trace([[-1, 0, 100, 'a', 'root'], [0, 1, 5, 'b', 'x'], [0, 2, 5, 'c', 'gone']]));
    const b = buildModel(trace([[-1, 0, 100, 'a', 'root'], [0, 1, 5, 'b', 'x'], [0, 2, 5, 'b', 'x'], [0, 3, 5, 'd', 'new']]));
    const d = diffTrees(aggregate(a), aggregate(b));
    const root = d.children[0];
    expect(root.status).toBe('same');
    const byOp = Object.fromEntries(root.children.map((c) => [c.operation, c]));
    expect(byOp.x.status).toBe('changed');
    expect(byOp.x.a!.count).toBe(1);
    expect(byOp.x.b!.count).toBe(2);
    expect(byOp.gone.status).toBe('removed');
    expect(byOp.new.status).toBe('added');
    expect(diffSummary(d)).toEqual({ same: 1, added: 1, removed: 1, changed: 1 });
  });

  it('finds no difference between a trace and itself', () => {
    const m = buildModel(generateCompact({ spans: 500, seed: 3 }));
    const s = diffSummary(diffTrees(aggregate(m), aggregate(m)));
    expect(s.added + s.removed + s.changed).toBe(0);
  });
});

describe('statistics', () => {
  it('computes self time as duration minus the union of children', () => {
    const m = buildModel(trace([[-1, 0, 100, 'a', 'root'], [0, 10, 30, 'b', 'x'], [0, 20, 30, 'b', 'x'], [0, 90, 30, 'c', 'y']]));
    const self = selfTimes(m);
    expect(self[0]).toBe(100 - 40 - 10);
    const rows = statistics(m);
    const x = rows.find((r) => r.operation === 'x')!;
    expect(x.count).toBe(2);
    expect(x.min).toBe(30);
    expect(x.avg).toBe(30);
    // Critical path: c (clipped to 90..100), root 50..90, the later x 20..50, root 0..20.
    const crit = Object.fromEntries(rows.map((r) => [r.operation, r.critical]));
    expect(crit).toEqual({ root: 60, x: 30, y: 10 });
  });
});

describe('uploads, find and detail', () => {
  it('reads Jaeger JSON back into the same trace', () => {
    const doc = generateCompact({ spans: 300, seed: 7 });
    const [back] = parseUpload(JSON.stringify(compactToJaeger(doc)));
    const m1 = buildModel(doc), m2 = buildModel(back);
    expect(m2.n).toBe(300);
    expect(Array.from(m2.depth)).toEqual(Array.from(m1.depth));
    expect(m2.errorCount).toBe(m1.errorCount);
  });

  it('reads OTLP JSON (hex IDs, nanosecond strings, events, status)', () => {
    const docs = [
      {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otel-svc' } }] },
            scopeSpans: [
              {
                scope: { name: 'lib' },
                spans: [
                  { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'parent', kind: 2, startTimeUnixNano: '1544712660000000000', endTimeUnixNano: '1544712661000000000' },
                  {
                    traceId: '5b8efff798038103d269b633813fc60c',
                    spanId: 'eee19b7ec3c1b175',
                    parentSpanId: 'eee19b7ec3c1b174',
                    name: 'child',
                    startTimeUnixNano: '1544712660100000000',
                    endTimeUnixNano: '1544712660300000000',
                    status: { code: 2, message: 'boom' },
                    events: [{ timeUnixNano: '1544712660200000000', name: 'retry', attributes: [{ key: 'n', value: { intValue: '2' } }] }],
                  },
                ],
              },
            ],
          },
        ],
      },
    ];
    const [t] = fromOtlp(docs);
    const m = buildModel(t);
    expect(m.n).toBe(2);
    expect(m.services).toEqual(['otel-svc']);
    expect(m.duration).toBe(1_000_000);
    expect(m.errorCount).toBe(1);
    const d = detail(t, 1);
    expect(d.parentSpanID).toBe('eee19b7ec3c1b174');
    expect(d.logs[0].offset).toBe(100_000);
    expect(d.logs[0].fields).toContainEqual({ key: 'event', type: 'string', value: 'retry' });
    expect(d.tags).toContainEqual({ key: 'otel.status_description', type: 'string', value: 'boom' });
    // One document per line works too.
    expect(parseUpload(docs.map((x) => JSON.stringify(x)).join('\n') + '\n' + JSON.stringify(docs[0]))[0].spanCount).toBe(4);
  });

  it('rejects files that hold no trace', () => {
    expect(() => parseUpload('{"hello": 1}')).toThrow(/no traces found/);
    expect(() => parseUpload('not json')).toThrow(/not JSON/);
  });

  it('finds spans by operation, service, tag key=value and log text', () => {
    const doc = generateCompact({ spans: 2000, seed: 5 });
    expect(find(doc, 'op-3').length).toBeGreaterThan(0);
    expect(find(doc, 'service-07').length).toBeGreaterThan(0);
    const errs = find(doc, 'http.status_code=500');
    expect(errs.length).toBe(Array.from(doc.flags).filter((f) => f & 1).length);
    expect(find(doc, 'nothing-like-this').length).toBe(0);
  });
});

describe('search form parsing', () => {
  it('parses Go durations and logfmt tags', () => {
    expect(parseGoDuration('1.5s')).toBe(1_500_000);
    expect(parseGoDuration('100ms')).toBe(100_000);
    expect(parseGoDuration('1m30s')).toBe(90_000_000);
    expect(parseGoDuration('fast')).toBeNaN();
    expect(parseTags('error=true http.url="/a b"')).toEqual({ error: 'true', 'http.url': '/a b' });
    expect(parseTags('{"a":"1"}')).toEqual({ a: '1' });
    expect(parseTags('no-equals')).toBeNull();
  });
});

import { sortResults } from '../src/lib/sort';
import { layoutDependencies } from '../src/model/depLayout';
import { seriesOf } from '../src/lib/metrics';

describe('search results, dependency layout and metrics', () => {
  const s = (id: string, start: number, duration: number, spanCount: number, errorSpanCount: number) => ({
    traceId: id, rootServiceName: 'a', rootOperationName: 'op', start, duration, spanCount, errorSpanCount, orphanSpanCount: 0, services: [],
  });
  const list = [s('a', 1, 50, 3, 0), s('b', 3, 10, 9, 2), s('c', 2, 90, 1, 1)];
  it('sorts by every Jaeger order plus most errors', () => {
    const ids = (k: Parameters<typeof sortResults>[1]) => sortResults(list, k).map((t) => t.traceId).join('');
    expect(ids('recent')).toBe('bca');
    expect(ids('longest')).toBe('cab');
    expect(ids('shortest')).toBe('bac');
    expect(ids('most')).toBe('bac');
    expect(ids('least')).toBe('cab');
    expect(ids('errors')).toBe('bca');
  });

  it('lays callers left of callees, and survives cycles', () => {
    const l = layoutDependencies([
      { parent: 'gateway', child: 'front', callCount: 9 },
      { parent: 'front', child: 'cart', callCount: 3 },
      { parent: 'cart', child: 'db', callCount: 5 },
      { parent: 'db', child: 'front', callCount: 1 },
      { parent: 'front', child: 'pay', callCount: 2 },
    ]);
    const x = Object.fromEntries(l.nodes.map((n) => [n.name, n.x]));
    expect(x.cart).toBeGreaterThan(x.front);
    expect(x.db).toBeGreaterThan(x.cart);
    expect(x.front).toBeGreaterThan(x.gateway);
    expect(l.nodes).toHaveLength(5);
  });

  it('reads MetricFamily JSON into series per operation', () => {
    const fam = {
      name: 'service_latencies',
      metrics: [
        { labels: [{ name: 'service_name', value: 's' }, { name: 'operation', value: 'GET' }], metricPoints: [{ gaugeValue: { doubleValue: 1.5 }, timestamp: '2026-01-01T00:00:00Z' }] },
        { labels: [{ name: 'service_name', value: 's' }], metricPoints: [{ gaugeValue: { doubleValue: 'NaN' }, timestamp: '2026-01-01T00:00:00Z' }] },
      ],
    };
    const series = seriesOf(fam, 'p95');
    expect(series[0]).toEqual({ label: 'GET', points: [[Date.parse('2026-01-01T00:00:00Z'), 1.5]] });
    expect(series[1]).toEqual({ label: 'p95', points: [] });
  });
});
