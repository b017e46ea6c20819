// Where the loader keeps the shopper's state, in a real Chromium against a real `tailor serve`.
// With its worker the page reads no `localStorage` at all: the worker keeps our keys in
// IndexedDB (js/worker.js) and hands the page a copy with its answer, which costs the page's
// main thread nothing (a first `localStorage` access is a synchronous load; BENCHMARKS.md, "an
// eighth round"). Here: a returning page view touches no `localStorage` and still remembers
// the shopper; a worker without IndexedDB leaves the page on `localStorage`; what an earlier
// version kept in `localStorage` is moved over once; Shopify's checkout pixel still finds the
// shopper and the session in `localStorage`; and data-before-consent="off" fetches nothing
// before consent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serverAndBrowser, watchErrors, testContext, settle, kept, untilKept, storeKeys, recordedEvents, ROOT } from './harness.mjs';

const env = serverAndBrowser();
const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));
const product = (k) => `${env.server.base}/products/${catalog.products[k].handle}`;

/** Counts every use of `localStorage` by the page's scripts (the getter and each method), from the start of each page. */
const countStorage = (context) => context.addInitScript(() => {
  window.__storage = [];
  const own = Object.getOwnPropertyDescriptor(window, 'localStorage') ? window : Window.prototype;
  const getter = Object.getOwnPropertyDescriptor(own, 'localStorage').get;
  Object.defineProperty(window, 'localStorage', { configurable: true, get() { window.__storage.push('localStorage'); return getter.call(this); } });
  for (const name of ['getItem', 'setItem', 'removeItem', 'key', 'clear']) {
    const original = Storage.prototype[name];
    Storage.prototype[name] = function (...args) { window.__storage.push(`${name}(${args[0] ?? ''})`); return original.apply(this, args); };
  }
});

/** A context for the test flag only: unlike testContext it writes no shopper id into localStorage. */
async function plainContext() {
  const context = await env.browser.newContext();
  await context.addInitScript(() => { window.__tailorTest = true; });
  return context;
}

/** The pages of `context` whose path matches `pattern` get `attrs` on the loader's tag. */
const withAttrs = (context, attrs, pattern = /\/products\/[^/]+$|\.html$/) => context.route(pattern, async (route) => {
  const res = await route.fetch();
  await route.fulfill({ response: res, body: (await res.text()).replace('data-site="demo"', `data-site="demo" ${attrs}`) });
});

test('a returning page view reads and writes no localStorage, and the shopper and profile carry over in IndexedDB', async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(product(3));
  assert.equal(await settle(page), 'ready');
  const first = await untilKept(page, (k) => k['tailor:shopper'] && k['tailor:profile:demo'], 'the shopper and the profile stored');
  // The test's own shopper id (testContext puts it in localStorage) was moved over to IndexedDB.
  assert.equal(first['tailor:shopper'], 'e2e-shopper-2');
  await countStorage(context);
  await page.goto(product(4));
  assert.equal(await settle(page), 'ready');
  const profile = await page.evaluate(() => window.tailor.profile());
  assert.ok(profile.recent.includes(catalog.products[3].id) && profile.recent.includes(catalog.products[4].id), `both views in the profile: ${profile.recent}`);
  // Everything our loader did on this page, up to and including its storage writes, without
  // localStorage (the test harness's own write comes before the counting starts, and the
  // test's own reads below come after it).
  await page.waitForFunction(() => performance.getEntriesByName('tailor:later', 'measure').some((m) => m.detail === 'save'));
  assert.deepEqual(await page.evaluate(() => window.__storage.slice()), []);
  await untilKept(page, (k) => k['tailor:profile:demo'] !== first['tailor:profile:demo'], 'the profile saved again');
  assert.deepEqual(errors, []);
  await context.close();
});

