// The UI benchmark: generated traces of 10k, 100k and 1M spans (20
// services, fan-out 1–8, 4 tags per span, logs on 10% of spans — the shape
// Jaeger UI 1.76 was measured with) opened in headless Chromium.
//
// The page and its assets come from a real clew; a small proxy in front of
// it answers `api/ui/traces/{id}` for the generated trace with its binary
// compact form (what clew's own endpoint returns for that trace), so the
// numbers are the UI's: transfer over loopback, tree building in the
// worker, first timeline paint, scrolling, memory.
//
// With --full-stack, the generated trace is instead sent to clew as OTLP
// JSON over HTTP and read back through clew's own `/api/ui/traces/{id}`
// (so the server's read, adjusters and compact rendering are included).
//
// Usage: node e2e/bench.mjs [--full-stack] [sizes…]   e.g. node e2e/bench.mjs 10000 100000
// CLEW_UI_DIST=dist serves the page and assets from a fresh `npm run build`
// instead of the ones embedded in clew (quicker while working on the UI).

import { createServer } from 'node:http';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { ROOT, launchBrowser, sendOtlp, startClew, waitFor } from './clew.mjs';
import { loadGenerator, toOtlp } from './generated.mjs';

const fullStack = process.argv.includes('--full-stack');
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
if (!sizes.length) sizes.push(10_000, 100_000, 1_000_000);

const { generateCompact, encodeCompact } = await loadGenerator();

const clew = await startClew();
const bodies = new Map();
// 1,500 search results (the UI's maximum limit), as API v3 trace summaries.
const now = Date.now();
const summaries = JSON.stringify({
  summaries: Array.from({ length: 1500 }, (_, k) => ({
    traceId: (k + 1).toString(16).padStart(32, '0'),
    rootServiceName: `service-${String(k % 20).padStart(2, '0')}`,
    rootOperationName: `op-${k % 40}`,
    minStartTimeUnixNano: String(BigInt(now - k * 1000) * 1000000n),
    maxEndTimeUnixNano: String(BigInt(now - k * 1000 + 5 + (k % 97) * 3) * 1000000n),
    spanCount: 5 + (k % 200),
    errorSpanCount: k % 7 === 0 ? 2 : 0,
    orphanSpanCount: 0,
    services: Array.from({ length: 1 + (k % 6) }, (_, j) => ({ name: `service-${String((k + j) % 20).padStart(2, '0')}`, spanCount: 1 + j, errorSpanCount: 0 })),
  })),
});

const dist = process.env.CLEW_UI_DIST ? resolve(process.env.CLEW_UI_DIST) : null;
const MIME = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.svg': 'image/svg+xml' };

