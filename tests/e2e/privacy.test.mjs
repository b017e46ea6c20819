// Consent and privacy in a real Chromium against a real `tailor serve`: nothing sent or stored
// before consent, delivery on grant, everything cleared on revoke, Global Privacy Control,
// Shopify's Customer Privacy API, tailor.forget(), and a logged-in customer's profile
// re-hydrated on a wiped device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serverAndBrowser, settle, watchErrors, kept, untilKept, untilTrue, queued, storeKeys, ROOT } from './harness.mjs';

const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));
const products = catalog.products.slice(0, 3);

const env = serverAndBrowser();

/**
 * A context whose pages carry `attrs` on the script tag. Unlike testContext it writes nothing
 * into storage itself: these tests check that storage stays empty.
 */
async function context(attrs, init) {
  const ctx = await env.browser.newContext();
  await ctx.addInitScript(() => { window.__tailorTest = true; });
  if (init) await ctx.addInitScript(init);
  await ctx.route(/\/products\/[^/]+$|\.html$/, async (route) => {
    const res = await route.fetch();
    const body = (await res.text()).replace('data-site="demo"', `data-site="demo" ${attrs}`);
    await route.fulfill({ response: res, body });
  });
  return ctx;
}

/** Open a page; record every request it makes to the sync API (`/v1/...` other than snapshots). */
async function open(ctx, url) {
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  const calls = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/v1/') && !u.pathname.startsWith('/v1/snapshot/')) calls.push({ method: r.method(), path: u.pathname, body: r.postData() });
  });
  await page.goto(url);
  await settle(page);
  return { page, errors, calls };
}

/**
 * A barrier: a request the page makes after everything it did so far. Requests are reported
 * in the order they are made, so once this one is seen, any earlier send would have been too.
 */
async function barrier(page) {
  await page.evaluate(() => fetch('/health').then((r) => r.text()));
}

/**
 * Everything the page's origin keeps: both storages, cookies, IndexedDB and Cache API. `local`
 * is our keys, wherever they are (`kept`: the worker's IndexedDB or localStorage).
 */
async function deviceState(page) {
  const state = await page.evaluate(async () => ({
    all: Object.keys(localStorage).sort(),
    session: Object.keys(sessionStorage).sort(),
    cookies: document.cookie,
    idb: indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [],
    caches: await caches.keys(),
  }));
  const ours = Object.keys(await kept(page)).sort();
  const { all, ...rest } = state;
  // Anything in localStorage that is not ours shows too.
  return { local: [...new Set([...ours, ...all])].sort(), ...rest };
}
const EMPTY = { local: [], session: [], cookies: '', idb: [], caches: [] };

/**
 * The device state once the worker has carried out what the page asked (its writes are
 * asynchronous): polled until it is `expected`, then returned (still compared by the caller).
 */