// The worker keeps the profile itself, as it keeps the queue: an event the page tracked is in
// the stored profile whether or not the page hears from its worker again (a page held busy, or
// leaving). Here the page is held by the debugger right after it tracks a product view; its
// worker stores the profile meanwhile, and a new tab starts from it.
test('the worker stores the profile after an event without waiting for the page: a held page\'s last view reaches a new tab', async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(product(3));
  assert.equal(await settle(page), 'ready');
  const before = (await untilKept(page, (k) => k['tailor:profile:demo'], 'the profile stored'))['tailor:profile:demo'];
  // Held at its next line of JavaScript (an evaluation that never returns while held), where
  // the product view is tracked.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Debugger.enable');
  const stopped = new Promise((resolve) => cdp.once('Debugger.paused', resolve));
  await cdp.send('Debugger.pause');
  page.evaluate(() => 0).catch(() => { /* the context closes first */ });
  const { callFrames } = await stopped;
  await cdp.send('Debugger.evaluateOnCallFrame', { callFrameId: callFrames[0].callFrameId, expression: `window.tailor.track('product_view', { item: ${catalog.products[9].id} })` });
  const probe = await context.newPage();
  await probe.goto(`${env.server.base}/health`);
  await untilKept(probe, (k) => k['tailor:profile:demo'] !== before, "the held page's worker storing the profile");
  const other = await context.newPage();
  const otherErrors = watchErrors(other);
  await other.goto(product(5));
  assert.equal(await settle(other), 'ready');
  const recent = await other.evaluate(() => window.tailor.profile().then((p) => p.recent));
  assert.ok(recent.includes(catalog.products[9].id) && recent.includes(catalog.products[3].id), `the held page's views in the new tab's profile: ${recent}`);
  await cdp.send('Debugger.resume');
  assert.deepEqual([...errors, ...otherErrors], []);
  await context.close();
});

// A stored profile the engine cannot read (a damaged copy, or a format it does not know) is
// replaced, and the merchant hears of it once: a diagnostic with the page's first event.
test('a stored profile that cannot be read is replaced, and reported once as PROFILE_UNREADABLE', async () => {
  const context = await plainContext();
  const page = await context.newPage();
  await page.goto(`${env.server.base}/health`);
  await storeKeys(page, { 'tailor:shopper': 'damaged-profile-shopper', 'tailor:profile:demo': 'tailor-profile 1\ngarbage' });
  const errors = watchErrors(page);
  const events = await recordedEvents(page);
  await page.goto(product(5));
  assert.equal(await settle(page), 'ready');
  await page.evaluate(() => window.tailor.flush());
  const diagnostics = async () => (await events()).filter((e) => e.type === 'diagnostic' && e.code === 'PROFILE_UNREADABLE');
  for (let end = Date.now() + 10_000; !(await diagnostics()).length && Date.now() < end;) await new Promise((resolve) => setTimeout(resolve, 50));
  const [d] = await diagnostics();
  assert.ok(d, 'the diagnostic was sent');
  assert.equal(d.shopper, 'damaged-profile-shopper');
  // The page went on from a fresh profile, which is stored in place of the damaged one.
  assert.deepEqual(await page.evaluate(() => window.tailor.profile().then((p) => p.recent)), [catalog.products[5].id]);
  await untilKept(page, (k) => k['tailor:profile:demo'] && !k['tailor:profile:demo'].includes('garbage'), 'a readable profile stored');
  // The next page reads it: no second report.
  await page.goto(product(6));
  assert.equal(await settle(page), 'ready');
  await page.evaluate(() => window.tailor.flush());
  const views = async () => (await events()).filter((e) => e.type === 'product_view').length;
  for (let end = Date.now() + 10_000; (await views()) < 2 && Date.now() < end;) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await views(), 2);
  assert.equal((await diagnostics()).length, 1);
  assert.deepEqual(await page.evaluate(() => window.tailor.profile().then((p) => p.recent)), [catalog.products[6].id, catalog.products[5].id]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a worker without IndexedDB leaves the page on localStorage, and it remembers the shopper all the same', async () => {
  const context = await testContext(env.browser);
  // IndexedDB throws in the worker (as in some private modes and locked-down browsers).
  await context.route(/\/tailor\.worker\.js$/, async (route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, body: `Object.defineProperty(self,'indexedDB',{get(){throw new DOMException('blocked','SecurityError')}});\n${await res.text()}` });
  });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(product(5));
  assert.equal(await settle(page), 'ready');
  await page.waitForFunction(() => localStorage.getItem('tailor:profile:demo'));
  await page.goto(product(6));
  assert.equal(await settle(page), 'ready');
  const recent = await page.evaluate(() => window.tailor.profile().then((p) => p.recent));
  assert.ok(recent.includes(catalog.products[5].id), `the first view came back from localStorage: ${recent}`);
  assert.deepEqual(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name)), [], 'no database');
  assert.deepEqual(errors, []);
  await context.close();
});

