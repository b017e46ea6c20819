// Content Security Policy, Trusted Types, layout stability, and the tracking of what the
// surfaces showed, in a real Chromium against a real `tailor serve`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serverAndBrowser, watchErrors, testContext, ROOT, settle, kept, keep, queued, untilKept, CHROMIUM, CHROMIUM_ARGS } from './harness.mjs';

const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));
const collectionHtml = readFileSync(path.join(ROOT, 'www/collection.html'), 'utf8');
const THEME_ORDER = [...collectionHtml.matchAll(/id="CardLink-[^"]*-(\d+)"/g)].map((m) => m[1]);
const GRID_IDS = () =>
  [...document.querySelectorAll('ul#product-grid > li.grid__item [id^="CardLink-"]')].map((a) => a.id.split('-').pop());

const env = serverAndBrowser();

/** A context whose HTML pages carry `csp` as their Content-Security-Policy header. */
async function withCsp(csp) {
  const context = await testContext(env.browser);
  await context.route(/\.html$|\/products\/[^/]+$/, async (route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, headers: { ...res.headers(), 'content-security-policy': csp } });
  });
  return context;
}

/** The CSP directives `page` violates, as they happen. */
async function violationsOf(page) {
  const violations = [];
  await page.exposeFunction('__violation', (v) => violations.push(v));
  await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => window.__violation(e.effectiveDirective)));
  return violations;
}

test("under script-src 'self' 'wasm-unsafe-eval' with Trusted Types required, everything works", async () => {
  const context = await withCsp("script-src 'self' 'wasm-unsafe-eval'; require-trusted-types-for 'script'");
  const page = await context.newPage();
  const errors = watchErrors(page);
  const violations = [];
  await page.exposeFunction('__violation', (v) => violations.push(v));
  await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => window.__violation(`${e.violatedDirective}: ${e.blockedURI}`)));
  await page.goto(`${env.server.base}/collection.html`);
  assert.equal(await settle(page), 'ready');
  assert.notDeepEqual(await page.evaluate(GRID_IDS), THEME_ORDER, 'the grid was personalized');
  const product = catalog.products[7];
  await page.goto(`${env.server.base}/products/${product.handle}`);
  assert.equal(await settle(page), 'ready');
  assert.ok(await page.evaluate(() => document.querySelectorAll('[data-tailor-slot] .tailor-block').length) > 0);
  assert.deepEqual(violations, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test("without 'wasm-unsafe-eval' the page stays as the theme rendered it, with no uncaught error", async () => {
  const context = await withCsp("script-src 'self'");
  const page = await context.newPage();
  const uncaught = [];
  page.on('pageerror', (e) => uncaught.push(e.message));
  await page.goto(`${env.server.base}/collection.html`);
  assert.equal(await settle(page), 'failed');
  assert.deepEqual(await page.evaluate(GRID_IDS), THEME_ORDER);
  assert.deepEqual(uncaught, []);
  await context.close();
});

test('a browser without WebAssembly: the pages stay as the theme rendered them, with a precise reason and nothing downloaded', async () => {
  // V8 without a JIT has no WebAssembly object, in the page or in a worker (as in hardened
  // browsing modes, such as Edge's enhanced security).
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--js-flags=--jitless'] });
  try {
    const context = await testContext(browser);
    await context.addInitScript(() => document.addEventListener('tailor:failed', (e) => { window.__failed = e.detail; }));
    const page = await context.newPage();
    const uncaught = [];
    page.on('pageerror', (e) => uncaught.push(e.message));
    const fetched = [];
    page.on('request', (r) => { if (/\.wasm$|\/v1\/snapshot|tailor\.worker/.test(r.url())) fetched.push(r.url()); });
    await page.goto(`${env.server.base}/collection.html`);
    assert.equal(await page.evaluate(() => typeof WebAssembly), 'undefined');
    assert.equal(await settle(page), 'failed');
    assert.deepEqual(await page.evaluate(() => window.__failed), { code: 'LOAD_FAILED', message: 'this browser has no WebAssembly' });
    assert.deepEqual(await page.evaluate(GRID_IDS), THEME_ORDER);
    // The product page's slots are shown (empty) by the anti-flicker CSS's own deadline.
    await page.goto(`${env.server.base}/products/${catalog.products[7].handle}`);
    assert.equal(await settle(page), 'failed');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-tailor-slot]')].every((s) => getComputedStyle(s).visibility !== 'hidden'));
    assert.equal(await page.evaluate(() => document.querySelectorAll('.tailor-block').length), 0);
    assert.deepEqual(fetched, [], 'no worker, wasm or snapshot was fetched');
    assert.deepEqual(uncaught, []);
    await context.close();
  } finally {
    await browser.close();
  }
});

