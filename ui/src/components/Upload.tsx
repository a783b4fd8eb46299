// Upload a trace file (Jaeger JSON or OTLP JSON) and view it without
// storing it: the worker parses it and keeps it for this tab.

import { useState } from 'preact/hooks';
import { href } from '../lib/router';
import { parseFile } from '../lib/traceClient';

let uploads = 0;
const opened: { key: string; traceID: string; spanCount: number; name: string; file: string }[] = [];

export function UploadPanel() {
  const [list, setList] = useState(opened.slice());
  const [error, setError] = useState('');
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(false);
  const read = async (files: FileList | null) => {
    if (!files?.length) return;
    setError('');
    setBusy(true);
    try {
      for (const f of Array.from(files)) {
        const text = await f.text();
        const traces = await parseFile(text, `upload:${++uploads}:`);
        traces.forEach((t) => opened.unshift({ ...t, file: f.name }));
      }
      setList(opened.slice());
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: 12 }}>
      <label
        class={`dropzone ${over ? 'over' : ''}`}
        onDragOver={(e) => (e.preventDefault(), setOver(true))}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          read(e.dataTransfer?.files ?? null);
        }}
      >
        <div style={{ fontWeight: 600, color: 'var(--text)' }}>Drop a JSON file or click to choose</div>
        <div class="hint">Jaeger JSON (as downloaded) or OTLP JSON. Nothing is stored on the server.</div>
        <input type="file" accept=".json,.jsonl,application/json" multiple style={{ display: 'none' }} onChange={(e) => read((e.target as HTMLInputElement).files)} data-testid="upload-input" />
      </label>
      {busy && <span class="spinner" />}
      {error && <div class="banner error">{error}</div>}
      {list.map((t) => (
        <a href={href(`/trace/${t.traceID}?upload=${encodeURIComponent(t.key)}`)} class="card" style={{ display: 'block', padding: '8px 10px', boxShadow: 'none' }} data-testid="uploaded-trace" title={t.file}>
          <div style={{ fontWeight: 600, color: 'var(--text)', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{t.name || '(no root span)'}</div>
          <div class="muted" style={{ fontSize: 12, display: 'flex', justifyContent: 'space-between' }}>
            <span class="mono">{t.traceID.slice(0, 16)}</span>
            <span>{t.spanCount} spans</span>
          </div>
        </a>
      ))}
    </div>
  );
}
