// The engine in headless Chromium: decode the benchmark stores' snapshots (written by
// `cargo bench -p tailor-core`) with Engine.init and rank a 48-card Dawn grid (read, decide,
// apply), and print
// medians to compare with the native criterion numbers. Run `make bench` first.
//   node scripts/bench-browser.mjs
import http from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const snaps = path.join(root, 'target/bench-snapshots');
for (const f of ['store-10000.bin', 'store-50000.bin', 'pkg/web/tailor.js']) {
  const p = f.startsWith('pkg') ? path.join(root, f) : path.join(snaps, f);
  if (!existsSync(p)) {
    console.error(`missing ${p}: run make build and make bench first`);
    process.exit(1);
  }
}
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.txt': 'text/plain', '.html': 'text/html' };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const file = url.pathname === '/' ? null : url.pathname.startsWith('/snap/')
    ? path.join(snaps, path.basename(url.pathname))
    : path.join(root, 'pkg/web', path.basename(url.pathname));
  if (!file) {
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end('<!doctype html><div id="c"></div>');
  }
  try {
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage();
await page.goto(base + '/');
const results = await page.evaluate(async () => {
  const mod = await import('/tailor.js');
  await mod.default({ module_or_path: '/tailor_bg.wasm' });
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const out = {};
  for (const n of [10000, 50000]) {
    const bytes = new Uint8Array(await (await fetch(`/snap/store-${n}.bin`)).arrayBuffer());
    const times = [];
    let engine;
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      engine = mod.Engine.init({ snapshot: bytes });
      times.push(performance.now() - t0);
      if (i < 14) engine.free();
    }
    out[`snapshot decode (Engine.init), ${n} items`] = median(times);
    const ids = (await (await fetch(`/snap/grid-${n}.txt`)).text()).split(',');
    const c = document.getElementById('c');
    const ul = document.createElement('ul');
    ul.id = 'product-grid';
    for (const id of ids) {
      const li = document.createElement('li');
      li.className = 'grid__item';
      const a = document.createElement('a');
      a.id = `CardLink-template--1__product-grid-${id}`;
      li.append(a);
      ul.append(li);
    }
    c.replaceChildren(ul);
    // performance.now() is coarsened to 100 µs here, so time batches of 50 calls.
    const rank = [];
    for (let k = 0; k < 9; k++) {
      const t0 = performance.now();
      for (let i = 0; i < 50; i++) { const read = mod.readPage({ root: c, parts: 'g' }); mod.applyPage(read.reading, engine.decide(read.request), 'g'); }
      rank.push((performance.now() - t0) / 50);
    }
    out[`grid: readPage, decide, applyPage, 48 cards, ${n}-item store`] = median(rank);
    engine.free();
  }
  return out;
});
await browser.close();
server.close();
console.log('| benchmark (headless Chromium) | median |');
console.log('|---|---:|');
for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${v >= 1 ? v.toFixed(2) + ' ms' : (v * 1000).toFixed(0) + ' µs'} |`);
