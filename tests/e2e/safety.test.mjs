// Content Security Policy, Trusted Types, layout stability, and the tracking of what the
// surfaces showed, in a real Chromium against a real `tailor serve`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, watchErrors, testContext, ROOT } from './harness.mjs';

const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));
const collectionHtml = readFileSync(path.join(ROOT, 'www/collection.html'), 'utf8');
const THEME_ORDER = [...collectionHtml.matchAll(/id="CardLink-[^"]*-(\d+)"/g)].map((m) => m[1]);
const GRID_IDS = () =>
  [...document.querySelectorAll('ul#product-grid > li.grid__item [id^="CardLink-"]')].map((a) => a.id.split('-').pop());

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A context whose HTML pages carry `csp` as their Content-Security-Policy header. */
async function withCsp(csp) {
  const context = await testContext(browser);
  await context.route(/\.html$|\/products\/[^/]+$/, async (route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, headers: { ...res.headers(), 'content-security-policy': csp } });
  });
  return context;
}

async function settle(page) {
  await page.waitForFunction(() => ['ready', 'failed', 'skipped'].includes(document.documentElement.dataset.tailor));
  return page.evaluate(() => document.documentElement.dataset.tailor);
}

test("under script-src 'self' 'wasm-unsafe-eval' with Trusted Types required, everything works", async () => {
  const context = await withCsp("script-src 'self' 'wasm-unsafe-eval'; require-trusted-types-for 'script'");
  const page = await context.newPage();
  const errors = watchErrors(page);
  const violations = [];
  await page.exposeFunction('__violation', (v) => violations.push(v));
  await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => window.__violation(`${e.violatedDirective}: ${e.blockedURI}`)));
  await page.goto(`${server.base}/collection.html`);
  assert.equal(await settle(page), 'ready');
  assert.notDeepEqual(await page.evaluate(GRID_IDS), THEME_ORDER, 'the grid was personalized');
  const product = catalog.products[7];
  await page.goto(`${server.base}/products/${product.handle}`);
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
  await page.goto(`${server.base}/collection.html`);
  assert.equal(await settle(page), 'failed');
  assert.deepEqual(await page.evaluate(GRID_IDS), THEME_ORDER);
  assert.deepEqual(uncaught, []);
  await context.close();
});

test('recommendation blocks cause no layout shift', async () => {
  const context = await testContext(browser);
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__shift = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shift.push(e.value);
    }).observe({ type: 'layout-shift', buffered: true });
  });
  await page.goto(`${server.base}/products/${catalog.products[12].handle}`);
  assert.equal(await settle(page), 'ready');
  // Let the observer deliver what the last frame produced.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const blocks = await page.evaluate(() => document.querySelectorAll('.tailor-block').length);
  assert.ok(blocks > 0);
  assert.deepEqual(await page.evaluate(() => window.__shift), []);
  await context.close();
});

test('impressions and clicks reach the server with request id, slot, position and model version', async () => {
  const context = await testContext(browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  // Keep the page on a click, so the test can flush; the loader's own listener still runs.
  await page.addInitScript(() => window.addEventListener('click', (e) => e.preventDefault(), true));
  await page.goto(`${server.base}/products/${catalog.products[20].handle}`);
  assert.equal(await settle(page), 'ready');
  const slot = page.locator('[data-tailor-slot="similar"]');
  await slot.scrollIntoViewIfNeeded();
  const second = slot.locator('[data-tailor-item]').nth(1);
  const clicked = await second.getAttribute('data-tailor-item');
  const request = await slot.getAttribute('data-tailor-request');
  await second.locator('a').click();
  const posted = page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.request().method() === 'POST');
  await page.waitForFunction(() => {
    const q = localStorage.getItem('tailor:queue:demo') || '[]';
    return q.includes('"rec_impression"') && q.includes('"rec_click"');
  });
  await page.evaluate(() => window.tailor.flush());
  const res = await posted;
  assert.equal(res.status(), 200);
  const sent = JSON.parse(res.request().postData()).events;
  const body = await res.json();
  assert.equal(body.rejected.length, 0, JSON.stringify(body.rejected));
  assert.equal(body.accepted, sent.length);
  const impression = sent.find((e) => e.type === 'rec_impression' && e.slot === 'similar');
  const click = sent.find((e) => e.type === 'rec_click');
  assert.ok(impression && click, JSON.stringify(sent.map((e) => e.type)));
  assert.equal(impression.request, request);
  assert.equal(impression.model_version, 'v1');
  assert.deepEqual(click, { ...click, request, slot: 'similar', position: 1, item: Number(clicked), model_version: 'v1' });
  assert.ok(sent.some((e) => e.type === 'product_view' && e.item === catalog.products[20].id));
  assert.deepEqual(errors, []);
  await context.close();
});
