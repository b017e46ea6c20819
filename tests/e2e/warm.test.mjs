// A worker (js/worker.js) downloads and compiles the wasm, gets the snapshot and makes the
// engine's first calls before the page makes them (js/loader.js, `agent`): wasm functions compile
// on their first call, and the compiled module goes to the page. Here: the worker starts from the
// right URL (its own file next to the loader on the same origin; across origins a blob: that
// imports it; in the versioned build a blob: of the bytes the loader pins), makes every call, the
// page's DOM calls included (on a stand-in document), and the page itself fetches neither the
// wasm nor the snapshot; data-worker="off" turns it off, and a worker that cannot start leaves
// the work to the page. What it saves is measured by
// scripts/bench-page.mjs, not asserted here.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { serverAndBrowser, watchErrors, testContext, settle, staticServer, queued, untilKept, storeKeys, ROOT } from './harness.mjs';

const env = serverAndBrowser();
const collection = readFileSync(path.join(ROOT, 'www/collection.html'), 'utf8');
const TAG = '<script async src="/tailor.js" data-site="demo" data-endpoint="/"></script>';
assert.ok(collection.includes(TAG), 'www/collection.html includes the loader as this test expects');
const cleanup = [];
after(async () => { for (const f of cleanup) await f(); });

/** The page's workers as they start: each one's URL and handle. */
function workersOf(page) {
  const seen = [];
  page.on('worker', (w) => seen.push({ url: w.url(), handle: w }));
  return seen;
}
/** Resolves to true once `scope` (the page or a worker) has a resource timing entry for an event batch (false after 20 s). */
const sent = (scope) => scope.evaluate(() => new Promise((resolve) => {
  setTimeout(() => resolve(false), 20_000);
  new PerformanceObserver((list, observer) => {
    if (list.getEntries().some((e) => e.name.endsWith('/v1/events'))) { observer.disconnect(); resolve(true); }
  }).observe({ type: 'resource', buffered: true });
}));
const warmed = (page) => page.evaluate(() => performance.getEntriesByName('tailor:warmed').length);
// How many of the page's DOM calls the worker made on its stand-in document without an error.
const domCalls = (page) => page.evaluate(() => performance.getEntriesByName('tailor:warmed')[0].detail);
// What the page's own thread fetched of the engine: a worker's requests are in its own timeline.
// Event batches the page's own thread sent.
const sentHere = (page) => page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/v1/events')).length);
const fetchedHere = (page) => page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((u) => /tailor[^/]*_bg\.wasm|\/v1\/snapshot\//.test(u)).length);
const moved = (page) => page.evaluate(() => document.documentElement.dataset.tailor === 'ready'
  && [...document.querySelectorAll('ul#product-grid > li [id^="CardLink-"]')].map((a) => a.id).join() !== window.__themeOrder);
// The grid in the order the theme rendered it.
const asRendered = (page) => page.evaluate(() => [...document.querySelectorAll('ul#product-grid > li [id^="CardLink-"]')].map((a) => a.id).join() === window.__themeOrder);
const recordThemeOrder = (page) => page.addInitScript(() => document.addEventListener('DOMContentLoaded', () => {
  window.__themeOrder = [...document.querySelectorAll('ul#product-grid > li [id^="CardLink-"]')].map((a) => a.id).join();
}));

/** The collection pages of `context` get `tag` as their loader tag. */
const withTag = (context, tag) => context.route(/\/collection\.html$/, async (route) => {
  const res = await route.fetch();
  await route.fulfill({ response: res, body: (await res.text()).replace(TAG, tag) });
});
/** The collection pages of `context` get data-worker="`value`" on their loader tag. */
const workerAttribute = (context, value) => withTag(context, TAG.replace('data-site="demo"', `data-site="demo" data-worker="${value}"`));

/** Open `url` in `context` and let the loader settle (on `want`): the page, its errors and its workers. */
async function open(context, url, want = 'ready') {
  const page = await context.newPage();
  const errors = watchErrors(page);
  const workers = workersOf(page);
  await recordThemeOrder(page);
  await page.goto(url);
  assert.equal(await settle(page), want);
  return { page, errors, workers };
}

/** `open` where the loader is to fail open: the grid stays as the theme rendered it. */
async function openFailing(context, url) {
  const opened = await open(context, url, 'failed');
  assert.ok(await asRendered(opened.page), 'the grid stays as the theme rendered it');
  return opened;
}

test("on the store's own origin the worker runs from its URL, next to the loader, fetches for the page and makes every call", async () => {
  const context = await testContext(env.browser);
  const { page, errors, workers } = await open(context, `${env.server.base}/collection.html`);
  assert.deepEqual(workers.map((w) => w.url), [`${env.server.base}/tailor.worker.js`]);
  assert.equal(await warmed(page), 1, 'the worker made every call');
  assert.equal(await domCalls(page), 3, 'each of the three DOM passes ran its whole path on the stand-in document');
  assert.equal(await fetchedHere(page), 0, 'the worker fetched the wasm and the snapshot');
  assert.ok(await moved(page), 'the grid was personalized');
  assert.ok(await sent(workers[0].handle), 'the worker sent an event batch');
  assert.equal(await sentHere(page), 0, 'the page sent none');
  assert.deepEqual(errors, []);
  await context.close();
});

test("the page's User Timing spans hold its work on the worker's answer and its later tasks", async () => {
  const context = await testContext(env.browser);
  const { page, errors } = await open(context, `${env.server.base}/collection.html`);
  const spans = await page.evaluate(() => ({
    decode: performance.getEntriesByName('tailor:decode', 'measure').map((m) => [m.startTime, m.startTime + m.duration]),
    apply: performance.getEntriesByName('tailor:apply', 'measure').map((m) => m.startTime),
    warmed: performance.getEntriesByName('tailor:warmed')[0].startTime,
  }));
  // Reading the answer and instantiating its module; asking the worker's engine to start; and,
  // once it has, the page's wiring: three spans, the first of which holds the answer's handling
  // (the loader marks `tailor:warmed` in it). The waits between them are not ours.
  assert.equal(spans.decode.length, 3);
  assert.ok(spans.decode[0][0] <= spans.warmed && spans.warmed <= spans.decode[0][1], `the answer was handled inside the first span: ${JSON.stringify(spans)}`);
  for (let i = 1; i < 3; i++) assert.ok(spans.decode[i - 1][1] <= spans.decode[i][0], `in order: ${JSON.stringify(spans)}`);
  assert.ok(spans.decode[2][1] <= spans.apply[0], 'then the page\'s changes');
  // The worker sends the first event batch a second after the page's events, and after each
  // change of the queue (the events, the batch's answer) the page takes the worker's copy of it
  // in a `tailor:later` span of its own (named in its detail); none is the page's sending.
  await page.waitForFunction(() => window.tailor.queue.queued === 0 && performance.getEntriesByName('tailor:later', 'measure').some((m) => m.detail === 'queue'), null, { timeout: 15000 });
  const details = await page.evaluate(() => performance.getEntriesByName('tailor:later', 'measure').map((m) => m.detail));
  assert.ok(!details.includes('send') && !details.includes('answer'), `the page sent nothing itself: ${details}`);
  assert.deepEqual(errors, []);
  await context.close();
});

// V8 compiles a wasm function on its first call, on the thread that makes it. The worker's
// calls are meant to run every function a page view needs, so that the page, which gets the
// compiled module, compiles none on its main thread (each took 0.05 to 5 ms at 4x CPU throttling,
// BENCHMARKS.md, "a ninth round"). Chromium's trace counts the compilations per thread. Each
// page opens in a new context: a renderer process keeps a module's compiled functions for the
// next page that loads the same wasm, whichever thread compiled them. The shopper id is stored
// where the worker reads it (IndexedDB), so that both take the same experiment arm (a worker
// that knows no shopper warms up with a random id; a page in the holdout then compiled nothing
// either, BENCHMARKS.md, "a tenth round", but the test does not depend on it).
test("the worker's calls compile every wasm function the demo's pages call: their main thread compiles none", async () => {
  const product = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8')).products[0].handle;
  const compiled = {};
  for (const url of ['/index.html', '/collection.html', '/search.html?q=bag', `/products/${product}`, '/cart.html', '/shop-woocommerce.html']) {
    const context = await testContext(env.browser);
    const page = await context.newPage();
    // (A page that is not HTML makes Chromium ask for /favicon.ico, which the server lacks.)
    await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
    await page.goto(`${env.server.base}/theme.css`);
    await storeKeys(page, { 'tailor:shopper': 'e2e-shopper-2' });
    const errors = watchErrors(page);
    await env.browser.startTracing(page, { categories: ['v8.wasm'] });
    await page.goto(env.server.base + url);
    assert.equal(await settle(page), 'ready', url);
    // Until the first event batch is answered (the page then holds the worker's copy of an
    // empty queue): the later tasks call the wasm too.
    await page.waitForFunction(() => window.tailor.queue.queued === 0 && performance.getEntriesByName('tailor:later', 'measure').some((m) => m.detail === 'queue'), null, { timeout: 15000 });
    const trace = JSON.parse((await env.browser.stopTracing()).toString()).traceEvents;
    const threads = (name) => new Set(trace.filter((e) => e.ph === 'M' && e.name === 'thread_name' && name.test(e.args.name)).map((e) => `${e.pid}/${e.tid}`));
    const [main, workers] = [threads(/^CrRendererMain$/), threads(/Worker thread/)];
    const lazy = trace.filter((e) => e.name === 'wasm.CompileLazy');
    assert.ok(lazy.some((e) => workers.has(`${e.pid}/${e.tid}`)), `${url}: the trace shows the worker's compilations`);
    compiled[url] = lazy.filter((e) => main.has(`${e.pid}/${e.tid}`)).map((e) => e.args.func_index);
    assert.deepEqual(errors, []);
    await context.close();
  }
  assert.deepEqual(compiled, Object.fromEntries(Object.keys(compiled).map((k) => [k, []])), 'wasm functions compiled on the page\'s main thread, by index');
});

test('a browser that refuses to instantiate the module synchronously fails open', async () => {
  // Older Chromium refuses `new WebAssembly.Instance` on the main thread above 4 KB. The loader
  // no longer carries the glue's asynchronous path for it (320 bytes of its budget): such a
  // page stays as the theme rendered it, as one without WebAssembly does.
  const context = await testContext(env.browser);
  await context.addInitScript(() => {
    const Instance = WebAssembly.Instance;
    WebAssembly.Instance = function () { throw new RangeError('WebAssembly.Instance is disallowed on the main thread, if the buffer size is larger than 4KB'); };
    WebAssembly.Instance.prototype = Instance.prototype;
  });
  const { page, errors } = await openFailing(context, `${env.server.base}/collection.html`);
  assert.equal(await warmed(page), 1, 'the worker answered');
  assert.deepEqual(errors, []);
  await context.close();
});

/**
 * The collection page on a store of another origin, with `tag` as its loader (and `csp` as the
 * page's Content-Security-Policy): a worker from a blob: URL fetched the engine for the page and
 * personalized it. Returns the page.
 */
async function acrossOrigins(tag, csp) {
  const body = collection.replace(TAG, tag);
  // The page's header comes from the store itself: a response that the test fulfilled would
  // come from no address, and Chromium would then refuse the page's requests to 127.0.0.1.
  const store = await staticServer(path.join(ROOT, 'www'), { '/collection.html': csp ? { body, headers: { 'content-security-policy': csp } } : body });
  cleanup.push(() => store.close());
  const context = await testContext(env.browser);
  cleanup.push(() => context.close());
  const { page, errors, workers } = await open(context, `${store.base}/collection.html`);
  assert.equal(workers.length, 1);
  assert.match(workers[0].url, /^blob:http:\/\/127\.0\.0\.1:\d+\//);
  assert.equal(await warmed(page), 1);
  assert.equal(await fetchedHere(page), 0);
  assert.ok(await moved(page));
  assert.deepEqual(errors, []);
  return page;
}
/** How many times the page fetched a URL ending in `end`. */
const fetches = (page, end) => page.evaluate((e) => performance.getEntriesByType('resource').filter((r) => r.name.endsWith(e)).length, end);

test('across origins the versioned build runs its worker from a blob: of the bytes it pins', async () => {
  const versioned = versionedLoader();
  const page = await acrossOrigins(`<script async src="${env.server.base}/${versioned.js}" integrity="${versioned.integrity}" crossorigin="anonymous" data-site="demo" data-endpoint="${env.server.base}/"></script>`);
  // The page fetched the worker's bytes (with the integrity the loader pins) to make the blob.
  assert.equal(await fetches(page, '/' + versioned.worker), 1);
  assert.equal(await fetches(page, '/' + versioned.js), 1);
});

test('across origins without an integrity attribute the worker is a blob: that imports the worker script', async () => {
  const page = await acrossOrigins(`<script async src="${env.server.base}/tailor.js" data-site="demo" data-endpoint="${env.server.base}/"></script>`);
  // The worker imported its script (acrossOrigins checked it answered): the loader was fetched once.
  assert.equal(await fetches(page, '/tailor.js'), 1);
});

test('the blob: that imports the script works under Trusted Types, which it inherits from the page', async () => {
  const base = env.server.base;
  const page = await acrossOrigins(
    `<script async src="${base}/tailor.js" data-site="demo" data-endpoint="${base}/"></script>`,
    `script-src 'self' ${base} 'wasm-unsafe-eval'; worker-src blob:; require-trusted-types-for 'script'`,
  );
  assert.equal(await fetches(page, '/tailor.js'), 1);
});

// Across origins the page does not compile a module of its own to ask its CSP about
// WebAssembly: its blob: worker has the same CSP, and is refused there. That refusal is final:
// the page stays as the theme rendered it, and does not load the worker's file as its own
// script to try again.
test("across origins, a CSP without 'wasm-unsafe-eval' refuses the blob: worker's module, and the page stays as rendered", async () => {
  const base = env.server.base;
  const body = collection.replace(TAG, `<script async src="${base}/tailor.js" data-site="demo" data-endpoint="${base}/"></script>`);
  const store = await staticServer(path.join(ROOT, 'www'), { '/collection.html': { body, headers: { 'content-security-policy': `script-src 'self' ${base}; worker-src blob:` } } });
  cleanup.push(() => store.close());
  const context = await testContext(env.browser);
  cleanup.push(() => context.close());
  const page = await context.newPage();
  const uncaught = [];
  page.on('pageerror', (e) => uncaught.push(e.message));
  const workers = workersOf(page);
  await recordThemeOrder(page);
  await page.goto(`${store.base}/collection.html`);
  assert.equal(await settle(page), 'failed');
  assert.ok(await asRendered(page), 'the grid stays as the theme rendered it');
  assert.equal(workers.length, 1, 'the worker was started');
  assert.match(workers[0].url, /^blob:/);
  assert.equal(await fetches(page, '/tailor.worker.js'), 0, 'the page did not run the worker file itself');
  assert.deepEqual(uncaught, []);
});

// docs/integrate-script-tag.md: a store that serves the loader's files from its own origin (a
// path its server proxies to the sync server) saves the blob:, while the snapshot and the events
// still come from and go to the sync server on its own origin.
test("the loader's files served from the store's origin, the sync server elsewhere: the worker runs from its URL", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tailor-proxied-'));
  mkdirSync(path.join(dir, 'tailor'));
  for (const f of ['tailor.js', 'tailor.worker.js', 'tailor_bg.wasm']) copyFileSync(path.join(ROOT, 'dist', f), path.join(dir, 'tailor', f));
  const body = collection.replace(TAG, `<script async src="/tailor/tailor.js" data-site="demo" data-endpoint="${env.server.base}/"></script>`);
  const store = await staticServer(dir, { '/collection.html': body });
  cleanup.push(() => store.close());
  const context = await testContext(env.browser);
  cleanup.push(() => context.close());
  const { page, errors, workers } = await open(context, `${store.base}/collection.html`);
  assert.deepEqual(workers.map((w) => w.url), [`${store.base}/tailor/tailor.worker.js`]);
  assert.equal(await warmed(page), 1, 'the worker made every call');
  assert.ok(await moved(page), 'the grid was personalized');
  assert.ok(await sent(workers[0].handle), 'the worker sent an event batch to the sync server');
  assert.deepEqual(errors, []);
});

test("on the store's own origin too, the versioned build runs its worker from the checked bytes", async () => {
  const versioned = versionedLoader();
  const context = await testContext(env.browser);
  await withTag(context, `<script async src="/${versioned.js}" integrity="${versioned.integrity}" crossorigin="anonymous" data-site="demo" data-endpoint="/"></script>`);
  const { page, errors, workers } = await open(context, `${env.server.base}/collection.html`);
  assert.equal(workers.length, 1);
  assert.match(workers[0].url, /^blob:/, 'not the URL, which a worker would load unchecked');
  assert.equal(await warmed(page), 1);
  assert.equal(await fetches(page, '/' + versioned.worker), 1);
  assert.ok(await moved(page));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a worker script that is missing (HTTP 404) fails open: the page stays as the theme rendered it', async () => {
  const context = await testContext(env.browser);
  let asked = 0;
  await context.route(/\/tailor\.worker\.js$/, (route) => { asked += 1; return route.fulfill({ status: 404, body: 'not found' }); });
  // The worker was started and failed; then the same file, as a script of the page's, failed
  // too (the engine lives in it): the page is left alone.
  const { page, errors, workers } = await openFailing(context, `${env.server.base}/collection.html`);
  assert.equal(workers.length, 1, 'the worker was started');
  assert.equal(asked, 2, 'as a worker, then as a script');
  assert.equal(await warmed(page), 0, 'and never answered');
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});

test('a tag with an integrity attribute on a build that pins no worker runs nothing unpinned: the page stays as rendered', async () => {
  const context = await testContext(env.browser);
  const bytes = readFileSync(path.join(ROOT, 'dist/tailor.js'));
  const integrity = 'sha384-' + createHash('sha384').update(bytes).digest('base64');
  await withTag(context, `<script async src="/tailor.js" integrity="${integrity}" crossorigin="anonymous" data-site="demo" data-endpoint="/"></script>`);
  let asked = 0;
  await context.route(/\/tailor\.worker\.js$/, (route) => { asked += 1; return route.continue(); });
  // The engine lives in the worker's file, which this build cannot check: it is not run, as a
  // worker or as a script of the page's.
  const { errors, workers } = await openFailing(context, `${env.server.base}/collection.html`);
  assert.deepEqual(workers, []);
  assert.equal(asked, 0, 'the worker file was never fetched');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a batch the worker has in flight when the page goes is sent again, by beacon from the page', async () => {
  const context = await testContext(env.browser);
  const bodies = [];
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let firstSeen;
  const first = new Promise((resolve) => { firstSeen = resolve; });
  let secondSeen;
  const second = new Promise((resolve) => { secondSeen = resolve; });
  // The worker's first batch never gets its answer; every later request goes through.
  await context.route(/\/v1\/events$/, async (route) => {
    bodies.push(route.request().postData());
    if (bodies.length === 1) {
      firstSeen();
      await held;
      await route.abort();
      return;
    }
    secondSeen();
    await route.continue();
  });
  const { page, errors, workers } = await open(context, `${env.server.base}/collection.html`);
  assert.equal(workers.length, 1);
  await first;
  assert.equal(bodies.length, 1);
  // The page goes (its pagehide listeners run; a real navigation would take Playwright's view
  // of the beacon with it).
  await page.evaluate(() => dispatchEvent(new PageTransitionEvent('pagehide')));
  await second;
  assert.equal(bodies[1], bodies[0], 'the same batch went again, by beacon');
  release();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a worker that fails (here its wasm download) leaves the work to the page, which personalizes it", async () => {
  const context = await testContext(env.browser);
  // The first request for the wasm (the worker's) fails; the page's goes through.
  let wasmRequests = 0;
  await context.route(/\.wasm$/, (route) => (++wasmRequests === 1 ? route.abort() : route.continue()));
  const { page, errors, workers } = await open(context, `${env.server.base}/collection.html`);
  assert.equal(workers.length, 1);
  assert.equal(wasmRequests, 2);
  assert.equal(await warmed(page), 0);
  assert.equal(await fetches(page, '_bg.wasm'), 1, 'the page fetched the wasm itself');
  assert.ok(await moved(page));
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});

test('a worker that fails after it answered sends nothing more: the events stay queued for the next page, and calls to its engine reject', async () => {
  const context = await testContext(env.browser);
  // The page's worker, kept where the test can wait for its error events.
  await context.addInitScript(() => {
    const Native = self.Worker;
    self.Worker = function (...args) { const w = new Native(...args); window.__worker = w; return w; };
  });
  const batches = [];
  await context.route(/\/v1\/events$/, (route) => { batches.push(JSON.parse(route.request().postData())); return route.continue(); });
  const { page, errors, workers } = await open(context, `${env.server.base}/collection.html`);
  assert.equal(workers.length, 1);
  assert.ok(await sent(workers[0].handle), 'the worker delivered the first batch');
  const has = (eventId) => (k) => queued(k).some((e) => e.id === eventId);
  // Everything delivered, nothing in flight.
  await untilKept(page, (k) => !queued(k).length, 'an empty queue');
  const before = batches.length;
  // An uncaught error in the worker, after its answer: the page hears of it as an error event.
  // (The page listens before the worker throws: a listener added while the error is on its way
  // could miss it. And the wait is bounded, so a missed error fails here, by name.)
  await page.evaluate(() => {
    window.__heard = new Promise((resolve) => {
      window.__worker.addEventListener('error', (e) => resolve(e.defaultPrevented));
      setTimeout(() => resolve('no error event within 20 s'), 20_000);
    });
  });
  await workers[0].handle.evaluate(() => { setTimeout(() => { throw new Error('worker failure under test'); }); });
  assert.equal(await page.evaluate(() => window.__heard), true, 'the loader cancelled the error');
  // The engine lived there: the calls that ask it now reject, with a code of ours.
  assert.equal(await page.evaluate(() => window.tailor.recommend({ placement: 'for-you' }).then(() => 'answered', (e) => e.code)), 'WORKER_FAILED');
  const id = await page.evaluate(() => { const e = window.tailor.track('add_to_cart', { item: 1 }); window.tailor.flush(); return e.id; });
  // The page keeps the event in this tab's queue itself, and the worker sent nothing (asked to
  // send at once, it would have by the time the event is stored).
  await untilKept(page, has(id), 'the event stored');
  assert.equal(batches.length, before, 'nothing was sent after the failure');
  assert.deepEqual(errors.filter((e) => !e.includes('worker failure under test')), []);
  // The next page's worker delivers it.
  await page.reload();
  assert.equal(await settle(page), 'ready');
  await untilKept(page, (k) => !has(id)(k), 'the event out of the queue');
  assert.ok(batches.slice(before).some((b) => b.events.some((e) => e.id === id)), 'the queued event went with the next page');
  await context.close();
});

test('data-worker="off" starts no worker, and the page is personalized all the same', async () => {
  const context = await testContext(env.browser);
  await workerAttribute(context, 'off');
  const { page, errors, workers } = await open(context, `${env.server.base}/collection.html`);
  assert.ok(await moved(page));
  assert.deepEqual(workers, []);
  assert.equal(await warmed(page), 0);
  assert.equal(await fetchedHere(page), 3, 'the page fetched the wasm, the snapshot pointer and the snapshot itself');
  assert.ok(await sent(page), 'the page sent the events itself');
  assert.deepEqual(errors, []);
  await context.close();
});

test('data-worker="off": an exception in the worker code\'s own timers never reaches the page, and the events still go', async () => {
  const context = await testContext(env.browser);
  await workerAttribute(context, 'off');
  const { page, errors } = await open(context, `${env.server.base}/collection.html`);
  // After each event the worker's code hands the page its copy of the queue, from a timer:
  // that hand-over throws now (on the page it goes through a MessagePort).
  await page.evaluate(() => {
    const post = MessagePort.prototype.postMessage;
    window.__thrown = 0;
    MessagePort.prototype.postMessage = function (m, ...rest) {
      if (m && m.q != null) { window.__thrown += 1; throw new Error('the queue copy failed'); }
      return post.call(this, m, ...rest);
    };
  });
  const delivered = page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.request().postData().includes('"add_to_cart"'));
  await page.evaluate(() => { window.tailor.track('add_to_cart', { item: 7400000000051 }); window.tailor.flush(); });
  await page.waitForFunction(() => window.__thrown > 0);
  assert.equal((await delivered).status(), 200);
  // (The exception was thrown in an earlier task than this round trip: had it escaped, the
  // page's error would have come first.)
  await page.evaluate(() => window.__thrown);
  assert.deepEqual(errors, []);
  await context.close();
});