test('what an earlier version kept in localStorage is moved to IndexedDB on the next page', async () => {
  const context = await plainContext();
  const page = await context.newPage();
  await page.goto(product(7));
  assert.equal(await settle(page), 'ready');
  const first = await untilKept(page, (k) => k['tailor:profile:demo'] && k['tailor:session'], 'the first page\'s keys');
  const before = { shopper: first['tailor:shopper'], session: first['tailor:session'].split(' ')[0] };
  // Those keys as an earlier version (or the npm package) kept them: in localStorage alone. (On
  // a page of the store without the loader, so that no worker holds the database open.)
  await page.goto(`${env.server.base}/health`);
  await page.evaluate((keys) => new Promise((resolve) => {
    for (const [k, v] of Object.entries(keys)) if (!k.startsWith('tailor:alive:') && !k.startsWith('tailor:queue:')) localStorage.setItem(k, v);
    const r = indexedDB.deleteDatabase('tailor');
    r.onsuccess = r.onerror = r.onblocked = resolve;
  }), first);
  await page.goto(`${env.server.base}/collection.html`);
  assert.equal(await settle(page), 'ready');
  // (localStorage is emptied at the page's start; `kept` then reads what reached IndexedDB.)
  const moved = await untilKept(page, (k) => k['tailor:profile:demo'] && k['tailor:session'], 'the keys moved');
  const recent = await page.evaluate(() => window.tailor.profile().then((p) => p.recent));
  assert.ok(recent.includes(catalog.products[7].id), `the profile came along: ${recent}`);
  assert.equal(moved['tailor:shopper'], before.shopper);
  assert.equal(await page.evaluate(() => window.tailor.track('page_view', { page: 'other' }).session), before.session, 'the same session');
  // Gone from localStorage, and in IndexedDB alone.
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), []);
  assert.equal((await kept(page))['tailor:shopper'], before.shopper);
  await context.close();
});

