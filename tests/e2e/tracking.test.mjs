// The event queue in a real Chromium against a real `tailor serve`: offline and online, no
// unload listeners (so the back/forward cache keeps working), and storage that throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serverAndBrowser, watchErrors, testContext, recordedEvents, ROOT, settle, queued, untilKept, startServer, eventCounters } from './harness.mjs';

const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));

const env = serverAndBrowser();


const isEvents = (r) => r.url().endsWith('/v1/events') && r.method() === 'POST';

test('offline: no requests; back online: the queue is sent at once, even while it waits out a Retry-After', async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  const posts = [];
  page.on('request', (r) => { if (isEvents(r)) posts.push(r); });
  await page.goto(`${env.server.base}/products/${catalog.products[50].handle}`);
  assert.equal(await settle(page), 'ready');
  // The server asks for an hour's pause: the queue's own schedule would not send again before.
  await context.route('**/v1/events', (route) => route.fulfill({ status: 503, headers: { 'retry-after': '3600' }, body: '' }));
  await page.evaluate(() => { window.tailor.track('add_to_cart', { item: 7400000000051 }); window.tailor.flush(); });
  await page.waitForFunction(() => window.tailor.queue.retryAt() > Date.now() + 3_000_000);
  await context.unroute('**/v1/events');
  await context.setOffline(true);
  const before = posts.length;
  // Record while offline, and give the loader's schedule (1 s) several chances to send.
  await page.evaluate(() => window.tailor.track('add_to_cart', { item: 7400000000052 }));
  await page.evaluate(() => new Promise((resolve) => {
    let n = 0;
    const tick = () => (++n >= 4 ? resolve() : setTimeout(tick, 600));
    tick();
  }));
  assert.equal(posts.length, before, 'nothing is sent while offline');
  // Back online, the `online` event sends the queue itself: nothing else would before an hour.
  const sent = page.waitForRequest((r) => isEvents(r) && r.postData().includes('7400000000052'), { timeout: 30_000 });
  await context.setOffline(false);
  const body = JSON.parse((await sent).postData());
  assert.deepEqual(body.events.filter((e) => e.type === 'add_to_cart').map((e) => e.item), [7400000000051, 7400000000052]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('text outside ASCII reaches the engine and the server unchanged', async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${env.server.base}/products/${catalog.products[50].handle}`);
  assert.equal(await settle(page), 'ready');
  // Latin accents (two bytes in UTF-8), CJK (three) and an emoji (a surrogate pair, four), with
  // ASCII before, between and after them: each string crosses into the wasm and back.
  const query = 'tasse à café 日本 ☕🫖 end';
  const sent = page.waitForRequest((r) => isEvents(r) && r.postData().includes('"search"'));
  const event = await page.evaluate((q) => { const e = window.tailor.track('search', { query: q }); window.tailor.flush(); return e; }, query);
  assert.equal(event.query, query, 'the engine returns the query as given');
  const events = JSON.parse((await sent).postData()).events.filter((e) => e.type === 'search');
  assert.deepEqual(events.map((e) => e.query), [query], 'the batch carries it unchanged');
  assert.deepEqual(errors, []);
  await context.close();
});

// The loader tracks the search page's own query. Free text is redacted before it is kept or
// sent: the query as stored in the tab's queue, and as the worker sends it.
test("a search page's query is redacted before it is stored or sent", async () => {
  const context = await testContext(env.browser);
  // The batch hangs unanswered: its events stay in the tab's stored queue meanwhile.
  const bodies = [];
  await context.route(/\/v1\/events$/, (route) => { bodies.push(route.request().postData()); });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const q = 'red mug for jane.doe@example.com 4111 1111 1111 1111';
  const sent = page.waitForRequest((r) => isEvents(r) && r.postData().includes('"search"'));
  await page.goto(`${env.server.base}/search.html?q=${encodeURIComponent(q)}`);
  assert.equal(await settle(page), 'ready');
  const inBatch = JSON.parse((await sent).postData()).events.filter((e) => e.type === 'search');
  const stored = queued(await untilKept(page, (k) => queued(k).some((e) => e.type === 'search'), 'the search stored')).filter((e) => e.type === 'search');
  assert.equal(inBatch.length, 1);
  assert.equal(stored.length, 1);
  for (const { query } of [...inBatch, ...stored]) {
    assert.ok(query.startsWith('red mug for '), query);
    assert.ok(!query.includes('@') && !query.includes('4111'), `redacted: ${query}`);
    assert.ok(query.includes('[redacted]'), query);
  }
  assert.ok(bodies.length >= 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('no unload or beforeunload listener is ever registered', async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__listened = [];
    for (const target of [window, document, EventTarget.prototype]) {
      const original = target.addEventListener;
      target.addEventListener = function (type, ...rest) {
        window.__listened.push(type);
        return original.call(this, type, ...rest);
      };
    }
    window.__onunload = () => window.onunload !== null || window.onbeforeunload !== null;
  });
  await page.goto(`${env.server.base}/products/${catalog.products[51].handle}`);
  assert.equal(await settle(page), 'ready');
  const listened = await page.evaluate(() => window.__listened);
  assert.ok(listened.includes('pagehide'), 'the loader listens to pagehide instead');
  assert.ok(!listened.includes('unload') && !listened.includes('beforeunload'), JSON.stringify(listened));
  assert.equal(await page.evaluate(() => window.__onunload()), false);
  await context.close();
});

test('storage that throws on every call: no uncaught error, and events still arrive', async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const uncaught = [];
  page.on('pageerror', (e) => uncaught.push(e.message));
  await page.addInitScript(() => {
    const fail = () => { throw new DOMException('storage is disabled', 'SecurityError'); };
    for (const m of ['getItem', 'setItem', 'removeItem', 'key', 'clear']) Storage.prototype[m] = fail;
  });
  const arrived = page.waitForResponse((r) => isEvents(r.request()) && r.status() === 200 && r.request().postData().includes('"product_view"'));
  await page.goto(`${env.server.base}/products/${catalog.products[52].handle}`);
  assert.equal(await settle(page), 'ready');
  const res = await arrived;
  const body = await res.json();
  assert.ok(body.accepted >= 1);
  assert.deepEqual(uncaught, []);
  await context.close();
});

test('no storage at all (localStorage, IndexedDB and the Cache API all refused): the page is personalized and its events arrive', async () => {
  const context = await testContext(env.browser);
  // The page's localStorage throws; in the worker, IndexedDB and the Cache API throw too.
  await context.addInitScript(() => {
    const fail = () => { throw new DOMException('storage is disabled', 'SecurityError'); };
    for (const m of ['getItem', 'setItem', 'removeItem', 'key', 'clear']) Storage.prototype[m] = fail;
  });
  await context.route(/\/tailor\.worker\.js$/, async (route) => {
    const res = await route.fetch();
    const blocked = "for(const k of ['indexedDB','caches'])Object.defineProperty(self,k,{get(){throw new DOMException('blocked','SecurityError')}});";
    await route.fulfill({ response: res, body: `${blocked}\n${await res.text()}` });
  });
  const page = await context.newPage();
  const uncaught = [];
  page.on('pageerror', (e) => uncaught.push(e.message));
  const arrived = page.waitForResponse((r) => isEvents(r.request()) && r.status() === 200 && r.request().postData().includes('"add_to_cart"'));
  await page.goto(`${env.server.base}/products/${catalog.products[53].handle}`);
  assert.equal(await settle(page), 'ready');
  assert.ok(await page.evaluate(() => document.querySelectorAll('[data-tailor-slot] .tailor-block').length) > 0, 'the blocks were rendered');
  await page.evaluate((item) => { window.tailor.track('add_to_cart', { item }); window.tailor.flush(); }, catalog.products[53].id);
  assert.ok((await (await arrived).json()).accepted >= 1);
  assert.deepEqual(await page.evaluate(() => indexedDB.databases().then((d) => d.length)), 0, 'nothing was stored');
  assert.deepEqual(uncaught, []);
  await context.close();
});

test('a site with a write key: the tag\'s data-key goes with every batch, which is stored; a page without it is refused', async () => {
  // A second server, from config.example.toml with a write key set.
  const dir = mkdtempSync(path.join(tmpdir(), 'tailor-key-'));
  const config = readFileSync(path.join(ROOT, 'config.example.toml'), 'utf8')
    .replace('addr = "127.0.0.1:8080"', 'addr = "127.0.0.1:0"')
    .replace('db = "tailor.db"', `db = ${JSON.stringify(path.join(dir, 'events.db'))}`)
    .replace('write_key = ""', 'write_key = "pk_test_1"');
  assert.match(config, /write_key = "pk_test_1"/);
  writeFileSync(path.join(dir, 'tailor.toml'), config);
  const server = await startServer(['--config', path.join(dir, 'tailor.toml')]);
  try {
    const handle = catalog.products[54].handle;
    const answers = async (withKey) => {
      const context = await testContext(env.browser);
      if (withKey) {
        await context.route(/\/products\/[^/.]+$/, async (route) => {
          const res = await route.fetch();
          await route.fulfill({ response: res, body: (await res.text()).replace('data-site="demo"', 'data-site="demo" data-key="pk_test_1"') });
        });
      }
      const page = await context.newPage();
      const errors = watchErrors(page);
      const answered = page.waitForResponse((r) => isEvents(r.request()));
      await page.goto(`${server.base}/products/${handle}`);
      assert.equal(await settle(page), 'ready');
      await page.evaluate(() => window.tailor.flush());
      const res = await answered;
      const sent = JSON.parse(res.request().postData());
      const out = { status: res.status(), key: sent.key, errors };
      await context.close();
      return out;
    };
    const before = await eventCounters(server.base);
    const keyed = await answers(true);
    assert.equal(keyed.key, 'pk_test_1');
    assert.equal(keyed.status, 200);
    assert.deepEqual(keyed.errors, []);
    const stored = (await eventCounters(server.base)).accepted - before.accepted;
    assert.ok(stored >= 2, `the keyed page's events were stored (${stored})`);
    const plain = await answers(false);
    assert.equal(plain.key, undefined);
    assert.equal(plain.status, 401);
    assert.equal((await eventCounters(server.base)).accepted - before.accepted, stored, 'nothing more was stored');
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// A sync server behind a proxy's path (`https://shop.example/tailor` → the server's root): the
// endpoint's path names its folder, with or without a trailing slash, and every request stays
// under it, the snapshot's versioned bytes included.
test('an endpoint with a path and no trailing slash keeps every request under that path', async () => {
  const context = await testContext(env.browser);
  const proxied = [];
  await context.route(/\/tailor\/(v1\/.*)$/, async (route) => {
    const url = route.request().url();
    proxied.push(new URL(url).pathname);
    await route.fulfill({ response: await route.fetch({ url: url.replace('/tailor/v1/', '/v1/') }) });
  });
  await context.route(/\/products\/[^/.]+$/, async (route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, body: (await res.text()).replace('data-endpoint="/"', 'data-endpoint="/tailor"') });
  });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const outside = [];
  page.on('request', (r) => { if (/\/v1\//.test(r.url()) && !r.url().includes('/tailor/v1/')) outside.push(r.url()); });
  await page.goto(`${env.server.base}/products/${catalog.products[55].handle}`);
  assert.equal(await settle(page), 'ready');
  await page.evaluate(() => window.tailor.flush());
  await untilKept(page, (k) => !queued(k).length, 'an empty queue');
  assert.ok(proxied.includes('/tailor/v1/snapshot/demo'), `the pointer: ${proxied}`);
  assert.ok(proxied.some((p) => /^\/tailor\/v1\/snapshot\/demo\/\d+$/.test(p)), `the versioned bytes: ${proxied}`);
  assert.ok(proxied.includes('/tailor/v1/events'), `the events: ${proxied}`);
  assert.deepEqual(outside, [], 'nothing outside the endpoint\'s path');
  assert.deepEqual(errors, []);
  await context.close();
});

test('commands pushed before the loader runs and while the engine starts are all carried out', async () => {
  const context = await testContext(env.browser);
  const [before, during] = [catalog.products[12].id, catalog.products[13].id];
  await context.addInitScript(([a, b]) => {
    // Before the loader's script has run, as a theme's inline snippet would. (A purchase whose
    // order id is a number, as most order objects hold it: sent as a string.)
    (window.tailor = window.tailor || []).push(['track', 'add_to_cart', { item: a }]);
    window.tailor.push(['track', 'purchase', { order: 100123, value: 10, lines: [{ item: a, qty: 1, price: 10 }] }]);
    // While it starts: `tailor:loading` comes before the worker's answer and the engine.
    document.addEventListener('tailor:loading', () => {
      (window.tailor = window.tailor || []).push(['track', 'add_to_cart', { item: b }]);
    });
  }, [before, during]);
  const page = await context.newPage();
  const errors = watchErrors(page);
  const events = await recordedEvents(page);
  // The purchases as sent, each time (`events` keeps one event per id).
  const purchases = [];
  page.on('request', (r) => {
    if (isEvents(r)) purchases.push(...JSON.parse(r.postData()).events.filter((e) => e.type === 'purchase'));
  });
  await page.goto(`${env.server.base}/products/${catalog.products[11].handle}`);
  assert.equal(await settle(page), 'ready');
  assert.equal(await page.evaluate(() => typeof window.tailor.track), 'function', 'window.tailor is the API once ready');
  await page.evaluate(() => window.tailor.flush());
  const carts = async () => (await events()).filter((e) => e.type === 'add_to_cart').map((e) => e.item).sort();
  for (let end = Date.now() + 10_000; (await carts()).length < 2 && Date.now() < end;) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(await carts(), [before, during].sort());
  // The same order tracked again with its id as a string is the same event (one id), stored once.
  const twin = await page.evaluate((a) => window.tailor.track('purchase', { order: '100123', value: 10, lines: [{ item: a, qty: 1, price: 10 }] }).id, before);
  // An order id that is neither (`true`) is refused, not sent as the same text for everyone.
  const refused = await page.evaluate((a) => { try { window.tailor.track('purchase', { order: true, value: 1, lines: [{ item: a }] }); return null; } catch (e) { return e.code; } }, before);
  assert.equal(refused, 'INVALID_EVENT');
  await page.evaluate(() => window.tailor.flush());
  for (let end = Date.now() + 10_000; purchases.length < 2 && Date.now() < end;) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(purchases.map((e) => [e.order, e.id]), [['100123', twin], ['100123', twin]]);
  assert.deepEqual(errors, []);
  await context.close();
});