const proxy = createServer(async (req, res) => {
  if (dist && !req.url.includes('/api/')) {
    const path = req.url.split('?')[0];
    const file = join(dist, path);
    const isFile = path !== '/' && existsSync(file) && statSync(file).isFile();
    res.writeHead(200, { 'content-type': MIME[isFile ? extname(file) : '.html'] ?? 'application/octet-stream' });
    res.end(readFileSync(isFile ? file : join(dist, 'index.html')));
    return;
  }
  if (req.url.startsWith('/api/v3/trace-summaries') && req.url.includes('bench-search')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(summaries);
    return;
  }
  const m = req.url.match(/\/api\/ui\/traces\/([0-9a-f]+)/);
  if (m && bodies.has(m[1])) {
    res.writeHead(200, { 'content-type': 'application/x-clew-ui-trace' });
    res.end(bodies.get(m[1]));
    return;
  }
  const r = await fetch(clew.url + req.url, { headers: { 'accept-encoding': req.headers['accept-encoding'] ?? '' } });
  const headers = {};
  r.headers.forEach((v, k) => (headers[k] = v));
  delete headers['content-length'];
  const buf = Buffer.from(await r.arrayBuffer());
  // fetch() decoded the body already.
  delete headers['content-encoding'];
  res.writeHead(r.status, headers);
  res.end(buf);
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${proxy.address().port}`;

function rendererRssMb() {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('--type=renderer') || !cmd.includes('clew-ui-chromium')) continue;
      const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
      if (m) total = Math.max(total, Number(m[1]) / 1024);
    } catch {}
  }
  return total;
}

const rows = [];
for (const n of sizes) {
  const t0 = Date.now();
  const doc = generateCompact({ spans: n, seed: 42 });
  let id = doc.traceID;
  let body = encodeCompact(doc);
  console.log(`generated ${n} spans (${(body.length / 1e6).toFixed(1)} MB binary compact form) in ${Date.now() - t0} ms`);
  if (fullStack) {
    const t1 = Date.now();
    for (const part of toOtlp(doc, 5000)) await sendOtlp(clew.addrs, part); // under clew's per-request decode budget
    id = doc.traceID;
    await waitFor(`${clew.url}/api/v3/trace-summaries?query.serviceName=service-00&query.startTimeMin=2020-01-01T00:00:00Z&query.startTimeMax=2030-01-01T00:00:00Z`, (b) => b.summaries?.some((x) => x.spanCount === n), `${n} spans stored`, 300_000);
    console.log(`sent as OTLP JSON and stored in ${Date.now() - t1} ms`);
    const t2 = Date.now();
    body = new Uint8Array(await (await fetch(`${clew.url}/api/ui/traces/${id}`)).arrayBuffer());
    console.log(`clew's /api/ui/traces answered ${(body.length / 1e6).toFixed(1)} MB in ${Date.now() - t2} ms`);
  } else {
    bodies.set(id, Buffer.from(body));
  }
  const browser = await launchBrowser();
  const page = await browser.context.newPage();
  await page.goto(`${base}/search`);
  await page.waitForSelector('.search-form');
  const tNav = Date.now();
  await page.goto(`${base}/trace/${id}`);
  await page.waitForFunction(() => window.__clewTimings?.firstPaintMs !== undefined, null, { timeout: 120_000, polling: 50 });
  const wall = Date.now() - tNav;
  const timings = await page.evaluate(() => window.__clewTimings);
  // Scroll for 3 s, one step per frame, and count frames.
  const scroll = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const el = document.querySelector('.scroller');
        const frames = [];
        const t0 = performance.now();
        const step = (t) => {
          frames.push(t);
          el.scrollTop += 48;
          if (t - t0 < 3000) requestAnimationFrame(step);
          else {
            const gaps = frames.slice(1).map((f, i) => f - frames[i]);
            gaps.sort((a, b) => a - b);
            resolve({ fps: (frames.length - 1) / ((frames[frames.length - 1] - frames[0]) / 1000), p95FrameMs: gaps[Math.floor(gaps.length * 0.95)] ?? 0 });
          }
        };
        requestAnimationFrame(step);
      }),
  );
  const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
  const drawMs = await page.evaluate(() => {
    const d = (window.__clewDrawMs ?? []).slice(-150).sort((a, b) => a - b);
    return { median: d[Math.floor(d.length / 2)] ?? 0, p95: d[Math.floor(d.length * 0.95)] ?? 0 };
  });
  const rss = rendererRssMb();
  await page.screenshot({ path: join(ROOT, `ui/e2e/artifacts/bench-${n}.png`) });
  // The same trace opened inside the app (as a click in the search results
  // does): the page and the worker are already up; time from the route
  // change to the first painted frame with rows.
  const inApp = await page.evaluate(async (tid) => {
    history.pushState(null, '', 'search');
    dispatchEvent(new PopStateEvent('popstate'));
    await new Promise((r) => setTimeout(r, 300));
    window.__clewTimings = undefined;
    const t0 = performance.now();
    history.pushState(null, '', `trace/${tid}`);
    dispatchEvent(new PopStateEvent('popstate'));
    while (window.__clewTimings?.firstPaintMs === undefined) await new Promise((r) => setTimeout(r, 10));
    return window.__clewTimings.firstPaintMs - t0;
  }, id);
  const row = {
    mode: fullStack ? 'full-stack' : 'ui',
    spans: n,
    mb: +(body.length / 1e6).toFixed(1),
    firstPaintMs: Math.round(timings.firstPaintMs),
    inAppMs: Math.round(inApp),
    buildMs: Math.round(timings.buildMs),
    wallMs: wall,
    fps: +scroll.fps.toFixed(0),
    p95FrameMs: +scroll.p95FrameMs.toFixed(1),
    drawMedianMs: +drawMs.median.toFixed(2),
    drawP95Ms: +drawMs.p95.toFixed(2),
    phases: Object.fromEntries(Object.entries(timings.phases ?? {}).sort((a, b) => a[1] - b[1]).map(([k, v]) => [k, Math.round(v)])),
    mainHeapMb: Math.round(heap / 1e6),
    rendererRssMb: Math.round(rss),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
  await browser.close();
  bodies.delete(id);
}
// The search page with 1,500 results: time to render them, then to re-sort.
{
  const browser = await launchBrowser();
  const page = await browser.context.newPage();
  await page.goto(`${base}/search`);
  await page.waitForSelector('.search-form');
  const t0 = Date.now();
  await page.goto(`${base}/search?service=bench-search&lookback=1h&limit=1500`);
  // The list renders in pages of 100 as it scrolls; the plot shows all 1,500.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=scatter] circle').length === 1500 && document.querySelectorAll('[data-testid=result]').length >= 100, null, { timeout: 60_000, polling: 20 });
  const renderMs = Date.now() - t0;
  const sortMs = await page.evaluate(async () => {
    const sel = document.querySelector('select[aria-label=Sort]');
    const t = performance.now();
    sel.value = 'longest';
    sel.dispatchEvent(new Event('change', { bubbles: true }));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t;
  });
  // Responsiveness: the longest main-thread task while scrolling the list.
  const scrollFps = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const frames = [];
        const t0 = performance.now();
        const step = (t) => {
          frames.push(t);
          window.scrollBy(0, 60);
          if (t - t0 < 2000) requestAnimationFrame(step);
          else resolve((frames.length - 1) / ((frames[frames.length - 1] - frames[0]) / 1000));
        };
        requestAnimationFrame(step);
      }),
  );
  const rendered = await page.evaluate(() => document.querySelectorAll('[data-testid=result]').length);
  const row = { mode: 'search', results: 1500, renderMs, sortMs: Math.round(sortMs), scrollFps: Math.round(scrollFps), rowsAfterScroll: rendered };
  rows.push(row);
  console.log(JSON.stringify(row));
  await page.screenshot({ path: join(ROOT, 'ui/e2e/artifacts/bench-search-1500.png') });
  await browser.close();
}
writeFileSync(join(ROOT, `ui/e2e/artifacts/bench${fullStack ? '-full-stack' : ''}.json`), JSON.stringify(rows, null, 2));
proxy.close();
await clew.stop();
