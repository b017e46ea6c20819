// What instantiating the engine costs a page's main thread, as the loader does it: a worker
// compiles the wasm and posts the module, and the page instantiates it with the wasm-bindgen glue
// (`initSync`). Fresh pages in headless Chromium, at 4x CPU throttling by default; the median of
// RUNS pages per case, in ms (performance.now, which Chromium rounds to 0.1 ms).
//
// Cases:
// - "as the loader": the page's first instance;
// - "worker instantiated first": the worker also instantiates the module before posting it
//   (does the page then find anything ready?);
// - "a tiny module first": the page instantiates a module of one memory page before the
//   engine's (how much of the first instance is the page's first use of WebAssembly);
// and in each, a second instance of the engine on the same page (a fresh copy of the glue).
//
//   make build && node scripts/bench-instantiate.mjs      (RUNS=15, RATE=4)
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.RUNS || 15);
const RATE = Number(process.env.RATE || 4);

const PAGE = `<!doctype html><meta charset=utf-8><body><script type=module>
const q = new URLSearchParams(location.search);
const w = new Worker('/worker.js?' + q, { type: 'module' });
w.onmessage = async (e) => {
  const module = e.data;
  const glue = await import('/glue.js');
  const again = await import('/glue.js?again');
  const r = {};
  let t = performance.now();
  if (q.get('tiny')) new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1])), {});
  r.tiny = performance.now() - t;
  t = performance.now();
  glue.initSync({ module });
  r.first = performance.now() - t;
  t = performance.now();
  again.initSync({ module });
  r.second = performance.now() - t;
  window.result = r;
};
</script>`;
const WORKER = `const q = new URL(location.href).searchParams;
const module = await WebAssembly.compileStreaming(fetch('/tailor_bg.wasm'));
if (q.get('inst')) (await import('/glue.js')).initSync({ module });
postMessage(module);`;

const files = {
  '/': ['text/html', PAGE],
  '/worker.js': ['text/javascript', WORKER],
  '/glue.js': ['text/javascript', readFileSync(path.join(ROOT, 'pkg/web/tailor.js'))],
  '/tailor_bg.wasm': ['application/wasm', readFileSync(path.join(ROOT, 'pkg/web/tailor_bg.wasm'))],
};
const server = http.createServer((req, res) => {
  const f = files[new URL(req.url, 'http://x').pathname];
  if (!f) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': f[0] }).end(f[1]);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--headless=new', '--no-sandbox'] });
const cases = [['as the loader', ''], ['worker instantiated first', 'inst=1'], ['a tiny module first', 'tiny=1']];
const results = new Map(cases.map(([name]) => [name, []]));
for (let i = 0; i < RUNS; i++) {
  process.stderr.write(`\rpage view ${i + 1}/${RUNS}`);
  // Interleaved, so that the machine's noise falls on every case.
  for (const [name, query] of cases) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: RATE });
    await page.goto(base + '?' + query);
    await page.waitForFunction(() => window.result, null, { timeout: 60_000 });
    results.get(name).push(await page.evaluate(() => window.result));
    await context.close();
  }
}
process.stderr.write('\n');
await browser.close();
server.close();
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1].toFixed(1); };
console.log(`instantiating the engine on a page, ${RATE}x CPU, median of ${RUNS} fresh pages, ms`);
console.log('| case | tiny module | engine, first | engine, second |');
console.log('|---|---:|---:|---:|');
for (const [name, rs] of results) {
  console.log(`| ${name} | ${name === 'a tiny module first' ? median(rs.map((r) => r.tiny)) : ''} | ${median(rs.map((r) => r.first))} | ${median(rs.map((r) => r.second))} |`);
}