test("a CSP that refuses workers (worker-src 'none'): the page does the work itself and is personalized", async () => {
  const context = await withCsp("script-src 'self' 'wasm-unsafe-eval'; worker-src 'none'");
  const page = await context.newPage();
  const uncaught = [];
  page.on('pageerror', (e) => uncaught.push(e.message));
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  const violations = await violationsOf(page);
  await page.goto(`${env.server.base}/collection.html`);
  assert.equal(await settle(page), 'ready');
  assert.notDeepEqual(await page.evaluate(GRID_IDS), THEME_ORDER, 'the grid was personalized');
  assert.deepEqual(workers, []);
  assert.deepEqual(violations, ['worker-src'], 'the worker was refused, once');
  assert.equal(await page.evaluate(() => performance.getEntriesByName('tailor:warmed').length), 0);
  assert.deepEqual(uncaught, []);
  await context.close();
});

test("a nonce-only CSP that refuses workers, with Trusted Types: the worker's file runs as a script with the loader's nonce", async () => {
  // Only scripts that carry the nonce may run: the loader's tag carries it, and the script the
  // loader adds (the worker's file, where no worker may run) gets it from the loader's tag.
  const context = await testContext(env.browser);
  await context.route(/\/collection\.html$/, async (route) => {
    const res = await route.fetch();
    const body = (await res.text()).replaceAll('<script', '<script nonce="t41l0r"');
    await route.fulfill({ response: res, body, headers: { ...res.headers(), 'content-security-policy': "script-src 'nonce-t41l0r' 'wasm-unsafe-eval'; worker-src 'none'; require-trusted-types-for 'script'" } });
  });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const violations = await violationsOf(page);
  await page.goto(`${env.server.base}/collection.html`);
  assert.equal(await settle(page), 'ready');
  assert.notDeepEqual(await page.evaluate(GRID_IDS), THEME_ORDER, 'the grid was personalized');
  assert.deepEqual(violations, ['worker-src'], 'only the worker was refused');
  assert.equal(await page.evaluate(() => document.querySelectorAll('script[src$="tailor.worker.js"]').length), 1, 'the worker file ran as a script');
  assert.deepEqual(errors.filter((e) => !/worker-src|Content Security Policy/.test(e)), []);
  await context.close();
});

test('recommendation blocks cause no layout shift', async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__shift = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shift.push(e.value);
    }).observe({ type: 'layout-shift', buffered: true });
  });
  await page.goto(`${env.server.base}/products/${catalog.products[12].handle}`);
  assert.equal(await settle(page), 'ready');
  // Let the observer deliver what the last frame produced.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const blocks = await page.evaluate(() => document.querySelectorAll('.tailor-block').length);
  assert.ok(blocks > 0);
  assert.deepEqual(await page.evaluate(() => window.__shift), []);
  await context.close();
});

test('impressions and clicks reach the server with request id, slot, position and model version', async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  // What the server answered, per batch.
  const answers = [];
  page.on('response', (r) => {
    if (r.url().endsWith('/v1/events') && r.request().method() === 'POST') {
      answers.push({ sent: JSON.parse(r.request().postData()).events, status: r.status(), body: r.json().catch(() => null) });
    }
  });
  // Keep the page on a click; the loader's own listener still runs.
  await page.addInitScript(() => window.addEventListener('click', (e) => e.preventDefault(), true));
  await page.goto(`${env.server.base}/products/${catalog.products[20].handle}`);
  assert.equal(await settle(page), 'ready');
  const slot = page.locator('[data-tailor-slot="similar"]');
  await slot.scrollIntoViewIfNeeded();
  const second = slot.locator('[data-tailor-item]').nth(1);
  const clicked = await second.getAttribute('data-tailor-item');
  const request = await slot.getAttribute('data-tailor-request');
  await second.locator('a').click();
  // The loader sends on its own schedule; wait for the batch that carries the click.
  await page.waitForResponse((r) => r.url().endsWith('/v1/events') && (r.request().postData() || '').includes('"rec_click"'));
  const sent = answers.flatMap((a) => a.sent);
  for (const a of answers) {
    assert.equal(a.status, 200);
    const body = await a.body;
    assert.equal(body.rejected.length, 0, JSON.stringify(body.rejected));
  }
  const impression = sent.find((e) => e.type === 'rec_impression' && e.slot === 'similar');
  const click = sent.find((e) => e.type === 'rec_click');
  assert.ok(impression && click, JSON.stringify(sent.map((e) => e.type)));
  assert.equal(impression.request, request);
  assert.equal(impression.model_version, 'v1');
  assert.deepEqual(click, { ...click, request, slot: 'similar', position: 1, item: Number(clicked), model_version: 'v1' });
  assert.ok(sent.some((e) => e.type === 'product_view' && e.item === catalog.products[20].id));
  // The block re-rendered while it is on screen (the theme editor reloads its section): a new
  // request, and an impression for it.
  await page.evaluate(() => document.dispatchEvent(new CustomEvent('shopify:section:load')));
  await page.waitForFunction((old) => document.querySelector('[data-tailor-slot="similar"]').getAttribute('data-tailor-request') !== old, request);
  const rerendered = await slot.getAttribute('data-tailor-request');
  const shown = page.waitForResponse((r) => r.url().endsWith('/v1/events') && (JSON.parse(r.request().postData() || '{}').events || [])
    .some((e) => e.type === 'rec_impression' && e.request === rerendered));
  await page.evaluate(() => window.tailor.flush());
  assert.equal((await shown).status(), 200);
  // Sent events leave the queue.
  await untilKept(page, (k) => !queued(k).some((e) => e.type === 'rec_click'), 'the click out of the queue');
  assert.deepEqual(errors, []);
  await context.close();
});