async function settledState(page, expected) {
  const end = Date.now() + 10_000;
  for (;;) {
    const state = await deviceState(page);
    if (JSON.stringify(state) === JSON.stringify(expected) || Date.now() > end) return state;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Hold `page`'s main thread at its next line of JavaScript (the debugger's pause), as a busy
 * tab is held: what its worker tells it meanwhile waits, in order. (Its worker runs on.)
 * `stopped` resolves once it is held: the next JavaScript it runs, in these tests the first
 * message from its worker. `run(expression)` runs code in the held tab before anything queued;
 * `resume()` lets it go on. (Each tab of a test runs in its own renderer process here, so
 * holding one does not hold the others.)
 */
async function lateTab(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Debugger.enable');
  const stopped = new Promise((resolve) => cdp.once('Debugger.paused', resolve));
  await cdp.send('Debugger.pause');
  return {
    stopped,
    run: async (expression) => cdp.send('Debugger.evaluateOnCallFrame', { callFrameId: (await stopped).callFrames[0].callFrameId, expression }),
    resume: () => cdp.send('Debugger.resume'),
  };
}

/**
 * The stored keys, as `reader` reads them, once `page`'s worker has committed every write the
 * page asked of it so far: a marker key handed to that worker the way the page hands it writes,
 * in a task after the page's last message, is committed after them (the worker commits writes
 * one after another), and is then deleted again the same way.
 */
async function written(page, reader) {
  const [worker] = page.workers();
  const hand = (op) => worker.evaluate((op) => new Promise((resolve) => setTimeout(resolve)).then(() => self.onmessage({ data: [op] })), op);
  await hand(['tailor:marker', '1']);
  const { 'tailor:marker': _, ...rest } = await untilKept(reader, (k) => k['tailor:marker'], "the marker after the tab's writes");
  await hand(['tailor:marker']);
  await untilKept(reader, (k) => !k['tailor:marker'], 'the marker deleted');
  return rest;
}

/**
 * Opt-out, two tabs of the same shopper: the second is held (`lateTab`) and the first refuses.
 * Resolves once the second tab is held, the refusal on its way to it.
 */
async function refusedWhileLate() {
  const ctx = await context('data-consent="opt-out"');
  const a = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  const b = await open(ctx, `${env.server.base}/products/${products[1].handle}`);
  await untilKept(a.page, (k) => k['tailor:shopper'], 'the shopper stored');
  const late = await lateTab(b.page);
  await a.page.evaluate(() => window.tailor.consent(false));
  await late.stopped;
  return { ctx, a, b, late };
}

/** A next page of the same shopper consents as `consented`, and no tab saw an error; closes `ctx`. */
async function nextPage(ctx, consented, tabs) {
  const next = await open(ctx, `${env.server.base}/products/${products[2].handle}`);
  assert.equal(await next.page.evaluate(() => window.tailor.consented()), consented);
  assert.deepEqual([...tabs, next].flatMap((t) => t.errors), []);
  await ctx.close();
}

function sentEvents(calls) {
  return calls.filter((c) => c.path === '/v1/events').flatMap((c) => JSON.parse(c.body).events);
}

test('opt-in: before consent nothing is sent or stored, yet the page is personalized in memory; grant delivers; revoke clears', async () => {
  const ctx = await context('data-consent="opt-in"');
  const p = products[0];
  const { page, errors, calls } = await open(ctx, `${env.server.base}/products/${p.handle}`);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.tailor), 'ready');
  await page.evaluate(() => { window.tailor.track('add_to_cart', { item: Number(document.querySelector('product-info').dataset.productId) }); window.tailor.flush(); });
  await barrier(page);
  assert.deepEqual(calls, [], 'no request to the sync API before consent');
  assert.deepEqual(await deviceState(page), EMPTY, 'nothing written on the device');
  const profile = await page.evaluate(() => window.tailor.profile());
  assert.ok(profile.recent.includes(p.id), 'the in-memory profile already has the view');
  assert.equal(await page.evaluate(() => window.tailor.consented()), false);

  // Grant: what was recorded on this page is delivered, and storage is used from now on.
  const delivered = page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.status() === 200);
  await page.evaluate(() => window.tailor.consent(true));
  await delivered;
  const types = sentEvents(calls).map((e) => e.type);
  for (const t of ['page_view', 'product_view', 'add_to_cart']) assert.ok(types.includes(t), `${t} delivered: ${types}`);
  const granted = await untilKept(page, (k) => k['tailor:consent'] && k['tailor:shopper'], 'the consent and the shopper stored');
  assert.equal(granted['tailor:consent'], 'granted');

  // The next page remembers the grant.
  const next = await open(ctx, `${env.server.base}/products/${products[1].handle}`);
  const nextDelivered = next.page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.status() === 200);
  await next.page.evaluate(() => window.tailor.flush());
  await nextDelivered;
  assert.ok(sentEvents(next.calls).some((e) => e.type === 'product_view' && e.item === products[1].id));

  // Revoke: sending stops at once and everything on the device goes.
  const before = next.calls.length;
  await next.page.evaluate(() => { window.tailor.consent(false); window.tailor.track('add_to_cart', { item: 1 }); window.tailor.flush(); });
  await barrier(next.page);
  assert.equal(next.calls.length, before, 'nothing sent after revoking');
  assert.deepEqual(await settledState(next.page, EMPTY), EMPTY);
  assert.deepEqual(Object.keys(await kept(page)), [], 'cleared for every tab');
  assert.deepEqual([...errors, ...next.errors], []);
  await ctx.close();
});

