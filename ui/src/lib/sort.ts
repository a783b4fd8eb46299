// Client-side orders of the search results (Jaeger UI's, plus most errors).

import type { TraceSummary } from './api';

export type SortKey = 'recent' | 'longest' | 'shortest' | 'most' | 'least' | 'errors';
export const SORTS: [SortKey, string][] = [
  ['recent', 'Most recent'],
  ['longest', 'Longest first'],
  ['shortest', 'Shortest first'],
  ['most', 'Most spans'],
  ['least', 'Least spans'],
  ['errors', 'Most errors'],
];

export function sortResults(list: TraceSummary[], key: SortKey): TraceSummary[] {
  const cmp: Record<SortKey, (a: TraceSummary, b: TraceSummary) => number> = {
    recent: (a, b) => b.start - a.start,
    longest: (a, b) => b.duration - a.duration,
    shortest: (a, b) => a.duration - b.duration,
    most: (a, b) => b.spanCount - a.spanCount,
    least: (a, b) => a.spanCount - b.spanCount,
    errors: (a, b) => b.errorSpanCount - a.errorSpanCount || b.start - a.start,
  };
  return [...list].sort(cmp[key]);
}

