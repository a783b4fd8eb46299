// End-to-end tests of the web UI against a real clew loaded with traces
// from real clients: the reference `hello` example (clew-client over UDP)
// and OTLP/JSON over HTTP. Each test asserts what is on screen; screenshots
// of every page, light and dark, go to ui/e2e/artifacts/.
//
// Usage: node e2e/run.mjs   (CLEW_BIN, CLEW_HELLO_BIN, CHROMIUM override paths)

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT, launchBrowser, run, sendOtlp, shopTrace, startClew, waitFor } from './clew.mjs';
import { loadGenerator, toOtlp } from './generated.mjs';

const ARTIFACTS = process.env.CLEW_UI_ARTIFACTS ?? join(ROOT, 'ui/e2e/artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const results = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`  ok    ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`  FAIL  ${name}\n        ${String(e.stack ?? e).split('\n').slice(0, 6).join('\n        ')}`);
  }
}
function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}
// Waits (up to 10 s) until the first match's text matches `re`: a page may
// show an intermediate state first ("Loading trace…"), and reading the text
// the moment the element appears made such checks race the page.
async function expectText(locator, re, what) {
  await locator.first().waitFor({ timeout: 10000 });
  const until = Date.now() + 10000;
  let t = await locator.first().innerText();
  while (!re.test(t) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    t = await locator.first().innerText();
  }
  expect(re.test(t), `${what}: expected ${re}, got ${JSON.stringify(t.slice(0, 300))}`);
}
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const setTheme = (page, theme) => page.evaluate((t) => localStorage.setItem('clew-theme', t), theme);

const clew = await startClew();
const { addrs, url } = clew;
console.log(`clew at ${url}`);
const browser = await launchBrowser();
const page = await browser.context.newPage();
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
// The Monitor page's probe of /api/metrics answers 501 by design; Chromium logs that as an error.
page.on('console', (m) => m.type() === 'error' && !/Failed to load resource.*\b501\b/.test(m.text()) && consoleErrors.push(m.text()));

