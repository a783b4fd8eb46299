// The trace generator (src/gen/generate.ts, shared with the unit tests),
// bundled for Node, and its traces as OTLP/JSON for sending to a real clew.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from './clew.mjs';

let gen;

/** generateCompact, encodeCompact and the column helpers. */
export async function loadGenerator() {
  if (!gen) {
    const out = join(mkdtempSync(join(tmpdir(), 'clew-gen-')), 'generate.mjs');
    await build({ entryPoints: [join(ROOT, 'ui/src/gen/generate.ts')], bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'error' });
    gen = await import(out);
  }
  return gen;
}

/** A generated trace as OTLP JSON documents of at most `batch` spans (call loadGenerator first); the kind travels as OTLP's own field, not as a `span.kind` attribute. */
export function* toOtlp(doc, batch = 20_000) {
  const { spanIdHex, spanTags, spanLogs } = gen;
  const tags = (t) => {
    const out = [];
    for (let k = 0; k + 2 < t.length; k += 3) {
      const key = doc.strings[t[k]];
      const ty = t[k + 1], v = t[k + 2];
      out.push({ key, value: ty === 1 ? { boolValue: !!v } : ty === 2 ? { intValue: String(v) } : ty === 3 ? { doubleValue: v } : { stringValue: doc.strings[v] } });
    }
    return out;
  };
  const tid = doc.traceID.padStart(32, '0');
  const ns = (us) => String(BigInt(Math.round(doc.startTime + us)) * 1000n);
  for (let a = 0; a < doc.spanCount; a += batch) {
    const byProc = new Map();
    for (let i = a; i < Math.min(doc.spanCount, a + batch); i++) {
      const p = doc.parent[i];
      const s = { traceId: tid, spanId: spanIdHex(doc.spanID, i), name: doc.strings[doc.operation[i]], kind: (doc.flags[i] >> 2) & 7, startTimeUnixNano: ns(doc.start[i]), endTimeUnixNano: ns(doc.start[i] + doc.duration[i]), attributes: tags(spanTags(doc, i)).filter((a) => a.key !== 'span.kind'), events: spanLogs(doc, i).map(([t, f]) => ({ timeUnixNano: ns(t), name: 'log', attributes: tags(f) })), status: doc.flags[i] & 1 ? { code: 2 } : {} };
      if (p >= 0) s.parentSpanId = spanIdHex(doc.spanID, p);
      if (!byProc.has(doc.process[i])) byProc.set(doc.process[i], []);
      byProc.get(doc.process[i]).push(s);
    }
    yield {
      resourceSpans: [...byProc.entries()].map(([pi, spans]) => ({
        resource: { attributes: [{ key: 'service.name', value: { stringValue: doc.strings[doc.processes[pi].service] } }, ...tags(doc.processes[pi].tags)] },
        scopeSpans: [{ spans }],
      })),
    };
  }
}

