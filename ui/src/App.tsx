import { useEffect, useState } from 'preact/hooks';
import { href, linkClick, navigate, useRoute } from './lib/router';
import { SearchPage } from './pages/Search';
import { TracePage } from './pages/Trace';
import { ComparePage } from './pages/Compare';
import { DependenciesPage } from './pages/Dependencies';
import { MonitorPage } from './pages/Monitor';

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const t = document.documentElement.dataset.theme;
  if (t === 'dark' || t === 'light') return t;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  const loc = useRoute();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const toggle = () => {
    const t = theme === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem('clew-theme', t);
    } catch {}
    setTheme(t);
  };
  const p = loc.path.replace(/\/+$/, '') || '/';
  let page;
  let tab = '';
  const m = p.match(/^\/trace\/([^/]+)$/);
  if (p === '/' || p === '/search') {
    page = <SearchPage query={loc.query} />;
    tab = 'search';
  } else if (m && m[1].includes('...')) {
    const [a, b] = m[1].split('...');
    page = <ComparePage a={a} b={b} />;
    tab = 'compare';
  } else if (m) {
    page = <TracePage id={decodeURIComponent(m[1])} query={loc.query} theme={theme} />;
  } else if (p === '/dependencies') {
    page = <DependenciesPage query={loc.query} />;
    tab = 'dependencies';
  } else if (p === '/monitor') {
    page = <MonitorPage query={loc.query} />;
    tab = 'monitor';
  } else {
    page = (
      <div class="page">
        <div class="card empty">
          <h2>Page not found</h2>
          <p>
            Nothing lives at <code>{p}</code>. <a href={href('/search')}>Search traces</a>
          </p>
        </div>
      </div>
    );
  }
  return (
    <div onClick={linkClick as any}>
      <nav class="nav">
        <a class="brand" href={href('/search')}>
          <img src="favicon.svg" alt="" />
          Clew
        </a>
        <a class={`tab ${tab === 'search' ? 'active' : ''}`} href={href('/search')}>
          Search
        </a>
        <a class={`tab ${tab === 'compare' ? 'active' : ''}`} href={href('/trace/...')}>
          Compare
        </a>
        <a class={`tab ${tab === 'dependencies' ? 'active' : ''}`} href={href('/dependencies')}>
          System Architecture
        </a>
        <a class={`tab ${tab === 'monitor' ? 'active' : ''}`} href={href('/monitor')}>
          Monitor
        </a>
        <span class="spacer" />
        <TraceIdBox />
        <button class="icon-btn" title={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`} onClick={toggle} aria-label="Toggle theme">
          {theme === 'dark' ? '☀' : '☾'}
        </button>
      </nav>
      {page}
    </div>
  );
}

function TraceIdBox() {
  const [v, setV] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    const ids = v.split(/[\s,]+/).map((s) => s.trim().toLowerCase()).filter(Boolean);
    if (!ids.length) return;
    setV('');
    if (ids.length === 1) navigate(`/trace/${ids[0]}`);
    else navigate(`/search?${ids.map((i) => `traceID=${encodeURIComponent(i)}`).join('&')}`);
  };
  return (
    <form onSubmit={submit}>
      <input placeholder="Lookup by Trace ID…" value={v} onInput={(e) => setV((e.target as HTMLInputElement).value)} aria-label="Trace ID" />
    </form>
  );
}