// Consent taken back and given again on the same page: the device is cleared, and from the grant
// on the page's events are kept again (the worker keeps the queue once the page's storage
// reaches it again), not only held in memory.
test('opt-in: revoked and granted again on one page, the events that follow are stored again', async () => {
  const ctx = await context('data-consent="opt-in"');
  // The batches hang unanswered, so the events stay in the stored queue.
  await ctx.route(/\/v1\/events$/, () => { /* unanswered */ });
  const { page, errors } = await open(ctx, `${env.server.base}/products/${products[2].handle}`);
  await page.evaluate(() => window.tailor.consent(true));
  await untilKept(page, (k) => queued(k).some((e) => e.type === 'product_view'), 'the page\'s events stored after the grant');
  await page.evaluate(() => window.tailor.consent(false));
  assert.deepEqual(await settledState(page, EMPTY), EMPTY);
  await page.evaluate(() => window.tailor.consent(true));
  const id = await page.evaluate((item) => window.tailor.track('add_to_cart', { item }).id, products[0].id);
  await untilKept(page, (k) => queued(k).some((e) => e.id === id), 'the event tracked after the second grant stored');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('opt-out: a refusal is remembered and nothing else is kept', async () => {
  const ctx = await context('data-consent="opt-out"');
  const first = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  assert.equal(await first.page.evaluate(() => window.tailor.consented()), true);
  await first.page.evaluate(() => window.tailor.consent(false));
  await untilKept(first.page, (k) => !k['tailor:shopper'], 'everything else deleted');
  assert.deepEqual(Object.entries(await untilKept(first.page, (k) => k['tailor:consent'], 'the refusal kept')), [['tailor:consent', 'denied']]);
  const second = await open(ctx, `${env.server.base}/products/${products[1].handle}`);
  await second.page.evaluate(() => { window.tailor.track('add_to_cart', { item: 1 }); window.tailor.flush(); });
  await barrier(second.page);
  assert.deepEqual(second.calls, []);
  assert.deepEqual(Object.keys(await kept(second.page)), ['tailor:consent']);
  await ctx.close();
});

test('Global Privacy Control is honored in every mode, even against an explicit grant', async () => {
  const ctx = await context('', () => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  const { page, errors, calls } = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.tailor), 'ready');
  await page.evaluate(() => { window.tailor.consent(true); window.tailor.track('add_to_cart', { item: 1 }); window.tailor.flush(); });
  await barrier(page);
  assert.equal(await page.evaluate(() => window.tailor.consented()), false);
  assert.deepEqual(calls, []);
  assert.deepEqual(await deviceState(page), EMPTY);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test("on Shopify the Customer Privacy API decides, and its consent events apply without a reload", async () => {
  const ctx = await context('', () => {
    window.__analytics = false;
    window.Shopify = { customerPrivacy: { analyticsProcessingAllowed: () => window.__analytics } };
  });
  const { page, errors, calls } = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  await page.evaluate(() => window.tailor.flush());
  await barrier(page);
  assert.deepEqual(calls, []);
  assert.deepEqual(await deviceState(page), EMPTY);
  const delivered = page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.status() === 200);
  await page.evaluate(() => {
    window.__analytics = true;
    document.dispatchEvent(new CustomEvent('visitorConsentCollected', { detail: { analyticsAllowed: true, marketingAllowed: false } }));
  });
  await delivered;
  assert.ok(sentEvents(calls).some((e) => e.type === 'product_view'));
  await page.evaluate(() => {
    window.__analytics = false;
    document.dispatchEvent(new CustomEvent('visitorConsentCollected', { detail: { analyticsAllowed: false } }));
  });
  assert.deepEqual(await settledState(page, EMPTY), EMPTY);
  assert.deepEqual(errors, []);
  await ctx.close();
});

// Shopify loads its Customer Privacy API on demand: its answer can arrive while our engine is
// still starting (here in a microtask after `loadFeatures`, which the loader awaits past). A
// grant then is as good as one after the start: the device keeps the shopper, the profile and
// the queue, and the events are sent.
test('on Shopify a grant that arrives while the engine starts is kept and sent, not held in memory', async () => {
  const ctx = await context('', () => {
    window.Shopify = {
      loadFeatures(features, done) {
        queueMicrotask(() => {
          window.Shopify.customerPrivacy = { analyticsProcessingAllowed: () => true };
          done();
        });
      },
    };
  });
  // The batches hang unanswered, so the events stay in the stored queue.
  await ctx.route(/\/v1\/events$/, () => { /* unanswered */ });
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  const sending = page.waitForRequest((r) => r.url().endsWith('/v1/events'));
  await page.goto(`${env.server.base}/products/${products[0].handle}`);
  await settle(page);
  assert.equal(await page.evaluate(() => window.tailor.consented()), true);
  const keys = await untilKept(page, (k) => k['tailor:shopper'] && k['tailor:profile:demo'] && queued(k).some((e) => e.type === 'product_view'), 'the shopper, the profile and the queue stored');
  assert.equal(queued(keys).find((e) => e.type === 'product_view').shopper, keys['tailor:shopper']);
  const sent = JSON.parse((await sending).postData()).events;
  assert.ok(sent.some((e) => e.type === 'product_view' && e.item === products[0].id));
  assert.deepEqual(errors, []);
  await ctx.close();
});

// The other way round: Shopify allowed tracking as the page loaded, and the shopper refuses
// while the engine starts (the refusal is dispatched in a microtask after the loader listens for
// it). Nothing is kept and nothing is sent.
test('on Shopify a refusal that arrives while the engine starts leaves nothing stored or sent', async () => {
  const ctx = await context('', () => {
    window.__analytics = true;
    window.Shopify = { customerPrivacy: { analyticsProcessingAllowed: () => window.__analytics } };
    const listen = Document.prototype.addEventListener;
    Document.prototype.addEventListener = function (type, ...rest) {
      listen.call(this, type, ...rest);
      if (type !== 'visitorConsentCollected') return;
      queueMicrotask(() => {
        window.__analytics = false;
        this.dispatchEvent(new CustomEvent(type, { detail: { analyticsAllowed: false } }));
      });
    };
  });
  const { page, errors, calls } = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  assert.equal(await page.evaluate(() => window.tailor.consented()), false);
  await page.evaluate(() => { window.tailor.track('add_to_cart', { item: 1 }); window.tailor.flush(); });
  await barrier(page);
  assert.deepEqual(calls, []);
  assert.deepEqual(await settledState(page, EMPTY), EMPTY);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('tailor.forget() clears the device and the server deletes the shopper', async () => {
  const ctx = await context('');
  const { page, errors, calls } = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  const delivered = page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.status() === 200);
  await page.evaluate(() => window.tailor.flush());
  await delivered;
  const shopper = (await untilKept(page, (k) => k['tailor:shopper'], 'the shopper stored'))['tailor:shopper'];
  const forgotten = page.waitForResponse((r) => r.url().endsWith('/v1/forget'));
  await page.evaluate(() => window.tailor.forget());
  const res = await forgotten;
  assert.equal(res.status(), 200);
  const body = await res.json();
  assert.ok(body.events >= 2, `the server deleted the shopper's events: ${JSON.stringify(body)}`);
  assert.equal(JSON.parse(calls.find((c) => c.path === '/v1/forget').body).shopper, shopper);
  assert.deepEqual(await settledState(page, EMPTY), EMPTY);
  assert.deepEqual(await page.evaluate(() => window.tailor.profile().then((p) => p.recent)), []);
  // Forgetting is not refusing: with no consent mode, tracking goes on under a new id.
  assert.equal(await page.evaluate(() => window.tailor.consented()), true);
  assert.deepEqual(errors, []);
  await ctx.close();
});

// A deletion request the server did not get (the device offline, the server down, a wrong
// endpoint answering the store's own page) is kept and sent again by the next page until the
// sync server has answered it.
for (const [how, fail] of [
  ['the device offline', (route) => route.abort('internetdisconnected')],
  ['a store page at the endpoint', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Our store</title>' })],
]) test(`a forget the server did not get is sent again by the next page: ${how}`, async () => {
  const ctx = await context('');
  const { page, errors } = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  const delivered = page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.status() === 200);
  await page.evaluate(() => window.tailor.flush());
  await delivered;
  const shopper = (await untilKept(page, (k) => k['tailor:shopper'], 'the shopper stored'))['tailor:shopper'];
  await ctx.route('**/v1/forget', fail);
  await page.evaluate(() => window.tailor.forget());
  const kept = await untilKept(page, (k) => k['tailor:forget'], 'the unanswered request kept');
  assert.equal(JSON.parse(kept['tailor:forget']).shopper, shopper);
  assert.equal(kept['tailor:shopper'], undefined, 'the device forgot all the same');
  await page.close();
  await ctx.unroute('**/v1/forget');
  const next = await ctx.newPage();
  const answered = next.waitForResponse((r) => r.url().endsWith('/v1/forget'));
  await next.goto(`${env.server.base}/products/${products[1].handle}`);
  const res = await answered;
  assert.equal(res.status(), 200);
  assert.equal(JSON.parse(res.request().postData()).shopper, shopper);
  assert.ok((await res.json()).events >= 2, 'the server deleted the shopper\'s events');
  await untilKept(next, (k) => k['tailor:shopper'] && !k['tailor:forget'], 'the request let go once answered');
  // (The browser logs the failed request itself: not an error of ours.)
  assert.deepEqual(errors.filter((e) => !e.includes('net::ERR_INTERNET_DISCONNECTED')), []);
  await ctx.close();
});

test('tailor.forget() in one tab makes the other open tabs forget too, so nothing is written back', async () => {
  const ctx = await context('');
  const a = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  const b = await open(ctx, `${env.server.base}/products/${products[1].handle}`);
  const old = (await untilKept(a.page, (k) => k['tailor:shopper'] && k['tailor:profile:demo'], 'the shopper stored'))['tailor:shopper'];
  assert.ok((await b.page.evaluate(() => window.tailor.profile().then((p) => p.recent))).includes(products[1].id));
  await a.page.evaluate(() => window.tailor.forget());
  // The other tab drops its profile and its shopper id...
  await untilTrue(b.page, () => window.tailor.profile().then((p) => p.recent.length === 0), null, 'the forget heard in the other tab');
  const event = await b.page.evaluate((item) => window.tailor.track('product_view', { item }), products[2].id);
  assert.notEqual(event.shopper, old);
  // ...and writes nothing back: the device stays empty.
  assert.deepEqual(await settledState(b.page, EMPTY), EMPTY);
  assert.deepEqual([...a.errors, ...b.errors], []);
  await ctx.close();
});

// A tab that is still starting when another forgets: its worker has read the stored keys and
// waits for its snapshot; the database goes meanwhile. The page must not start from the keys
// it was given, the forgotten shopper's, and write them back.
test('a tab still starting when another tab forgets starts from nothing, and writes nothing of the forgotten shopper back', async () => {
  const ctx = await context('');
  const a = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  const old = (await untilKept(a.page, (k) => k['tailor:shopper'] && k['tailor:profile:demo'], 'the shopper stored'))['tailor:shopper'];
  // (No snapshot cached: the second tab's worker downloads it, and the download is held here.)
  await a.page.evaluate(() => caches.delete('tailor-snapshots-v1'));
  let asked;
  const requested = new Promise((resolve) => { asked = resolve; });
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await ctx.route(/\/v1\/snapshot\/demo$/, async (route) => { asked(); await held; await route.continue(); });
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  const going = page.goto(`${env.server.base}/products/${products[1].handle}`);
  // (The worker reads the keys before it asks for the snapshot.)
  await requested;
  await a.page.evaluate(() => window.tailor.forget());
  await untilTrue(a.page, () => indexedDB.databases().then((d) => !d.some((x) => x.name === 'tailor')), null, 'the database deleted');
  release();
  await going;
  assert.equal(await settle(page), 'ready');
  const event = await page.evaluate((item) => window.tailor.track('product_view', { item }), products[2].id);
  assert.notEqual(event.shopper, old, 'a new shopper');
  const recent = await page.evaluate(() => window.tailor.profile().then((p) => p.recent));
  assert.ok(!recent.includes(products[0].id), `nothing of the forgotten profile: ${recent}`);
  const stored = await untilKept(page, (k) => k['tailor:shopper'] && k['tailor:profile:demo'], 'the new tab\'s keys');
  assert.notEqual(stored['tailor:shopper'], old, 'the forgotten shopper is not written back');
  assert.deepEqual([...a.errors, ...errors], []);
  await ctx.close();
});

// The same after the worker has answered: the page, still starting (here it waits for a
// logged-in customer's profile), hears of the deletion only once it listens, and what it writes
// before that (its heartbeat, its keys) is of the forgotten shopper: none of it may come back.
test('a tab that hears of another tab\'s forget only after it has started writing writes nothing back', async () => {
  const customer = 'deadbeef0123456789abcdef01234567';
  const ctx = await context(`data-customer="${customer}"`);
  // A device that holds a shopper and no profile (so the page downloads the customer's).
  const other = await ctx.newPage();
  await other.goto(`${env.server.base}/health`);
  await storeKeys(other, { 'tailor:shopper': 'forgotten-shopper' });
  let asked;
  const requested = new Promise((resolve) => { asked = resolve; });
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await ctx.route(new RegExp(`/v1/profiles/demo/${customer}$`), async (route) => { asked(); await held; await route.continue(); });
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  const going = page.goto(`${env.server.base}/products/${products[1].handle}`);
  // (The worker has answered: the page asks for the profile once it has its keys.)
  await requested;
  // Another tab forgets: the database goes.
  await other.evaluate(() => new Promise((resolve) => { const r = indexedDB.deleteDatabase('tailor'); r.onsuccess = r.onerror = resolve; }));
  release();
  await going;
  assert.equal(await settle(page), 'ready');
  const event = await page.evaluate((item) => window.tailor.track('product_view', { item }), products[2].id);
  assert.notEqual(event.shopper, 'forgotten-shopper');
  assert.deepEqual(await settledState(page, EMPTY), EMPTY);
  // (The browser logs the 404 of the customer who has no stored profile yet: not an error of ours.)
  assert.deepEqual(errors.filter((e) => !e.includes('status of 404')), []);
  await ctx.close();
});

test('opt-out: a refusal in one tab stops the other open tabs sending at once', async () => {
  const ctx = await context('data-consent="opt-out"');
  const a = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  const b = await open(ctx, `${env.server.base}/products/${products[1].handle}`);
  await untilKept(a.page, (k) => k['tailor:shopper'], 'the shopper stored');
  assert.equal(await b.page.evaluate(() => window.tailor.consented()), true);
  await a.page.evaluate(() => window.tailor.consent(false));
  // The other tab reads the refusal the first one stored, without a reload...
  await b.page.waitForFunction(() => window.tailor.consented() === false);
  // ...and sends nothing more, under any shopper id.
  const before = b.calls.length;
  await b.page.evaluate((item) => { window.tailor.track('add_to_cart', { item }); window.tailor.flush(); }, products[2].id);
  await barrier(b.page);
  assert.deepEqual(b.calls.slice(before), [], 'nothing sent from the other tab after the refusal');
  // Only the refusal stays on the device.
  assert.deepEqual(Object.entries(await untilKept(b.page, (k) => k['tailor:consent'] && !k['tailor:shopper'], 'only the refusal kept')), [['tailor:consent', 'denied']]);
  assert.deepEqual([...a.errors, ...b.errors], []);
  await ctx.close();
});

test('opt-out: a refusal outlives tailor.forget()', async () => {
  const ctx = await context('data-consent="opt-out"');
  const a = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  await a.page.evaluate(() => window.tailor.consent(false));
  await untilKept(a.page, (k) => k['tailor:consent'] === 'denied' && !k['tailor:shopper'], 'the refusal kept');
  // A second tab sees the forget's wipe (its in-memory profile empties)...
  const b = await open(ctx, `${env.server.base}/products/${products[1].handle}`);
  assert.ok((await b.page.evaluate(() => window.tailor.profile().then((p) => p.recent))).includes(products[1].id));
  await a.page.evaluate(() => window.tailor.forget());
  await untilTrue(b.page, () => window.tailor.profile().then((p) => p.recent.length === 0), null, 'the forget heard in the other tab');
  // ...after which the refusal is written back, and the next page still sends nothing.
  assert.deepEqual(Object.entries(await untilKept(a.page, (k) => k['tailor:consent'], 'the refusal kept after the forget')), [['tailor:consent', 'denied']]);
  const next = await open(ctx, `${env.server.base}/products/${products[2].handle}`);
  assert.equal(await next.page.evaluate(() => window.tailor.consented()), false);
  await next.page.evaluate(() => { window.tailor.track('add_to_cart', { item: 1 }); window.tailor.flush(); });
  await barrier(next.page);
  assert.deepEqual([...b.calls, ...next.calls], []);
  assert.deepEqual([...a.errors, ...b.errors, ...next.errors], []);
  await ctx.close();
});

test('opt-out: a tab that hears of a refusal late does not write it back over the consent given again since', async () => {
  const { ctx, a, b, late } = await refusedWhileLate();
  await untilKept(a.page, (k) => k['tailor:consent'] === 'denied', 'the refusal stored');
  await a.page.evaluate(() => window.tailor.consent(true));
  await untilKept(a.page, (k) => !k['tailor:consent'] && k['tailor:shopper'], 'the consent given again');
  await late.resume();
  // The second tab reads the refusal, late, and stops...
  await b.page.waitForFunction(() => window.tailor.consented() === false);
  // ...and stores no refusal again: the shopper's last choice stands, for the next page too.
  const stored = await written(b.page, a.page);
  assert.equal(stored['tailor:consent'], undefined, 'no refusal written back');
  assert.ok(stored['tailor:shopper'], 'the first tab still keeps its shopper');
  assert.equal(await a.page.evaluate(() => window.tailor.consented()), true);
  await nextPage(ctx, true, [a, b]);
});

test('opt-out: a refusal survives a forget from a tab that had not heard of it yet', async () => {
  const { ctx, a, b, late } = await refusedWhileLate();
  await untilKept(a.page, (k) => k['tailor:consent'] === 'denied' && !k['tailor:shopper'], 'the refusal stored');
  // The refusing tab still personalizes in memory.
  await a.page.evaluate((item) => window.tailor.track('product_view', { item }), products[2].id);
  assert.deepEqual(await a.page.evaluate(() => window.tailor.profile().then((p) => p.recent)), [products[2].id]);
  // The second tab, not told yet, forgets: its wipe lands after the refusal was stored.
  await late.run('window.tailor.forget()');
  await late.resume();
  // The refusing tab hears of that wipe (it forgets what it held)...
  await untilTrue(a.page, () => window.tailor.profile().then((p) => p.recent.length === 0), null, 'the forget heard in the other tab');
  // ...and writes its refusal back: the next page sends nothing either.
  const stored = await written(a.page, a.page);
  assert.equal(stored['tailor:consent'], 'denied');
  await nextPage(ctx, false, [a, b]);
});

test('opt-in: a tab that hears of a forget late does not wipe the grant given again since', async () => {
  const ctx = await context('data-consent="opt-in"');
  const a = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  await a.page.evaluate(() => window.tailor.consent(true));
  await untilKept(a.page, (k) => k['tailor:consent'] === 'granted' && k['tailor:shopper'], 'the grant stored');
  const b = await open(ctx, `${env.server.base}/products/${products[1].handle}`);
  assert.equal(await b.page.evaluate(() => window.tailor.consented()), true);
  const late = await lateTab(b.page);
  await a.page.evaluate(() => window.tailor.forget());
  await late.stopped;
  await a.page.evaluate(() => window.tailor.consent(true));
  const given = await untilKept(a.page, (k) => k['tailor:consent'] === 'granted' && k['tailor:shopper'], 'the grant given again');
  await late.resume();
  // The second tab reads the wipe, late, finds no grant, and stops...
  await b.page.waitForFunction(() => window.tailor.consented() === false);
  // ...without wiping the storage again: the grant given since stays, for the next page too.
  const stored = await written(b.page, a.page);
  assert.equal(stored['tailor:consent'], 'granted');
  assert.equal(stored['tailor:shopper'], given['tailor:shopper']);
  await nextPage(ctx, true, [a, b]);
});

test('opt-in: tailor.forget() forgets the grant too, in the tab that asked and in the other open tabs', async () => {
  const ctx = await context('data-consent="opt-in"');
  const a = await open(ctx, `${env.server.base}/products/${products[0].handle}`);
  await a.page.evaluate(() => window.tailor.consent(true));
  await untilKept(a.page, (k) => k['tailor:consent'] === 'granted' && k['tailor:shopper'], 'the grant stored');
  const b = await open(ctx, `${env.server.base}/products/${products[1].handle}`);
  assert.equal(await b.page.evaluate(() => window.tailor.consented()), true, 'the grant remembered');
  await a.page.evaluate(() => window.tailor.forget());
  assert.equal(await a.page.evaluate(() => window.tailor.consented()), false);
  await b.page.waitForFunction(() => window.tailor.consented() === false);
  const before = b.calls.length;
  await b.page.evaluate((item) => { window.tailor.track('add_to_cart', { item }); window.tailor.flush(); }, products[2].id);
  await barrier(b.page);
  assert.deepEqual(b.calls.slice(before), [], 'nothing sent from the other tab after the forget');
  assert.deepEqual(await settledState(b.page, EMPTY), EMPTY);
  assert.deepEqual([...a.errors, ...b.errors], []);
  await ctx.close();
});

test("a logged-in customer's profile is re-hydrated on a device whose storage was wiped", async () => {
  const customer = 'b1e55ed0c0ffee0123456789abcdef01';
  const attrs = `data-customer="${customer}"`;
  const first = await context(attrs);
  const { page } = await open(first, `${env.server.base}/products/${products[0].handle}`);
  for (const p of products.slice(1)) await page.evaluate((item) => window.tailor.track('product_view', { item }), p.id);
  // tailor.flush() sends the profile now (it also goes on pagehide and when the page is hidden).
  const uploaded = page.waitForResponse((r) => r.url().endsWith(`/v1/profiles/demo/${customer}`) && r.request().method() === 'POST');
  await page.evaluate(() => window.tailor.flush());
  assert.equal((await uploaded).status(), 204);
  const stored = await fetch(`${env.server.base}/v1/profiles/demo/${customer}`);
  assert.equal(stored.status, 200);
  await first.close();

  const wiped = await context(attrs);
  const again = await open(wiped, `${env.server.base}/collection.html`);
  const recent = await again.page.evaluate(() => window.tailor.profile().then((p) => p.recent));
  for (const p of products) assert.ok(recent.includes(p.id), `${p.id} re-hydrated: ${recent}`);
  assert.deepEqual(again.errors, []);
  await wiped.close();
});