let shopA, shopB;
try {
  // ---- data from real clients ----
  const hello = process.env.CLEW_HELLO_BIN ?? resolve(ROOT, process.env.CARGO_TARGET_DIR ?? 'target', 'debug/examples/hello');
  // The reference story: clew-client's `hello` example over UDP to the agent port.
  await run(hello, ['--agent', addrs.agent_compact]);
  await waitFor(`${url}/api/traces?service=hello-world&limit=5`, (b) => b.data?.[0]?.spans?.length === 2, 'the hello → world trace');
  shopA = shopTrace('a', Date.now() - 60_000);
  shopB = shopTrace('b', Date.now() - 30_000);
  await sendOtlp(addrs, shopA.body);
  await sendOtlp(addrs, shopB.body);
  await waitFor(`${url}/api/traces/${shopB.traceId}`, (b) => b.data?.[0]?.spans?.length === 9, 'the shop traces');

  await test('search page finds the hello → world trace', async () => {
    await setTheme(page, 'light').catch(() => {});
    await page.goto(`${url}/`);
    await setTheme(page, 'light');
    await page.goto(`${url}/`);
    await page.selectOption('select[name=service]', 'hello-world');
    await page.click('button:has-text("Find Traces")');
    await expectText(page.locator('[data-testid=result]'), /hello-world: hello/, 'result row');
    await expectText(page.locator('[data-testid=result]'), /2 Spans/, 'span count');
    expect(page.url().includes('service=hello-world'), `URL holds the search: ${page.url()}`);
    await page.locator('[data-testid=scatter] circle').first().waitFor();
    await shot(page, '01-search-hello-light');
  });

  await test('the hello trace opens in the timeline; keyboard walks hello → world', async () => {
    await page.click('[data-testid=result] a');
    await expectText(page.locator('[data-testid=trace-title]'), /hello-world: hello/, 'trace title');
    await expectText(page.locator('[data-testid=trace-stats]'), /Total Spans\s*2/, 'span count');
    await expectText(page.locator('[data-testid=trace-stats]'), /Depth\s*2/, 'depth');
    await page.locator('[data-testid=timeline]').focus();
    await page.keyboard.press('ArrowDown');
    await expectText(page.locator('[data-testid=span-detail] h2'), /^hello$/, 'first row');
    await page.keyboard.press('ArrowDown');
    await expectText(page.locator('[data-testid=span-detail] h2'), /^world$/, 'second row');
    await shot(page, '02-trace-hello-light');
    // '?' lists the shortcuts; '?' again closes the list.
    await page.keyboard.press('?');
    await expectText(page.locator('[data-testid=keys-help]'), /Keyboard shortcuts[\s\S]*find in trace/, 'shortcut list');
    await shot(page, '02b-trace-keys-light');
    await page.keyboard.press('?');
    await page.locator('[data-testid=keys-help]').waitFor({ state: 'detached' });
  });

  await test('shared search URLs (Jaeger UI parameters) and trace URLs work directly', async () => {
    const end = Date.now() * 1000;
    await page.goto(`${url}/search?service=frontend&lookback=1h&limit=20&start=${end - 3600e6}&end=${end}&tags=${encodeURIComponent('{"http.status_code":"500"}')}`);
    await expectText(page.locator('[data-testid=results] h2'), /^1 Trace$/, 'tag search');
    await expectText(page.locator('[data-testid=result]'), /frontend: GET \/checkout/, 'tag search result');
    await expectText(page.locator('[data-testid=result]'), /1 Errors/, 'error badge');
    await page.goto(`${url}/search?traceID=${shopA.traceId}&traceID=${shopB.traceId}`);
    await page.locator('[data-testid=result]').nth(1).waitFor();
    expect((await page.locator('[data-testid=result]').count()) === 2, 'two traces by ID');
  });

  await test('search results sort and compare', async () => {
    const end = Date.now() * 1000;
    await page.goto(`${url}/search?service=frontend&lookback=1h&limit=20&start=${end - 3600e6}&end=${end}`);
    await page.locator('[data-testid=result]').nth(1).waitFor();
    await page.selectOption('select[aria-label=Sort]', 'most');
    await expectText(page.locator('[data-testid=result]'), /9 Spans/, 'most spans first');
    await page.selectOption('select[aria-label=Sort]', 'least');
    await expectText(page.locator('[data-testid=result]'), /8 Spans/, 'least spans first');
    await shot(page, '03-search-shop-light');
    const boxes = page.locator('[data-testid=result] input[type=checkbox]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.click('button:has-text("Compare")');
    await expectText(page.locator('[data-testid=diff-summary]'), /1 added/, 'diff summary');
    await expectText(page.locator('[data-testid=diff-summary]'), /1 removed/, 'diff summary');
    await page.locator('[data-testid=diff-graph] .node.added').first().waitFor();
    await shot(page, '04-compare-light');
  });

  await test('span detail shows tags, process, logs and references; find highlights', async () => {
    await page.goto(`${url}/trace/${shopB.traceId}`);
    await expectText(page.locator('[data-testid=trace-title]'), /frontend: GET \/checkout/, 'title');
    await expectText(page.locator('[data-testid=trace-stats]'), /Errors\s*1/, 'errors');
    await page.fill('input[aria-label="Find in trace"]', 'charge');
    await expectText(page.locator('[data-testid=find-count]'), /1 of 2/, 'find count');
    // Click the row of payment's "charge" span: find its row by keyboard order.
    await page.locator('[data-testid=timeline]').focus();
    for (let k = 0; k < 6; k++) await page.keyboard.press('ArrowDown');
    await expectText(page.locator('[data-testid=span-detail] h2'), /^charge$/, 'sixth row');
    const detail = page.locator('[data-testid=span-detail]');
    await expectText(detail, /payment\.amount/, 'tags');
    await expectText(detail, /card declined/, 'status message');
    await expectText(detail, /Logs \(1\)[\s\S]*card authorised/i, 'logs');
    await expectText(detail, /CHILD_OF/, 'references');
    await expectText(detail, /Process: payment[\s\S]*10\.0\.0\.3/i, 'process tags');
    await expectText(page.locator('[data-testid=critical-time]'), /^(no|\S+ of \S+ \(\d+%\))$/, 'critical-path time');
    await shot(page, '05-trace-detail-light');
    // Click a row on the canvas: the second row is "POST /cart".
    const box = await page.locator('[data-testid=timeline-canvas]').boundingBox();
    await page.mouse.click(box.x + box.width * 0.6, box.y + 24 * 1 + 12);
    await expectText(page.locator('[data-testid=span-detail] h2'), /^POST \/cart$/, 'clicked row');
    // Hovering the root's bar shows its times and its share of the critical path.
    await page.mouse.move(box.x + box.width * 0.6, box.y + 12);
    await expectText(page.locator('[data-testid=bar-tooltip]'), /frontend: GET \/checkout[\s\S]*duration[\s\S]*critical path \S+ \(\d+%\) in \d+ segments?/, 'bar tooltip');
    await page.mouse.move(box.x + 5, box.y + box.height - 5);
  });

  await test('alternative views: statistics, span table, flame graph, trace graph, JSON', async () => {
    await page.goto(`${url}/trace/${shopA.traceId}?view=stats`);
    await expectText(page.locator('[data-testid=stats-view]'), /payment[\s\S]*charge/, 'stats');
    // The root's own time on the critical path, with its share of the trace.
    await expectText(page.locator('[data-testid=stats-view] tr', { hasText: 'GET /checkout' }), /\d+(\.\d+)?(ms|μs) · \d+%/, 'critical-path column');
    await shot(page, '06-stats-light');
    await page.click('button[role=tab]:has-text("Span Table")');
    await expectText(page.locator('[data-testid=span-table]'), /SELECT accounts/, 'span table');
    await page.click('button[role=tab]:has-text("Flame Graph")');
    await page.locator('[data-testid=flame-view] canvas').waitFor();
    await shot(page, '07-flame-light');
    await page.click('button[role=tab]:has-text("Trace Graph")');
    await expectText(page.locator('[data-testid=graph-view]'), /redis GET/, 'trace graph');
    await shot(page, '08-graph-light');
    await page.click('button[role=tab]:has-text("JSON")');
    await expectText(page.locator('[data-testid=json-view] pre'), new RegExp(shopA.traceId.slice(16)), 'raw JSON');
  });

  await test('dependency graph shows the services; a node opens a search', async () => {
    await page.goto(`${url}/dependencies`);
    await page.locator('[data-testid=dep-node]').first().waitFor();
    const names = await page.locator('[data-testid=dep-node] text').allTextContents();
    for (const s of ['frontend', 'cart', 'payment']) expect(names.some((n) => n.includes(s)), `node ${s} in ${names}`);
    await shot(page, '09-dependencies-light');
    await page.locator('[data-testid=dep-node]', { hasText: 'payment' }).click();
    await page.waitForURL(/service=payment/);
    await expectText(page.locator('[data-testid=result]'), /frontend: GET \/checkout/, 'search from the graph');
  });

  await test('monitor page shows the not-configured state (metrics API answers 501)', async () => {
    await page.goto(`${url}/monitor`);
    await expectText(page.locator('[data-testid=monitor-disabled]'), /not configured/, 'monitor');
    await shot(page, '10-monitor-light');
  });

  await test('upload a Jaeger JSON file and an OTLP JSON file, view them without storing', async () => {
    const jaegerJson = await (await fetch(`${url}/api/traces/${shopA.traceId}`)).text();
    const f1 = join(ARTIFACTS, 'upload-jaeger.json');
    writeFileSync(f1, jaegerJson);
    const otlp = shopTrace('b');
    const f2 = join(ARTIFACTS, 'upload-otlp.json');
    writeFileSync(f2, JSON.stringify(otlp.body));
    await page.goto(`${url}/search`);
    await page.click('.tabs button:has-text("Upload JSON")');
    await page.setInputFiles('[data-testid=upload-input]', [f1, f2]);
    await page.locator('[data-testid=uploaded-trace]').nth(1).waitFor();
    await shot(page, '11-upload-light');
    await page.locator('[data-testid=uploaded-trace]', { hasText: otlp.traceId.slice(0, 16) }).click();
    await expectText(page.locator('[data-testid=trace-stats]'), /Total Spans\s*9/, 'uploaded OTLP trace');
    const stored = await fetch(`${url}/api/traces/${otlp.traceId}`);
    expect(stored.status === 404, `uploaded trace must not be stored (got ${stored.status})`);
    // Its JSON view is Jaeger JSON again (the file can be uploaded elsewhere).
    await page.click('button[role=tab]:has-text("JSON")');
    await expectText(page.locator('[data-testid=json-view] pre'), /^(?=[\s\S]*"serviceName": "payment")(?=[\s\S]*"operationName": "charge")[\s\S]*"spanID": "[0-9a-f]{16}"/, 'uploaded trace as Jaeger JSON');
  });

  await test('dark theme, and 1920×1080', async () => {
    await setTheme(page, 'dark');
    await page.goto(`${url}/search?service=frontend&lookback=1h&limit=20`);
    await page.locator('[data-testid=result]').first().waitFor();
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg === 'rgb(18, 20, 27)', `dark background, got ${bg}`);
    await shot(page, '12-search-dark');
    await page.goto(`${url}/trace/${shopB.traceId}`);
    await page.locator('[data-testid=timeline]').focus();
    for (let k = 0; k < 6; k++) await page.keyboard.press('ArrowDown');
    await page.locator('[data-testid=span-detail] h2').waitFor();
    await shot(page, '13-trace-dark');
    await page.goto(`${url}/trace/${shopA.traceId}...${shopB.traceId}`);
    await page.locator('[data-testid=diff-graph] .node').first().waitFor();
    await shot(page, '14-compare-dark');
    await page.goto(`${url}/dependencies`);
    await page.locator('[data-testid=dep-node]').first().waitFor();
    await shot(page, '15-dependencies-dark');
    await page.goto(`${url}/monitor`);
    await page.locator('[data-testid=monitor-disabled]').waitFor();
    await shot(page, '16-monitor-dark');
    await page.goto(`${url}/trace/${shopA.traceId}?view=stats`);
    await page.locator('[data-testid=stats-view]').waitFor();
    await shot(page, '17-stats-dark');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.goto(`${url}/trace/${shopB.traceId}`);
    await page.locator('[data-testid=timeline]').waitFor();
    await page.waitForTimeout(200);
    await shot(page, '18-trace-dark-1920');
    await setTheme(page, 'light');
    await page.reload();
    await page.locator('[data-testid=timeline]').waitFor();
    await page.waitForTimeout(200);
    await shot(page, '19-trace-light-1920');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await test('unknown API paths keep the API 404; UI routes fall back to the app', async () => {
    const r = await fetch(`${url}/api/nope`);
    expect(r.status === 404, `api 404, got ${r.status}`);
    const body = await r.text();
    expect(body.includes('404 page not found'), body);
    const page404 = await fetch(`${url}/deep-dependencies`);
    expect(page404.status === 200 && (await page404.text()).includes('<div id="app">'), 'SPA fallback');
  });

  await test('a generated 5,000-span trace opens from its URL; End reaches the last row; find counts tag matches', async () => {
    // Its own clew, so the 20 generated services stay out of the other pages' screenshots.
    const c3 = await startClew();
    try {
      const { generateCompact } = await loadGenerator();
      const doc = generateCompact({ spans: 5000, seed: 11 });
      for (const part of toOtlp(doc)) await sendOtlp(c3.addrs, part);
      const id = doc.traceID.padStart(32, '0');
      await waitFor(`${c3.url}/api/traces/${id}`, (b) => b.data?.[0]?.spans?.length === 5000, 'the generated trace stored');
      await page.goto(`${c3.url}/trace/${id}`);
      await expectText(page.locator('[data-testid=trace-stats]'), /Services\s*20[\s\S]*Total Spans\s*5000/, 'header counts');
      await page.locator('[data-testid=timeline]').focus();
      await page.keyboard.press('End');
      await expectText(page.locator('[data-testid=span-detail] h2'), /^op-\d+$/, 'last row selected');
      // Tags arrive after the tree (they stream in behind it): the detail shows them.
      await expectText(page.locator('[data-testid=span-detail]'), /http\.url[\s\S]*\/api\/v1\/items\//, 'tags of the last row');
      let errors = 0;
      for (let i = 0; i < doc.spanCount; i++) errors += doc.flags[i] & 1;
      await page.fill('input[aria-label="Find in trace"]', 'http.status_code=500');
      await expectText(page.locator('[data-testid=find-count]'), new RegExp(`^1 of ${errors}$`), 'error spans found by tag');
      await shot(page, '20-trace-generated-5000-light');
    } finally {
      await c3.stop();
    }
  });
} finally {
  await page.close().catch(() => {});
}

// ---- base path: a second clew under /jaeger ----
await test('under --query-base-path /jaeger the UI and API work behind the prefix', async () => {
  const c2 = await startClew(['--query-base-path', '/jaeger']);
  try {
    await sendOtlp(c2.addrs, shopTrace('a').body);
    await waitFor(`${c2.url}/jaeger/api/services`, (b) => b.data?.includes('frontend'), 'services under the base path');
    const p = await browser.context.newPage();
    await p.goto(`${c2.url}/jaeger/search?service=frontend&lookback=1h&limit=20`);
    await expectText(p.locator('[data-testid=result]'), /frontend: GET \/checkout/, 'search under base path');
    await p.click('[data-testid=result] a');
    await p.waitForURL(/\/jaeger\/trace\//);
    await expectText(p.locator('[data-testid=trace-stats]'), /Total Spans\s*8/, 'trace under base path');
    // Opened directly, the page fetches the trace before its script runs (index.html): under the prefix too.
    await p.goto(p.url());
    await expectText(p.locator('[data-testid=trace-stats]'), /Total Spans\s*8/, 'trace opened directly under base path');
    await p.goto(`${c2.url}/jaeger/trace/00000000000000000000000000abcdef`);
    await expectText(p.locator('.card'), /could not be loaded[\s\S]*not found/i, 'a missing trace says so');
    await p.close();
  } finally {
    await c2.stop();
  }
});

await test('no errors in the browser console', async () => {
  expect(consoleErrors.length === 0, consoleErrors.join('\n'));
});

await browser.close();
await clew.stop();
const failed = results.filter((r) => !r.ok);
console.log(`\n${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${ARTIFACTS}`);
process.exit(failed.length ? 1 : 0);
