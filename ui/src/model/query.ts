// Span detail and find-in-trace over a compact trace (run in the worker).

import { Column, CompactTrace, KINDS, SpanDetail, spanIdHex, spanLogs, spanTags, TAG_BOOL, TAG_FLOAT, TAG_INT, TAG_STRING, TagList, TagView } from './types';

const TYPE_NAMES = ['string', 'bool', 'int64', 'float64', 'binary', 'string'];

export function tagViews(doc: Pick<CompactTrace, 'strings'>, t: TagList): TagView[] {
  const out: TagView[] = [];
  for (let k = 0; k + 2 < t.length; k += 3) {
    const type = t[k + 1];
    const raw = t[k + 2];
    let value: string;
    if (type === TAG_BOOL) value = raw ? 'true' : 'false';
    else if (type === TAG_INT || type === TAG_FLOAT) value = String(raw);
    else value = doc.strings[raw] ?? '';
    out.push({ key: doc.strings[t[k]] ?? '', type: TYPE_NAMES[type] ?? 'string', value });
  }
  return out;
}

/** Everything the detail panel shows for span `i`. */
export function detail(doc: CompactTrace, i: number, startShift = 0): SpanDetail {
  const p = doc.processes[doc.process[i]];
  const parent = doc.parent[i];
  const refs = (doc.refs[i] ?? []).map(([t, traceID, spanID]) => ({ type: t ? 'FOLLOWS_FROM' : 'CHILD_OF', traceID, spanID }));
  if (parent >= 0) refs.unshift({ type: 'CHILD_OF', traceID: doc.traceID, spanID: spanIdHex(doc.spanID, parent) });
  const logs = spanLogs(doc, i);
  return {
    index: i,
    spanID: spanIdHex(doc.spanID, i),
    parentSpanID: parent >= 0 ? spanIdHex(doc.spanID, parent) : '',
    service: doc.strings[p?.service ?? 0] ?? '',
    operation: doc.strings[doc.operation[i]] ?? '',
    kind: KINDS[(doc.flags[i] >> 2) & 7] ?? '',
    start: doc.start[i] + startShift,
    duration: doc.duration[i],
    tags: tagViews(doc, spanTags(doc, i)),
    process: p ? tagViews(doc, p.tags) : [],
    logs: logs.map(([ts, f]) => ({ offset: ts - doc.start[i], fields: tagViews(doc, f) })),
    references: refs,
    warnings: doc.spanWarnings[i] ?? [],
  };
}

/**
 * Spans matching every whitespace-separated term (case-insensitive) in the
 * service, operation, span ID, or a tag / process tag / log field key or
 * value; `key=value` terms match a tag exactly.
 */
export function find(doc: CompactTrace, query: string): Int32Array {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!terms.length) return new Int32Array(0);
  // Which strings match each term, computed once over the string table.
  const lower = doc.strings.map((s) => s.toLowerCase());
  const termHits = terms.map((t) => {
    const eq = t.indexOf('=');
    if (eq > 0) return { kv: [t.slice(0, eq), t.slice(eq + 1)] as [string, string], set: null as Uint8Array | null };
    const set = new Uint8Array(lower.length);
    lower.forEach((s, k) => {
      if (s.includes(t)) set[k] = 1;
    });
    return { kv: null, set };
  });
  const tagMatch = (key: Column, type: Column, value: Column, term: (typeof termHits)[number], from: number, to: number) => {
    for (let k = from; k < to; k++) {
      const ty = type[k], raw = value[k];
      const v = ty === TAG_STRING || ty >= 4 ? lower[raw] : ty === TAG_BOOL ? (raw ? 'true' : 'false') : String(raw);
      if (term.kv) {
        if (lower[key[k]] === term.kv[0] && v === term.kv[1]) return true;
      } else if (term.set![key[k]] || (ty === TAG_STRING || ty >= 4 ? term.set![raw] : v.includes(terms[termHits.indexOf(term)]))) return true;
    }
    return false;
  };
  // Process tags as columns too (they are flat triples in the header).
  const procTags = doc.processes.map((p) => {
    const t = p.tags;
    const pick = (o: number) => t.filter((_, k) => k % 3 === o);
    return [pick(0), pick(1), pick(2)] as const;
  });
  const out: number[] = [];
  const n = doc.parent.length;
  for (let i = 0; i < n; i++) {
    let all = true;
    for (let t = 0; t < terms.length && all; t++) {
      const h = termHits[t];
      const p = doc.processes[doc.process[i]];
      let ok = false;
      if (h.set) {
        ok = !!(h.set[doc.operation[i]] || (p && h.set[p.service]) || spanIdHex(doc.spanID, i).includes(terms[t]));
      }
      const pt = procTags[doc.process[i]];
      if (!ok) ok = tagMatch(doc.tagKey, doc.tagType, doc.tagValue, h, doc.tagStart[i], doc.tagStart[i + 1]) || (pt ? tagMatch(pt[0], pt[1], pt[2], h, 0, pt[0].length) : false);
      if (!ok && doc.logStart[i + 1] > doc.logStart[i]) {
        ok = tagMatch(doc.logKey, doc.logType, doc.logValue, h, doc.logFieldStart[doc.logStart[i]], doc.logFieldStart[doc.logStart[i + 1]]);
      }
      all = ok;
    }
    if (all) out.push(i);
  }
  return Int32Array.from(out);
}
