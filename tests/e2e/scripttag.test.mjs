// The versioned script-tag build (scripts/versioned.mjs): immutable names, the tag's own
// integrity attribute, the worker pinned by the loader and the wasm by the worker, so a one-byte
// tamper of the loader or the wasm means nothing runs and the page stays as the theme rendered
// it, and so does one of the worker (the engine runs in it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serverAndBrowser, watchErrors, testContext, ROOT } from './harness.mjs';

const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const JS = `tailor-${version}.js`;
const WASM = `tailor-${version}_bg.wasm`;
const WORKER = `tailor-${version}.worker.js`;
const sri = (bytes) => 'sha384-' + createHash('sha384').update(bytes).digest('base64');
const collectionHtml = readFileSync(path.join(ROOT, 'www/collection.html'), 'utf8');
const THEME_ORDER = [...collectionHtml.matchAll(/id="CardLink-[^"]*-(\d+)"/g)].map((m) => m[1]);
const GRID_IDS = () => [...document.querySelectorAll('ul#product-grid > li.grid__item [id^="CardLink-"]')].map((a) => a.id.split('-').pop());

const env = serverAndBrowser();

/** The collection page with the versioned tag pasted in place of the plain one. */
async function open(context, integrity) {
  await context.route(/\/collection\.html$/, async (route) => {
    const res = await route.fetch();
    const body = (await res.text()).replace('src="/tailor.js"', `src="/${JS}" integrity="${integrity}" crossorigin="anonymous"`);
    assert.ok(body.includes(JS), 'the demo page has the tag to replace');
    await route.fulfill({ response: res, body });
  });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const wasm = [];
  page.on('response', (r) => { if (r.url().includes('_bg.wasm')) wasm.push([new URL(r.url()).pathname, r.headers()['cache-control']]); });
  await page.goto(`${env.server.base}/collection.html`, { waitUntil: 'load' });
  return { page, errors, wasm };
}

/** `file` reaches the pages of `context` with one bit flipped, `fromEnd` bytes from its end. */
const tamper = (context, file, fromEnd) => context.route(new RegExp(`/${file.replace(/\./g, '\\.')}$`), async (route) => {
  const res = await route.fetch();
  const body = Buffer.from(await res.body());
  body[body.length - fromEnd] ^= 1;
  await route.fulfill({ response: res, body });
});

test('the versioned tag with its integrity attribute runs, and its files are immutable', async () => {
  const context = await testContext(env.browser);
  const { page, errors, wasm } = await open(context, sri(readFileSync(path.join(ROOT, 'dist', JS))));
  await page.waitForFunction(() => document.documentElement.dataset.tailor === 'ready');
  assert.deepEqual(wasm, [[`/${WASM}`, 'public, max-age=31536000, immutable']]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a wasm changed by one byte is refused: nothing runs and the page is untouched', async () => {
  const context = await testContext(env.browser);
  await tamper(context, WASM, 1);
  const { page, errors } = await open(context, sri(readFileSync(path.join(ROOT, 'dist', JS))));
  await page.waitForFunction(() => document.documentElement.dataset.tailor === 'failed');
  assert.deepEqual(await page.evaluate(GRID_IDS), THEME_ORDER);
  // Chromium reports the failed integrity check itself; nothing of ours reaches the page.
  assert.deepEqual(errors.filter((e) => !/integrity|digest/i.test(e)), []);
  assert.ok(!errors.some((e) => e.startsWith('pageerror')));
  await context.close();
});

test('a worker changed by one byte is refused: nothing runs and the page is untouched', async () => {
  const context = await testContext(env.browser);
  await tamper(context, WORKER, 2);
  const workers = [];
  context.on('page', (p) => p.on('worker', (w) => workers.push(w.url())));
  const { page, errors } = await open(context, sri(readFileSync(path.join(ROOT, 'dist', JS))));
  // The worker's bytes failed their pinned hash, fetched for the worker and then as a script of
  // the page's: the engine lives in that file, so nothing runs.
  await page.waitForFunction(() => document.documentElement.dataset.tailor === 'failed');
  assert.deepEqual(workers, [], 'the tampered worker never started');
  assert.deepEqual(await page.evaluate(GRID_IDS), THEME_ORDER);
  assert.equal(await page.evaluate(() => performance.getEntriesByName('tailor:warmed').length), 0);
  assert.ok(!(await page.evaluate((w) => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/' + w)), WASM)), 'the wasm was never fetched');
  assert.deepEqual(errors.filter((e) => !/integrity|digest/i.test(e)), []);
  assert.ok(!errors.some((e) => e.startsWith('pageerror')));
  await context.close();
});

test('a loader that does not match its integrity attribute never runs', async () => {
  const context = await testContext(env.browser);
  const { page } = await open(context, sri(Buffer.from('something else')));
  assert.equal(await page.evaluate(() => document.documentElement.dataset.tailor ?? null), null);
  assert.deepEqual(await page.evaluate(GRID_IDS), THEME_ORDER);
  await context.close();
});
