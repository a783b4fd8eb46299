// The span detail panel: facts, tags, process tags, logs with their
// offsets, references and warnings. Tags and logs come from the worker.

import { useEffect, useState } from 'preact/hooks';
import { fmtDuration, serviceColor } from '../lib/format';
import { href } from '../lib/router';
import { spanDetail } from '../lib/traceClient';
import { criticalTime } from '../model/critical';
import { FLAG_ERROR, SpanDetail, spanIdAt, TagView, TraceModel } from '../model/types';

function Tags({ tags }: { tags: TagView[] }) {
  if (!tags.length) return <div class="muted">none</div>;
  return (
    <table class="kv">
      {tags.map((t) => (
        <tr>
          <td>{t.key}</td>
          <td>{t.value}</td>
        </tr>
      ))}
    </table>
  );
}

export function SpanDetailPanel({ model, traceKey, index, onClose, onSelect }: { model: TraceModel; traceKey: string; index: number; onClose: () => void; onSelect: (i: number) => void }) {
  const [d, setD] = useState<SpanDetail | null>(null);
  useEffect(() => {
    let live = true;
    spanDetail(traceKey, index).then((r) => live && setD(r));
    return () => {
      live = false;
    };
  }, [traceKey, index]);
  const svc = model.services[model.service[index]];
  const byId = (id: string) => {
    for (let i = 0; i < model.n; i++) if (spanIdAt(model, i) === id) return i;
    return -1;
  };
  return (
    <aside class="detail" data-testid="span-detail">
      <div class="detail-head">
        <span class="swatch" style={{ background: serviceColor(svc), marginTop: 5 }} />
        <div style={{ flex: 1, minWidth: 0 }}>
          <h2>{model.operations[model.operation[index]]}</h2>
          <div class="muted">{svc}</div>
        </div>
        <button class="small icon-btn" onClick={onClose} aria-label="Close span detail">
          ✕
        </button>
      </div>
      <section>
        <dl class="facts">
          <dt>Duration</dt>
          <dd>{fmtDuration(model.duration_[index])}</dd>
          <dt>Start</dt>
          <dd>+{fmtDuration(model.start[index])}</dd>
          <dt>Span ID</dt>
          <dd>{spanIdAt(model, index)}</dd>
          {d?.kind && (
            <>
              <dt>Kind</dt>
              <dd>{d.kind}</dd>
            </>
          )}
          <dt>Status</dt>
          <dd style={model.flags[index] & FLAG_ERROR ? { color: 'var(--error)' } : undefined}>{model.flags[index] & FLAG_ERROR ? 'error' : 'ok'}</dd>
          <dt>Critical path</dt>
          <dd data-testid="critical-time">{criticalLabel(model, index)}</dd>
          <dt>Children</dt>
          <dd>{model.childCount[index]}</dd>
        </dl>
      </section>
      {!d ? (
        <section>
          <span class="spinner" />
        </section>
      ) : (
        <>
          {d.warnings.length > 0 && (
            <section>
              <h3>Warnings</h3>
              {d.warnings.map((w) => (
                <div class="banner" style={{ marginBottom: 6 }}>
                  {w}
                </div>
              ))}
            </section>
          )}
          <section data-testid="span-tags">
            <h3>Tags ({d.tags.length})</h3>
            <Tags tags={d.tags} />
          </section>
          <section>
            <h3>Process: {d.service}</h3>
            <Tags tags={d.process} />
          </section>
          <section>
            <h3>Logs ({d.logs.length})</h3>
            {!d.logs.length && <div class="muted">none</div>}
            {d.logs.map((l) => (
              <div class="log">
                <div class="when">+{fmtDuration(l.offset)} from span start</div>
                <Tags tags={l.fields} />
              </div>
            ))}
          </section>
          <section>
            <h3>References ({d.references.length})</h3>
            {!d.references.length && <div class="muted">none (root span)</div>}
            {d.references.map((r) => {
              const local = r.traceID.replace(/^0+/, '') === model.traceID.replace(/^0+/, '') ? byId(r.spanID) : -1;
              return (
                <div style={{ fontSize: 13, marginBottom: 4 }}>
                  <span class="badge">{r.type}</span>{' '}
                  {local >= 0 ? (
                    <a href="#" onClick={(e) => (e.preventDefault(), onSelect(local))}>
                      {model.services[model.service[local]]}: {model.operations[model.operation[local]]}
                    </a>
                  ) : (
                    <a href={href(`/trace/${r.traceID}`)}>
                      trace {r.traceID.slice(0, 7)} / span {r.spanID}
                    </a>
                  )}
                </div>
              );
            })}
          </section>
        </>
      )}
    </aside>
  );
}

/** "45ms of 92ms (49%)" on the path, or "no". */
function criticalLabel(model: TraceModel, i: number): string {
  if (!model.critical[i]) return 'no';
  const t = criticalTime(model.criticalSegments, i);
  const d = model.duration_[i];
  return `${fmtDuration(t)} of ${fmtDuration(d)}${d > 0 ? ` (${Math.round((t / d) * 100)}%)` : ''}`;
}
