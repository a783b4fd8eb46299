// Helpers shared by the end-to-end tests and the benchmark: start a real
// `clew` on free ports, send it traces over real protocols, launch Debian's
// Chromium through playwright-core.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const PORTS = ['query-http', 'admin-http', 'collector-http', 'agent-compact', 'agent-binary', 'agent-zipkin-compact', 'sampling-http', 'query-grpc', 'zipkin-http', 'collector-grpc', 'otlp-grpc', 'otlp-http'];

/** Starts clew with every port 0; resolves with its addresses once ready. */
export async function startClew(extra = []) {
  const bin = process.env.CLEW_BIN ?? resolve(ROOT, process.env.CARGO_TARGET_DIR ?? 'target', 'debug', 'clew');
  const binPath = existsSync(bin) ? bin : join(ROOT, 'target/debug/clew');
  if (!existsSync(binPath)) throw new Error(`clew binary not found at ${bin}: build it with cargo build -p clew (or set CLEW_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), 'clew-ui-e2e-'));
  const ready = join(dir, 'ready.json');
  const args = ['--ready-file', ready, '--data-dir', join(dir, 'data'), '--log-level', 'warn', ...PORTS.flatMap((p) => [`--${p}-port`, '0']), ...extra];
  const proc = spawn(binPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((r) => proc.on('exit', r));
  // A crashed test or benchmark must not leave clew running.
  process.on('exit', () => proc.exitCode === null && proc.kill());
  for (let i = 0; i < 400; i++) {
    if (existsSync(ready)) {
      try {
        const addrs = JSON.parse(readFileSync(ready, 'utf8'));
        return {
          addrs,
          url: `http://${addrs.query_http}`,
          async stop() {
            proc.kill('SIGTERM');
            await exited;
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch {}
    }
    if (proc.exitCode !== null) throw new Error(`clew exited with ${proc.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill();
  throw new Error('clew did not become ready in 20 s');
}

/** Runs a program to completion; rejects with its output on failure. */
export function run(cmd, args, env = {}) {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res(out) : rej(new Error(`${cmd} exited ${code}: ${out}`))));
  });
}

export const hex = (bytes) => randomBytes(bytes).toString('hex');

/** POSTs OTLP/JSON to clew's OTLP HTTP receiver. */
export async function sendOtlp(addrs, body) {
  const r = await fetch(`http://${addrs.otlp_http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  if (!r.ok) throw new Error(`OTLP POST ${r.status}: ${await r.text()}`);
}

/** Waits until `GET path` on the query API answers with something `ok` accepts. */
export async function waitFor(url, ok, what, timeoutMs = 20000) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const r = await fetch(url);
      last = await r.text();
      if (r.ok && ok(JSON.parse(last))) return JSON.parse(last);
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last answer: ${String(last).slice(0, 300)}`);
}

export async function launchBrowser() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'clew-ui-chromium-'));
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// ---- an OTLP "shop" trace, in two variants for compare ----

const attr = (key, v) => ({ key, value: typeof v === 'number' ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }) : typeof v === 'boolean' ? { boolValue: v } : { stringValue: v } });

/**
 * frontend GET /checkout → cart (→ redis) and payment (→ postgres);
 * variant 'b' adds a shipping call and a second query, drops the redis
 * call and fails payment (7 spans in 'a', 9 in 'b').
 */
export function shopTrace(variant = 'a', t0Ms = Date.now() - 5000) {
  const traceId = hex(16);
  const ns = (ms) => String(BigInt(Math.round((t0Ms + ms) * 1000)) * 1000n);
  const resources = new Map();
  const span = (service, host, name, kind, startMs, durMs, parent, extra = {}) => {
    const s = { traceId, spanId: hex(8), name, kind, startTimeUnixNano: ns(startMs), endTimeUnixNano: ns(startMs + durMs), attributes: extra.attributes ?? [], events: extra.events ?? [], status: extra.status ?? {} };
    if (parent) s.parentSpanId = parent.spanId;
    if (!resources.has(service)) resources.set(service, { host, spans: [] });
    resources.get(service).spans.push(s);
    return s;
  };
  const root = span('frontend', '10.0.0.1', 'GET /checkout', 2, 0, 180, null, { attributes: [attr('http.method', 'GET'), attr('http.route', '/checkout'), attr('http.status_code', variant === 'b' ? 500 : 200)] });
  const cartCall = span('frontend', '10.0.0.1', 'POST /cart', 3, 5, 60, root, { attributes: [attr('peer.service', 'cart')] });
  const cart = span('cart', '10.0.0.2', 'POST /cart', 2, 8, 52, cartCall, { attributes: [attr('cart.items', 3)] });
  if (variant === 'a') span('cart', '10.0.0.2', 'redis GET', 3, 12, 9, cart, { attributes: [attr('db.system', 'redis'), attr('db.statement', 'GET cart:42')] });
  span('cart', '10.0.0.2', 'compute totals', 1, 25, 30, cart);
  const payCall = span('frontend', '10.0.0.1', 'POST /charge', 3, 70, 100, root);
  const pay = span('payment', '10.0.0.3', 'charge', 2, 74, 92, payCall, {
    attributes: [attr('payment.amount', 42.5), attr('payment.currency', 'EUR')],
    events: [{ timeUnixNano: ns(80), name: 'card authorised', attributes: [attr('card.brand', 'visa')] }],
    status: variant === 'b' ? { code: 2, message: 'card declined' } : { code: 1 },
  });
  const select = { attributes: [attr('db.system', 'postgresql'), attr('db.statement', 'SELECT * FROM accounts WHERE id = $1')] };
  span('payment', '10.0.0.3', 'SELECT accounts', 3, 78, 30, pay, select);
  if (variant === 'b') span('payment', '10.0.0.3', 'SELECT accounts', 3, 120, 30, pay, select);
  if (variant === 'b') span('frontend', '10.0.0.1', 'POST /ship', 3, 171, 6, root, { attributes: [attr('peer.service', 'shipping')] });
  return {
    traceId,
    body: {
      resourceSpans: [...resources.entries()].map(([service, r]) => ({
        resource: { attributes: [attr('service.name', service), attr('host.name', `${service}-host`), attr('ip', r.host)] },
        scopeSpans: [{ scope: { name: 'clew-ui-e2e', version: '1.0' }, spans: r.spans }],
      })),
    },
  };
}
