import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, decodeBody, encodeCompact, needed, readLayout, STRUCTURE } from '../src/model/binary';
import { buildModel } from '../src/model/build';
import { detail, find } from '../src/model/query';
import { generateCompact } from '../src/gen/generate';
import { spanIdHex, spanIdWords, spanLogs, spanTags } from '../src/model/types';

const bytes = (u8: Uint8Array) => u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength) as ArrayBuffer;

describe('binary compact trace (clew-ui-trace/3)', () => {
  // Written by clew-query's `golden_body_for_the_ui_decoder` test from its sample trace.
  const golden = bytes(readFileSync(new URL('./data/ui-trace-v3.bin', import.meta.url)));

  it("reads clew's own body: parents, times, IDs, tags, logs, refs", () => {
    const d = decodeBody(golden);
    expect(d.traceID).toBe('00000000000000ab');
    expect(d.spanCount).toBe(2);
    expect(Array.from(d.parent)).toEqual([-1, 0]);
    expect(Array.from(d.start)).toEqual([0, 1000]);
    expect(Array.from(d.duration)).toEqual([5000, 1000]);
    expect(spanIdHex(d.spanID, 1)).toBe('0000000100000002');
    expect(d.strings[d.operation[1]]).toBe('child "q"');
    const sd = detail(d, 1);
    expect(sd.service).toBe('svc');
    expect(sd.tags).toEqual([
      { key: 'error', type: 'bool', value: 'true' },
      { key: 'n', type: 'int64', value: '7' },
    ]);
    expect(sd.process).toEqual([{ key: 'host', type: 'string', value: 'h1' }]);
    expect(sd.logs).toEqual([{ offset: 500, fields: [{ key: 'event', type: 'string', value: 'svc' }, { key: 'note', type: 'string', value: 'late' }] }]);
    expect(sd.references.map((r) => [r.type, r.spanID])).toEqual([
      ['CHILD_OF', '0000000000000001'],
      ['FOLLOWS_FROM', '0000000000000009'],
    ]);
    expect(Array.from(find(d, 'late'))).toEqual([1]);
  });

  it('round-trips a generated trace through encodeCompact', () => {
    const doc = generateCompact({ spans: 2000, seed: 7 });
    const d = decodeBody(bytes(encodeCompact(doc)));
    expect(d.strings).toEqual(doc.strings);
    for (const i of [0, 1, 999, 1999]) {
      expect(spanTags(d, i)).toEqual(spanTags(doc, i));
      expect(spanLogs(d, i)).toEqual(spanLogs(doc, i));
      expect(spanIdHex(d.spanID, i)).toBe(spanIdHex(doc.spanID, i));
    }
    expect(Array.from(d.parent)).toEqual(Array.from(doc.parent));
  });

  it('builds the tree from the structure columns alone, before the rest arrives', () => {
    const doc = generateCompact({ spans: 5000, seed: 3 });
    const body = encodeCompact(doc);
    expect(readLayout(body.subarray(0, 11))).toBeNull();
    const l = readLayout(body)!;
    const end = needed(l, STRUCTURE);
    expect(end).toBeLessThan(body.length / 2);
    // Only the bytes up to the structure's end are present.
    const partial = new Uint8Array(body.length);
    partial.set(body.subarray(0, end));
    const early = buildModel(decode(partial.buffer, l, STRUCTURE));
    const full = buildModel(decodeBody(bytes(body)));
    expect(Array.from(early.order)).toEqual(Array.from(full.order));
    expect(early.services).toEqual(full.services);
    expect(early.operations).toEqual(full.operations);
    expect(Array.from(early.criticalSegments)).toEqual(Array.from(full.criticalSegments));
  });

  it('refuses other bodies and says when one is cut short', () => {
    expect(() => readLayout(new TextEncoder().encode('{"format":"clew-ui-trace/2"}'))).toThrow(/not a clew-ui-trace\/3/);
    expect(() => decodeBody(golden.slice(0, golden.byteLength - 16))).toThrow(/truncated/);
  });

  it('converts hex span IDs to words and back', () => {
    expect(spanIdWords('00ab00000000ffff')).toEqual([0xab0000, 0xffff]);
    expect(spanIdHex(spanIdWords('1'), 0)).toBe('0000000000000001');
  });
});