test('events refused with 503 are retried with the same ids until they are stored', async () => {
  const context = await testContext(env.browser);
  let refused = 0;
  const failedIds = [];
  const storedIds = [];
  await context.route(/\/v1\/events$/, async (route) => {
    const ids = JSON.parse(route.request().postData()).events.map((e) => e.id);
    if (refused < 2) {
      refused += 1;
      failedIds.push(...ids);
      await route.fulfill({ status: 503, headers: { 'retry-after': '1' }, contentType: 'application/json', body: '{"error":{"code":"STORAGE_UNAVAILABLE","message":"test"}}' });
      return;
    }
    const res = await route.fetch();
    if (res.status() === 200) storedIds.push(...ids);
    await route.fulfill({ response: res });
  });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${env.server.base}/products/${catalog.products[30].handle}`);
  assert.equal(await settle(page), 'ready');
  // Wait until every refused id has been stored by a later attempt.
  await untilKept(page, (k) => !queued(k).length, 'an empty queue');
  assert.equal(refused, 2);
  assert.ok(failedIds.length > 0);
  for (const id of failedIds) assert.ok(storedIds.includes(id), `${id} was retried and stored`);
  assert.deepEqual(errors.filter((e) => !e.includes('503')), []);
  await context.close();
});

// With the loader's worker (the queues in IndexedDB, taken over by the worker) and without it
// (in localStorage, taken over by the page): one rule for a dead tab, `deadQueues`.
for (const worker of [true, false]) test(`a closed tab's unsent queue is taken over and delivered by the next tab (${worker ? 'the worker' : 'data-worker="off"'})`, async () => {
  const context = await testContext(env.browser);
  if (!worker) {
    await context.route(/\/products\/[^/]+$|\.html$/, async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, body: (await res.text()).replace('data-site="demo"', 'data-site="demo" data-worker="off"') });
    });
  }
  // The endpoint is unreachable while the first tab lives.
  await context.route(/\/v1\/events$/, (route) => route.abort());
  const a = await context.newPage();
  await a.goto(`${env.server.base}/products/${catalog.products[40].handle}`);
  assert.equal(await settle(a), 'ready');
  const queuedByA = queued(await untilKept(a, (k) => queued(k).length >= 2, 'the page view and product view stored')).map((e) => e.id);
  assert.ok(queuedByA.length >= 2, 'page_view and product_view are queued');
  await a.close();
  await context.unroute(/\/v1\/events$/);
  // Ten seconds pass without a heartbeat from the closed tab (simulated: its heartbeat is set
  // back, from a page of the store without the loader, before the next tab opens).
  const plain = await context.newPage();
  await plain.goto(`${env.server.base}/health`);
  const alive = Object.keys(await kept(plain)).filter((k) => k.startsWith('tailor:alive:demo:'));
  assert.ok(alive.length >= 1, 'the closed tab had a heartbeat');
  await keep(plain, Object.fromEntries(alive.map((k) => [k, '0'])));
  await plain.close();
  const b = await context.newPage();
  const errors = watchErrors(b);
  const stored = [];
  b.on('response', (r) => {
    if (r.url().endsWith('/v1/events') && r.status() === 200) stored.push(...JSON.parse(r.request().postData()).events.map((e) => e.id));
  });
  await b.goto(`${env.server.base}/collection.html`);
  assert.equal(await settle(b), 'ready');
  await b.waitForResponse((r) => r.url().endsWith('/v1/events') && queuedByA.every((id) => (r.request().postData() || '').includes(id)));
  for (const id of queuedByA) assert.ok(stored.includes(id), `${id} delivered by the second tab`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a click on markup that looks like a block of ours but is not one is ignored, with no page error', async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${env.server.base}/products/${catalog.products[7].handle}`);
  assert.equal(await settle(page), 'ready');
  // A merchant's (or another app's) markup with our attributes and an item that is no product id.
  await page.evaluate(() => {
    const slot = document.createElement('div');
    slot.setAttribute('data-tailor-request', 'r-1');
    slot.setAttribute('data-tailor-slot', 'similar');
    const item = document.createElement('button');
    item.setAttribute('data-tailor-item', 'not-a-number');
    item.setAttribute('data-tailor-position', '0');
    item.textContent = 'x';
    slot.appendChild(item);
    document.body.appendChild(slot);
  });
  await page.click('[data-tailor-item="not-a-number"]');
  const clicks = await page.evaluate(() => performance.getEntriesByName('tailor:later', 'measure').filter((m) => m.detail === 'click').length);
  assert.equal(clicks, 1, 'the click was handled (and measured)');
  assert.deepEqual(errors, []);
  await context.close();
});
