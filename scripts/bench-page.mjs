// Our main-thread time per page view in headless Chromium, against a real `tailor serve`:
// the demo's collection page (48-card grid) and product page (three recommendation slots), for a
// first visit (nothing cached) and a returning visit (snapshot from the Cache API), unthrottled
// and at 4x CPU throttling (DevTools Emulation.setCPUThrottlingRate). It reads the loader's User
// Timing entries (`tailor:eval` script evaluation, `tailor:decode` snapshot decode,
// `tailor:apply` ranking and DOM work) and long tasks (> 50 ms) on the main thread.
//   make build && cargo build --release -p tailor-server && node scripts/bench-page.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = [path.join(root, 'target/release/tailor'), path.join(root, 'target/debug/tailor')].find(existsSync);
if (!bin || !existsSync(path.join(root, 'dist/tailor.js'))) {
  console.error('build first: make build && cargo build --release -p tailor-server');
  process.exit(1);
}
const dir = mkdtempSync(path.join(tmpdir(), 'tailor-bench-page-'));
const server = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--db', path.join(dir, 'b.db'), '--rebuild-every', '0'], { cwd: root });
const base = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (c) => { out += c; const m = /listening on (http:\S+)/.exec(out); if (m) resolve(m[1]); });
  server.on('exit', () => reject(new Error('server exited: ' + out)));
});
const catalog = JSON.parse(readFileSync(path.join(root, 'www/catalog.json'), 'utf8'));
const product = catalog.products[0];
await fetch(`${base}/v1/snapshot/demo`); // build the snapshot once, outside the measurements

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless=new', '--no-sandbox', '--disable-gpu', ...(process.env.JS_FLAGS ? ['--js-flags=' + process.env.JS_FLAGS] : [])] });
const RUNS = Number(process.env.RUNS || 7);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function visit(context, url, rate, linger = 0) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  await page.addInitScript(() => {
    window.__tailorTest = true;
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(url);
  await page.waitForFunction(() => ['ready', 'failed'].includes(document.documentElement.dataset.tailor));
  // A returning shopper's earlier page stayed open a while: long enough for Chromium to keep
  // V8's compiled code for the engine next to its HTTP cache entry.
  if (linger) await page.waitForTimeout(linger);
  const r = await page.evaluate(() => {
    const get = (n) => performance.getEntriesByName(n, 'measure').reduce((a, e) => a + e.duration, 0);
    return { state: document.documentElement.dataset.tailor, eval: get('tailor:eval'), decode: get('tailor:decode'), apply: get('tailor:apply'), longest: Math.max(0, ...window.__long) };
  });
  await page.close();
  if (r.state !== 'ready') throw new Error(`engine did not start on ${url}`);
  return r;
}

const rows = [];
for (const [name, url] of [['collection (48 cards)', `${base}/collection.html`], ['product (3 slots)', `${base}/products/${product.handle}`]]) {
  for (const rate of [1, 4]) {
    for (const kind of ['first visit', 'returning']) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const context = await browser.newContext();
        if (kind === 'returning') await visit(context, url, rate, Number(process.env.LINGER_MS ?? 3000));
        runs.push(await visit(context, url, rate));
        await context.close();
      }
      const total = runs.map((r) => r.eval + r.decode + r.apply);
      rows.push([name, `${rate}x`, kind, median(runs.map((r) => r.eval)), median(runs.map((r) => r.decode)), median(runs.map((r) => r.apply)), median(total), Math.max(...runs.map((r) => r.longest))]);
    }
  }
}
await browser.close();
server.kill('SIGINT');
const f = (x) => x.toFixed(1);
console.log(`median of ${RUNS} page views each; ms on the main thread`);
console.log('| page | CPU | visit | script eval | decode | rank + DOM | ours, total | longest long task (any) |');
console.log('|---|---|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r[0]} | ${r[1]} | ${r[2]} | ${f(r[3])} | ${f(r[4])} | ${f(r[5])} | **${f(r[6])}** | ${f(r[7])} |`);
