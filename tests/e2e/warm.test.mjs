// The engine's first calls run in a worker before the page makes them (js/loader.js, `warm`):
// wasm functions compile on their first call, and the compiled code is shared with the page.
// Here: the worker starts from the right URL (the loader's own on the same origin, a blob: of
// the same bytes across origins), makes every call, goes away, and data-worker="off" turns it
// off. What it saves is measured by scripts/bench-page.mjs, not asserted here.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { serverAndBrowser, watchErrors, testContext, settle, staticServer, ROOT } from './harness.mjs';

const env = serverAndBrowser();
const collection = readFileSync(path.join(ROOT, 'www/collection.html'), 'utf8');
const TAG = '<script async src="/tailor.js" data-site="demo" data-endpoint="/"></script>';
assert.ok(collection.includes(TAG), 'www/collection.html includes the loader as this test expects');
const cleanup = [];
after(async () => { for (const f of cleanup) await f(); });

/** The page's workers as they start: each one's URL and a promise that it has closed. */
function workersOf(page) {
  const seen = [];
  page.on('worker', (w) => seen.push({ url: w.url(), closed: new Promise((resolve) => w.once('close', resolve)) }));
  return seen;
}
const warmed = (page) => page.evaluate(() => performance.getEntriesByName('tailor:warmed').length);
const moved = (page) => page.evaluate(() => document.documentElement.dataset.tailor === 'ready'
  && [...document.querySelectorAll('ul#product-grid > li [id^="CardLink-"]')].map((a) => a.id).join() !== window.__themeOrder);
const recordThemeOrder = (page) => page.addInitScript(() => document.addEventListener('DOMContentLoaded', () => {
  window.__themeOrder = [...document.querySelectorAll('ul#product-grid > li [id^="CardLink-"]')].map((a) => a.id).join();
}));

/** Open `url` in `context` and let the loader settle: the page, its errors and its workers. */
async function open(context, url) {
  const page = await context.newPage();
  const errors = watchErrors(page);
  const workers = workersOf(page);
  await recordThemeOrder(page);
  await page.goto(url);
  assert.equal(await settle(page), 'ready');
  return { page, errors, workers };
}

test("on the store's own origin the worker runs the loader's own URL, makes every call and goes", async () => {
  const context = await testContext(env.browser);
  const { page, errors, workers } = await open(context, `${env.server.base}/collection.html`);
  assert.deepEqual(workers.map((w) => w.url), [`${env.server.base}/tailor.js`]);
  await workers[0].closed;
  assert.equal(await warmed(page), 1, 'the worker made every call');
  assert.ok(await moved(page), 'the grid was personalized');
  assert.deepEqual(errors, []);
  await context.close();
});

test('across origins the worker runs a blob: of the same script, checked against the tag\'s integrity', async () => {
  const versioned = versionedLoader();
  const store = await staticServer(path.join(ROOT, 'www'), {
    '/collection.html': collection.replace(TAG, `<script async src="${env.server.base}/${versioned.js}" integrity="${versioned.integrity}" crossorigin="anonymous" data-site="demo" data-endpoint="${env.server.base}/"></script>`),
  });
  cleanup.push(() => store.close());
  const context = await testContext(env.browser);
  const { page, errors, workers } = await open(context, `${store.base}/collection.html`);
  assert.equal(workers.length, 1);
  assert.match(workers[0].url, /^blob:http:\/\/127\.0\.0\.1:\d+\//);
  await workers[0].closed;
  assert.equal(await warmed(page), 1);
  assert.ok(await moved(page));
  assert.deepEqual(errors, []);
  await context.close();
});

test('data-worker="off" starts no worker, and the page is personalized all the same', async () => {
  const context = await testContext(env.browser);
  await context.route(/\/collection\.html$/, async (route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, body: (await res.text()).replace(TAG, TAG.replace('data-site="demo"', 'data-site="demo" data-worker="off"')) });
  });
  const { page, errors, workers } = await open(context, `${env.server.base}/collection.html`);
  assert.ok(await moved(page));
  assert.deepEqual(workers, []);
  assert.equal(await warmed(page), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

/** The versioned loader's file name and the integrity the build printed for it. */
function versionedLoader() {
  const dist = path.join(ROOT, 'dist');
  const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const js = `tailor-${version}.js`;
  const integrity = 'sha384-' + createHash('sha384').update(readFileSync(path.join(dist, js))).digest('base64');
  return { js, integrity };
}
