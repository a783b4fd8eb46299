// Span detail and find-in-trace over a compact trace (run in the worker).

import { CompactTrace, KINDS, SpanDetail, spanLogs, spanTags, TAG_BOOL, TAG_FLOAT, TAG_INT, TAG_STRING, TagList, TagView } from './types';

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
  if (parent >= 0) refs.unshift({ type: 'CHILD_OF', traceID: doc.traceID, spanID: doc.spanID.slice(parent * 16, parent * 16 + 16) });
  const logs = spanLogs(doc, i);
  return {
    index: i,
    spanID: doc.spanID.slice(i * 16, i * 16 + 16),
    parentSpanID: parent >= 0 ? doc.spanID.slice(parent * 16, parent * 16 + 16) : '',
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
  const tagMatch = (tags: ArrayLike<number>, term: (typeof termHits)[number], from = 0, to = tags.length) => {
    for (let k = from; k + 2 < to; k += 3) {
      const type = tags[k + 1];
      const v = type === TAG_STRING || type >= 4 ? lower[tags[k + 2]] : type === TAG_BOOL ? (tags[k + 2] ? 'true' : 'false') : String(tags[k + 2]);
      if (term.kv) {
        if (lower[tags[k]] === term.kv[0] && v === term.kv[1]) return true;
      } else if (term.set![tags[k]] || (type === TAG_STRING || type >= 4 ? term.set![tags[k + 2]] : v.includes(terms[termHits.indexOf(term)]))) return true;
    }
    return false;
  };
  const out: number[] = [];
  const n = doc.parent.length;
  for (let i = 0; i < n; i++) {
    let all = true;
    for (let t = 0; t < terms.length && all; t++) {
      const h = termHits[t];
      const p = doc.processes[doc.process[i]];
      let ok = false;
      if (h.set) {
        ok = !!(h.set[doc.operation[i]] || (p && h.set[p.service]) || doc.spanID.slice(i * 16, i * 16 + 16).includes(terms[t]));
      }
      if (!ok) ok = tagMatch(doc.tagData, h, doc.tagStart[i], doc.tagStart[i + 1]) || (p ? tagMatch(p.tags, h) : false);
      if (!ok && doc.logStart[i + 1] > doc.logStart[i]) {
        ok = tagMatch(doc.logData, h, doc.logFieldStart[doc.logStart[i]], doc.logFieldStart[doc.logStart[i + 1]]);
      }
      all = ok;
    }
    if (all) out.push(i);
  }
  return Int32Array.from(out);
}
