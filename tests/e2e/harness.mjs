// Shared plumbing for the end-to-end tests: a real `tailor serve` on 127.0.0.1 with a fresh
// SQLite file, and a real headless Chromium driven by playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.TAILOR_BIN || path.join(ROOT, 'target/debug/tailor');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Start `tailor serve` on a free port with a new database. Resolves once it listens. */
export async function startServer(extraArgs = []) {
  if (!existsSync(BIN)) throw new Error(`server binary ${BIN} not found: run cargo build -p tailor-server`);
  const dir = mkdtempSync(path.join(tmpdir(), 'tailor-e2e-'));
  const child = spawn(
    BIN,
    ['serve', '--addr', '127.0.0.1:0', '--db', path.join(dir, 'events.db'), '--rebuild-every', '0', ...extraArgs],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const base = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) resolve(m[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => (output += c));
    child.on('exit', (code) => reject(new Error(`tailor serve exited with ${code} before listening:\n${output}`)));
  });
  const db = path.join(dir, 'events.db');
  return {
    base,
    db,
    output: () => output,
    /** `tailor build-snapshot` against this server's database; resolves to its output. */
    buildSnapshot() {
      const r = spawnSync(BIN, ['build-snapshot', '--site', 'demo', '--db', db], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`build-snapshot failed: ${r.stderr}`);
      return r.stdout;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        // Graceful shutdown waits for open connections; never let that hang the suite.
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/bootstrap.sh`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * One real `tailor serve` (started with `serverArgs`) and one Chromium for a test file, started
 * before its tests and stopped after them: `env.server` and `env.browser`. `setup(env)`, when
 * given, runs once both are up.
 */
export function serverAndBrowser(serverArgs = [], setup = null) {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startServer(serverArgs);
    env.browser = await launchBrowser();
    if (setup) await setup(env);
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/** Wait until the loader has settled on `ready`, `failed` or `skipped`; that state. */
export async function settle(page) {
  await page.waitForFunction(() => ['ready', 'failed', 'skipped'].includes(document.documentElement.dataset.tailor));
  return page.evaluate(() => document.documentElement.dataset.tailor);
}

/** Collect console errors and uncaught page errors. */
export function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/**
 * A second reader of snapshot format version 4 (docs/snapshot-format.md), written from the
 * spec rather than from the Rust code. It checks the header, the checksum and the section
 * order, and returns each item's popularity score, which is what the grid ranking uses.
 */
export function decodeSnapshot(buf) {
  const b = Buffer.from(buf);
  const fail = (why) => { throw new Error(`snapshot: ${why}`); };
  if (b.length < 20) fail('too short');
  if (b.subarray(0, 4).toString('latin1') !== 'TLSN') fail('bad magic');
  if (b.readUInt16LE(4) !== 4) fail(`format version ${b.readUInt16LE(4)}`);
  if (b[6] !== 1) fail(`model kind ${b[6]}`);
  if (b[7] !== 0) fail('flags set');
  const end = b.length - 4;
  if (zlib.crc32(b.subarray(0, end)) !== b.readUInt32LE(end)) fail('checksum');
  let pos = 16;
  const varint = () => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = b[pos++];
      v |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
    }
  };
  let ids = null;
  let popularity = null;
  let lastTag = 0;
  while (pos < end) {
    const tag = b[pos++];
    if (tag <= lastTag) fail(`section ${tag} out of order`);
    lastTag = tag;
    const len = Number(varint());
    const sectionEnd = pos + len;
    if (tag === 1) {
      const n = Number(varint());
      ids = [];
      let prev = 0n;
      for (let i = 0; i < n; i++) {
        const v = varint();
        if (i > 0 && v === 0n) fail('ids not increasing');
        prev = i === 0 ? v : prev + v;
        ids.push(prev.toString());
      }
    } else if (tag === 4) {
      popularity = [...b.subarray(pos, sectionEnd)];
    }
    pos = sectionEnd;
  }
  if (!ids) fail('no items section');
  const scores = new Map(ids.map((id, i) => [id, popularity ? popularity[i] : 0]));
  return { modelKind: b[6], catalogVersion: b.readBigUInt64LE(8), scores };
}

/**
 * A browser context for tests. Headless Chromium reports `navigator.webdriver`, and the loader
 * leaves automated browsers unpersonalized (as it does crawlers) unless the test flag is set.
 * The demo pages' anti-flicker deadline is relaxed (see `relaxReveal`) unless
 * `options.strictReveal` asks for the real 300 ms; other options go to `browser.newContext`.
 */
export function testContext(browser, options = {}) {
  const { strictReveal, ...contextOptions } = options;
  return browser.newContext(contextOptions).then(async (context) => {
    // A fixed shopper id outside the 5% global holdout (experiments::unit_hash puts it at
    // 0.949), so every test sees personalization.
    await context.addInitScript(() => {
      window.__tailorTest = true;
      try { localStorage.setItem('tailor:shopper', 'e2e-shopper-2'); } catch (_) { /* opaque origin */ }
    });
    if (!strictReveal) await relaxReveal(context);
    return context;
  });
}

/**
 * Give the anti-flicker rules (`www/tailor-antiflicker.css`) a 10 s deadline for the loader on
 * this context's pages (as a merchant may, with `--tailor-reveal-ms`), so a test about what the
 * engine decides does not depend on it deciding within 300 ms on a busy machine: past the
 * deadline the loader no longer moves what the shopper may have seen. (The CSS still reveals at
 * 300 ms.) An init script sets it, not a route: routing turns off the context's HTTP cache.
 * `testContext` does this unless asked not to; the 300 ms behaviour itself is tested with
 * `strictReveal`.
 */
export async function relaxReveal(context) {
  await context.addInitScript(() => document.addEventListener('DOMContentLoaded', () => document.documentElement.style.setProperty('--tailor-reveal-ms', '10000')));
}

/**
 * Every event a page has recorded: those it sent to `/v1/events` (seen on the wire), those it
 * sent by `sendBeacon`, and those still queued in storage by any tab (`tailor:queue:<site>:<tab>`,
 * one event's JSON per line), each once.
 *
 * Beacons need help: Playwright gives no body for a `sendBeacon` request, and none at all for
 * one sent from `pagehide`, so an init script copies each beacon's body to `sessionStorage`,
 * which the tab keeps across same-origin navigations. Install it before the page's first `goto`.
 */
export async function recordedEvents(page) {
  const sent = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/v1/events') && r.method() === 'POST') {
      try { sent.push(...JSON.parse(r.postData()).events); } catch { /* not ours, or a beacon */ }
    }
  });
  await page.addInitScript(() => {
    const Native = Blob;
    const bodies = new WeakMap();
    const set = Storage.prototype.setItem;
    const get = Storage.prototype.getItem;
    window.Blob = class extends Native {
      constructor(parts = [], options = undefined) {
        super(parts, options);
        if (parts.every((p) => typeof p === 'string')) bodies.set(this, parts.join(''));
      }
    };
    const send = navigator.sendBeacon.bind(navigator);
    navigator.sendBeacon = (url, data) => {
      const ok = send(url, data);
      if (ok && bodies.has(data) && String(url).endsWith('/v1/events')) {
        try {
          const all = JSON.parse(get.call(sessionStorage, '__beacons') || '[]');
          set.call(sessionStorage, '__beacons', JSON.stringify([...all, bodies.get(data)]));
        } catch { /* no sessionStorage here: the beacon goes unrecorded */ }
      }
      return ok;
    };
  });
  return async (site = 'demo') => {
    const beacons = await page.evaluate(() => { try { return sessionStorage.getItem('__beacons'); } catch { return null; } });
    for (const body of JSON.parse(beacons || '[]')) sent.push(...JSON.parse(body).events);
    const stored = queued(await kept(page), site);
    const byId = new Map([...sent, ...stored].map((e) => [e.id, e]));
    return [...byId.values()];
  };
}

/**
 * Put `keys` ({ key: value }) where the loader's worker keeps them (IndexedDB, database `tailor`,
 * store `kv`) for `page`'s origin, as an earlier page of ours would have: from a page without
 * the loader, so that no worker holds the database open meanwhile.
 */
export function storeKeys(page, keys) {
  return page.evaluate((entries) => new Promise((resolve, reject) => {
    const r = indexedDB.open('tailor');
    r.onupgradeneeded = () => r.result.createObjectStore('kv');
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const tx = r.result.transaction('kv', 'readwrite');
      for (const [k, v] of entries) tx.objectStore('kv').put(v, k);
      tx.oncomplete = () => { r.result.close(); resolve(); };
    };
  }), Object.entries(keys));
}

/**
 * Everything Tailor keeps on the device for `page`'s origin, as { key: value }: the keys the
 * loader's worker keeps in IndexedDB (database `tailor`, store `kv`, js/worker.js) and those in
 * `localStorage` (the npm package, a page without the worker, or what an earlier version left).
 * The database is only opened when it exists, so reading never creates it.
 */
export function kept(page) {
  return page.evaluate(async () => {
    const out = {};
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k.startsWith('tailor:')) out[k] = localStorage.getItem(k);
    }
    if (!(await indexedDB.databases()).some((d) => d.name === 'tailor')) return out;
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('tailor');
      r.onupgradeneeded = () => r.transaction.abort();
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => resolve(null);
      r.onblocked = () => reject(new Error('blocked'));
    });
    if (!db) return out;
    try {
      const store = db.transaction('kv').objectStore('kv');
      const get = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
      const [keys, values] = await Promise.all([get(store.getAllKeys()), get(store.getAll())]);
      keys.forEach((k, i) => { out[k] = values[i]; });
    } finally { db.close(); }
    return out;
  });
}

/** Write `entries` ({ key: value }) where the page's loader keeps them: IndexedDB when its worker has created the database, else localStorage. */
export function keep(page, entries) {
  return page.evaluate(async (entries) => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'tailor')) {
      for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v);
      return;
    }
    const db = await new Promise((resolve, reject) => { const r = indexedDB.open('tailor'); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    await new Promise((resolve, reject) => {
      const tx = db.transaction('kv', 'readwrite');
      for (const [k, v] of Object.entries(entries)) tx.objectStore('kv').put(v, k);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }, entries);
}

/** The events in the stored queues of `site` (`tailor:queue:<site>:<tab>`, one event's JSON per line) in `keys` (from `kept`). */
export function queued(keys, site = 'demo') {
  return Object.entries(keys).filter(([k]) => k.startsWith(`tailor:queue:${site}:`))
    .flatMap(([, v]) => v.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
}

// `read()` every 50 ms until `ok(value)`; resolves to that value, or fails after `timeout` ms
// naming `what` and the last value read (`shown`).
async function poll(read, ok, what, timeout, shown = () => '') {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${shown(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Poll `kept(page)` until `test(keys)` holds; resolves to those keys. */
export function untilKept(page, test, what = 'the stored keys', timeout = 30_000) {
  return poll(() => kept(page), test, what, timeout, (keys) => `: ${JSON.stringify(keys).slice(0, 500)}`);
}

/**
 * Waits until `fn(arg)`, run in the page, resolves to a truthy value, and returns it.
 * (`page.waitForFunction` takes a returned promise as the truthy value itself, without waiting
 * for what it resolves to: a predicate that asks the engine, `window.tailor.profile().then(..)`,
 * passes at once there.)
 */
export function untilTrue(page, fn, arg, what = 'the page', timeout = 30_000) {
  return poll(() => page.evaluate(fn, arg), Boolean, what, timeout);
}

/**
 * A plain static file server for `dir` on 127.0.0.1 (a store's own origin in the packaging
 * tests, so everything fetched from `tailor serve` is cross-origin, as on a real store).
 * `pages` maps a path to HTML served in its place, or to { body, headers }. Files not in `dir` come from `www/` (the demo
 * theme's stylesheet and icon).
 */
export async function staticServer(dir, pages = {}) {
  const { createServer } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.svg': 'image/svg+xml' };
  const server = createServer(async (req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (pages[p] !== undefined) {
      // A page is its HTML, or { body, headers }.
      const { body, headers } = typeof pages[p] === 'string' ? { body: pages[p] } : pages[p];
      res.writeHead(200, { 'content-type': 'text/html', ...headers });
      res.end(body);
      return;
    }
    // Chromium asks every origin for /favicon.ico.
    const rel = p === '/favicon.ico' ? 'favicon.svg' : path.normalize(p).replace(/^(\.\.[/\\])+/, '');
    const file = path.join(dir, rel);
    try {
      const body = await readFile(file).catch(() => readFile(path.join(ROOT, 'www', rel)));
      res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    pages,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

/** `npm pack` of the repository (built first: scripts/build.sh); the tarball's path. */
export function packTarball(dest) {
  const r = spawnSync('npm', ['pack', '--pack-destination', dest, '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  return path.join(dest, r.stdout.trim().split('\n').pop());
}

/** A new project folder with `files` written into it and `tarball` installed with npm, offline. */
export function npmProject(tarball, files = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tailor-project-'));
  const all = { 'package.json': JSON.stringify({ name: 'shop', private: true, type: 'module', dependencies: { tailor: `file:${tarball}` } }), ...files };
  for (const [name, text] of Object.entries(all)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const r = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm install of ${tarball} failed: ${r.stderr}`);
  return dir;
}

/** The sync server's event counters from /metrics: accepted and duplicate. */
export async function eventCounters(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const read = (name) => Number((new RegExp(`^${name} (\\d+)$`, 'm').exec(text) || [])[1] || 0);
  return { accepted: read('tailor_events_accepted_total'), duplicate: read('tailor_events_duplicate_total') };
}