// The wasm comes as application/wasm, or with another type from a misconfigured server (then it
// compiles from its bytes): the page is personalized either way, with the worker and without.
// Without one, the worker's code compiles it on the page, by streaming first. (A worker's
// scripts cannot be hooked before they run, so the worker's compileStreaming is not counted.)
for (const worker of ['on', 'off']) {
  test(`the wasm works as application/wasm and with a wrong type (worker ${worker})`, async () => {
    for (const type of ['application/wasm', 'application/octet-stream']) {
      const context = await testContext(env.browser);
      await workerAttribute(context, worker);
      let served = 0;
      await context.route(/\.wasm$/, async (route) => {
        served += 1;
        const res = await route.fetch();
        await route.fulfill({ response: res, headers: { ...res.headers(), 'content-type': type } });
      });
      await context.addInitScript(() => {
        self.__streaming = 0;
        const original = WebAssembly.compileStreaming;
        WebAssembly.compileStreaming = function (...args) { self.__streaming += 1; return original.apply(this, args); };
      });
      const page = await context.newPage();
      const errors = watchErrors(page);
      const workers = [];
      page.on('worker', (w) => workers.push(w));
      await recordThemeOrder(page);
      await page.goto(`${env.server.base}/collection.html`);
      assert.equal(await settle(page), 'ready');
      assert.ok(await moved(page), `personalized with ${type}`);
      assert.equal(served, 1, `the wasm was served once, as ${type}`);
      assert.equal(workers.length, worker === 'on' ? 1 : 0);
      assert.equal(await warmed(page), worker === 'on' ? 1 : 0);
      assert.equal(await page.evaluate(() => self.__streaming), worker === 'on' ? 0 : 1, 'compileStreaming on the page only without a worker');
      assert.deepEqual(errors, []);
      await context.close();
    }
  });
}

/** The versioned loader's file name, the integrity the build printed for it, and its worker's name. */
function versionedLoader() {
  const dist = path.join(ROOT, 'dist');
  const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const js = `tailor-${version}.js`;
  const integrity = 'sha384-' + createHash('sha384').update(readFileSync(path.join(dist, js))).digest('base64');
  return { js, integrity, worker: `tailor-${version}.worker.js` };
}