test("on a Shopify store the shopper and the session are also in localStorage, where the checkout pixel reads them", async () => {
  const context = await plainContext();
  await context.addInitScript(() => { window.Shopify = { customerPrivacy: { analyticsProcessingAllowed: () => true } }; });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(product(8));
  assert.equal(await settle(page), 'ready');
  const ids = await page.evaluate(() => { const e = window.tailor.track('page_view', { page: 'other' }); return { shopper: e.shopper, session: e.session }; });
  await page.waitForFunction((s) => (localStorage.getItem('tailor:session') || '').startsWith(s + ' '), ids.session);
  assert.equal(await page.evaluate(() => localStorage.getItem('tailor:shopper')), ids.shopper, 'the shopper, written by the loader');
  const stored = await untilKept(page, (k) => k['tailor:mirror'], 'what was mirrored');
  assert.equal(stored['tailor:mirror'], `${ids.shopper} ${ids.session}`);
  // After a forget the page keeps nothing more on the device, the copy for the pixel included,
  // and its events carry a new shopper and a new session: nothing ties them to those before.
  await page.evaluate(() => window.tailor.forget());
  const after = await page.evaluate(() => { const e = window.tailor.track('page_view', { page: 'other' }); return { shopper: e.shopper, session: e.session }; });
  assert.notEqual(after.shopper, ids.shopper);
  assert.notEqual(after.session, ids.session);
  // (The profile and the mirror are saved after a run of events, in a `save` task of their own.)
  const saves = () => performance.getEntriesByName('tailor:later', 'measure').filter((m) => m.detail === 'save').length;
  const before = await page.evaluate(saves);
  await page.evaluate(() => window.tailor.track('page_view', { page: 'other' }));
  await page.waitForFunction((n) => performance.getEntriesByName('tailor:later', 'measure').filter((m) => m.detail === 'save').length > n, before);
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tailor:'))), []);
  // The next page starts with a new id of its own.
  await page.goto(product(9));
  assert.equal(await settle(page), 'ready');
  const next = await page.evaluate(() => window.tailor.track('page_view', { page: 'other' }).shopper);
  assert.ok(next !== after.shopper && next !== ids.shopper, `a new shopper on the next page: ${next}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('with data-before-consent="off" nothing is fetched before consent, and then storage stays in localStorage', async () => {
  const context = await testContext(env.browser);
  await context.addInitScript(() => {
    window.__analytics = false;
    window.Shopify = { customerPrivacy: { analyticsProcessingAllowed: () => window.__analytics } };
  });
  await withAttrs(context, 'data-before-consent="off"');
  await context.route(/\/v1\/events$/, () => { /* unanswered */ });
  const requests = [];
  context.on('request', (r) => { if (/_bg\.wasm|\/v1\//.test(r.url())) requests.push(new URL(r.url()).pathname); });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(product(9));
  // The loader waits: nothing fetched, and the page stays as the theme rendered it.
  await page.evaluate(() => fetch('/health').then((r) => r.text()));
  assert.deepEqual(requests, []);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.tailor), 'loading');
  await page.evaluate(() => {
    window.__analytics = true;
    document.dispatchEvent(new CustomEvent('visitorConsentCollected', { detail: { analyticsAllowed: true } }));
  });
  assert.equal(await settle(page), 'ready');
  assert.ok(requests.some((p) => p.endsWith('_bg.wasm')) && requests.some((p) => p.startsWith('/v1/snapshot/')), requests.join());
  await page.waitForFunction(() => localStorage.getItem('tailor:profile:demo') && localStorage.getItem('tailor:session'));
  // The worker keeps the event queue; the page keeps its copy in localStorage, under its tab's
  // key. (The batch hangs unanswered, so the events stay queued.)
  const types = await page.waitForFunction(() => {
    const key = Object.keys(localStorage).find((k) => k.startsWith('tailor:queue:demo:'));
    const events = key ? localStorage.getItem(key).split('\n').filter(Boolean).map((l) => JSON.parse(l).type) : [];
    return events.includes('product_view') && events;
  });
  assert.ok((await types.jsonValue()).includes('page_view'));
  assert.deepEqual(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name)), [], 'no database');
  assert.deepEqual(errors, []);
  await context.close();
});

test('with data-before-consent="off", a grant on the queue starts the engine and is remembered (opt-in), or replaces a refusal (opt-out)', async () => {
  const context = await plainContext();
  await withAttrs(context, 'data-consent="opt-in" data-before-consent="off"');
  const requests = [];
  context.on('request', (r) => { if (/_bg\.wasm|\/v1\//.test(r.url())) requests.push(new URL(r.url()).pathname); });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(product(11));
  // Waiting for consent: nothing fetched, nothing stored.
  await page.evaluate(() => fetch('/health').then((r) => r.text()));
  assert.equal(await page.evaluate(() => document.documentElement.dataset.tailor), 'loading');
  assert.deepEqual(requests, []);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  // The documented way to grant before the script is ready: the command queue.
  await page.evaluate(() => { (window.tailor = window.tailor || []).push(['consent', true]); });
  assert.equal(await settle(page), 'ready');
  assert.equal(await page.evaluate(() => window.tailor.consented()), true);
  assert.ok(requests.some((p) => p.startsWith('/v1/snapshot/')), requests.join());
  assert.equal(await page.evaluate(() => localStorage.getItem('tailor:consent')), 'granted');
  // The next page starts at once, from the remembered grant.
  await page.goto(product(12));
  assert.equal(await settle(page), 'ready');
  // A grant queued before the script runs works too, on a fresh device.
  const fresh = await plainContext();
  await withAttrs(fresh, 'data-consent="opt-in" data-before-consent="off"');
  await fresh.addInitScript(() => { window.tailor = [['consent', true]]; });
  const other = await fresh.newPage();
  const otherErrors = watchErrors(other);
  await other.goto(product(13));
  assert.equal(await settle(other), 'ready');
  // In opt-out mode a grant replaces a refusal remembered from an earlier page.
  const refused = await plainContext();
  await withAttrs(refused, 'data-consent="opt-out" data-before-consent="off"');
  await refused.addInitScript(() => { if (!sessionStorage.getItem('seeded')) { sessionStorage.setItem('seeded', '1'); localStorage.setItem('tailor:consent', 'denied'); } });
  const third = await refused.newPage();
  const thirdErrors = watchErrors(third);
  await third.goto(product(14));
  assert.equal(await third.evaluate(() => document.documentElement.dataset.tailor), 'loading');
  await third.evaluate(() => window.tailor.push(['consent', true]));
  assert.equal(await settle(third), 'ready');
  assert.equal(await third.evaluate(() => localStorage.getItem('tailor:consent')), null, 'the refusal is gone');
  await third.goto(product(15));
  assert.equal(await settle(third), 'ready');
  assert.deepEqual(errors, []);
  assert.deepEqual(otherErrors, []);
  assert.deepEqual(thirdErrors, []);
  await refused.close();
  await fresh.close();
  await context.close();
});

test('without crypto.randomUUID (a page over plain http) the ids are still random UUIDs', async () => {
  const context = await testContext(env.browser);
  await context.addInitScript(() => { Object.defineProperty(Crypto.prototype, 'randomUUID', { value: undefined }); });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(product(10));
  assert.equal(await settle(page), 'ready');
  const ids = await page.evaluate(() => [1, 2, 3].map(() => window.tailor.track('page_view', { page: 'other' }).id));
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, 3);
  assert.deepEqual(errors, []);
  await context.close();
});
