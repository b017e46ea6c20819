// The first vertical slice, end to end: the demo collection page served by a real
// `tailor serve`, the loader and the wasm engine in a real Chromium, the order from tailor-core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { serverAndBrowser, watchErrors, decodeSnapshot, testContext, ROOT, untilTrue } from './harness.mjs';

const env = serverAndBrowser();

const GRID_IDS = () =>
  [...document.querySelectorAll('ul#product-grid > li.grid__item [id^="CardLink-"]')].map((a) =>
    a.id.split('-').pop(),
  );

/**
 * Open the collection page with the loader held back until the test has captured the theme's
 * original grid nodes; then let it run and wait for the engine to report.
 */
async function openCollection(context) {
  const page = await context.newPage();
  const errors = watchErrors(page);
  const wasmResponses = [];
  page.on('response', (r) => { if (r.url().endsWith('.wasm')) wasmResponses.push(r); });
  // Capture the theme's grid nodes before the loader can touch them: this listener is added
  // before any page script runs, and the loader waits for DOMContentLoaded too.
  await page.addInitScript((fn) => {
    // What the loader reports when it gives up (`tailor:failed`'s detail: code and message).
    document.addEventListener('tailor:failed', (e) => { window.__failed = e.detail; });
    document.addEventListener('DOMContentLoaded', () => {
      window.__originalCards = [...document.querySelectorAll('ul#product-grid > li')];
      window.__originalIds = new Function(`return (${fn})()`)();
    });
  }, GRID_IDS.toString());
  await page.goto(`${env.server.base}/collection.html`, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => Array.isArray(window.__originalIds));
  const original = await page.evaluate(() => window.__originalIds);
  await page.waitForFunction(() => ['ready', 'failed'].includes(document.documentElement.dataset.tailor));
  const state = await page.evaluate(() => document.documentElement.dataset.tailor);
  return { page, errors, original, state, wasmResponses };
}

function expectedOrder(ids, snapshot) {
  // Descending score, unknown items last, ties in the theme's order (a stable sort).
  const score = (id) => (snapshot.scores.has(id) ? snapshot.scores.get(id) : -1);
  return ids
    .map((id, ix) => ({ id, ix }))
    .sort((a, b) => score(b.id) - score(a.id) || a.ix - b.ix)
    .map((x) => x.id);
}

async function currentSnapshot() {
  const pointer = await fetch(`${env.server.base}/v1/snapshot/demo`);
  assert.equal(pointer.status, 200);
  const { url } = await pointer.json();
  const res = await fetch(`${env.server.base}${url}`);
  assert.equal(res.status, 200);
  return decodeSnapshot(await res.arrayBuffer());
}

test('the engine reorders the Dawn grid by tailor-core scores, moving the same nodes', async () => {
  const context = await testContext(env.browser);
  const { page, errors, original, state, wasmResponses } = await openCollection(context);
  assert.equal(state, 'ready', `the engine did not start; page errors: ${errors.join('; ')}`);

  const snapshot = await currentSnapshot();
  const want = expectedOrder(original, snapshot);
  assert.notDeepEqual(want, original, 'the fixture must need a reorder for this test to mean anything');
  const got = await page.evaluate(`(${GRID_IDS})()`);
  assert.deepEqual(got, want);

  // A permutation of the very same nodes, not a rebuild.
  const identity = await page.evaluate(() => {
    const now = [...document.querySelectorAll('ul#product-grid > li')];
    return {
      sameCount: now.length === window.__originalCards.length,
      allOriginal: now.every((n) => window.__originalCards.includes(n)),
      distinct: new Set(now).size === now.length,
    };
  });
  assert.deepEqual(identity, { sameCount: true, allOriginal: true, distinct: true });

  // The wasm came once, as application/wasm (streaming compilation: tests/e2e/warm.test.mjs).
  assert.equal(wasmResponses.length, 1);
  assert.equal(wasmResponses[0].headers()['content-type'], 'application/wasm');

  assert.deepEqual(errors, []);
  await context.close();
});

test('product views stored by the server change the order on the next page view', async () => {
  const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));
  const context = await testContext(env.browser);
  const first = await openCollection(context);
  assert.equal(first.state, 'ready');
  const before = await first.page.evaluate(`(${GRID_IDS})()`);
  const target = before[before.length - 1]; // the lowest-ranked card
  assert.notEqual(before[0], target);

  // Enough views of the last card to outweigh the most popular product.
  const maxPopularity = Math.max(...catalog.products.map((p) => p.popularity));
  const events = Array.from({ length: maxPopularity + 1 }, (_, i) => ({
    id: crypto.randomUUID(), type: 'product_view', item: Number(target),
    shopper: 'e2e-shopper', session: 'e2e-session', ts: 1_700_000_000_000 + i,
  }));
  const res = await fetch(`${env.server.base}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ site: 'demo', events }),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).accepted, events.length);
  // The stored views reach shoppers with the next snapshot version.
  assert.match(env.server.buildSnapshot(), /snapshot version 2 /);

  // A new shopper gets it at once. (A returning one decides from the cached version and picks
  // the new one up in the background: see the cache test.)
  const fresh = await testContext(env.browser);
  const second = await openCollection(fresh);
  assert.equal(second.state, 'ready');
  const after = await second.page.evaluate(`(${GRID_IDS})()`);
  assert.equal(after[0], target);
  assert.deepEqual(after, expectedOrder(second.original, await currentSnapshot()));
  assert.deepEqual([...first.errors, ...second.errors], []);
  await context.close();
  await fresh.close();
});

test('a corrupt snapshot leaves the page exactly as the theme rendered it', async () => {
  const context = await testContext(env.browser);
  // Corrupt the snapshot bytes (the versioned URL), not the pointer.
  await context.route(/\/v1\/snapshot\/demo\/\d+(\?|$)/, async (route) => {
    const res = await route.fetch();
    const body = Buffer.from(await res.body());
    body[body.length - 1] ^= 0xff; // break the checksum
    await route.fulfill({ response: res, body });
  });
  const { page, errors, original, state } = await openCollection(context);
  assert.equal(state, 'failed');
  assert.equal((await page.evaluate(() => window.__failed)).code, 'SNAPSHOT_CHECKSUM');
  assert.deepEqual(await page.evaluate(`(${GRID_IDS})()`), original);
  assert.deepEqual(errors, [], 'fail open: no console errors and no uncaught errors');
  await context.close();
});

// The Cache API keeps the snapshot for returning shoppers and revalidates it by its ETag: a
// copy damaged on the device would be confirmed by every 304. It is dropped when the engine
// cannot read it, so only one page view fails.
test('a damaged snapshot in the Cache API is dropped, and the next page view downloads it again', async () => {
  const context = await testContext(env.browser);
  const first = await openCollection(context);
  assert.equal(first.state, 'ready');
  const pointer = `${env.server.base}/v1/snapshot/demo`;
  const cached = (url) => caches.open('tailor-snapshots-v1').then((c) => c.match(url)).then(Boolean);
  await untilTrue(first.page, cached, pointer, 'the snapshot in the Cache API');
  // Flip the last byte (the checksum's) of the cached copy, keeping its ETag and version.
  await first.page.evaluate(async (url) => {
    const c = await caches.open('tailor-snapshots-v1');
    const r = await c.match(url);
    const bytes = new Uint8Array(await r.arrayBuffer());
    bytes[bytes.length - 1] ^= 0xff;
    await c.put(url, new Response(bytes, { headers: r.headers }));
  }, pointer);
  await first.page.close();
  const second = await openCollection(context);
  assert.equal(second.state, 'failed');
  assert.equal((await second.page.evaluate(() => window.__failed)).code, 'SNAPSHOT_CHECKSUM');
  assert.deepEqual(await second.page.evaluate(`(${GRID_IDS})()`), second.original, 'left as rendered');
  await untilTrue(second.page, (url) => caches.open('tailor-snapshots-v1').then((c) => c.match(url)).then((r) => !r), pointer, 'the damaged copy to be dropped');
  await second.page.close();
  const third = await openCollection(context);
  assert.equal(third.state, 'ready', 'downloaded again');
  assert.deepEqual([...first.errors, ...second.errors, ...third.errors], []);
  await context.close();
});

test('a snapshot pointer that answers a store\'s page fails open once, with a precise error', async () => {
  const context = await testContext(env.browser);
  await context.route(/\/v1\/snapshot\/demo$/, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Our store</title>' }));
  // (Requests, not responses: the worker's download may be cut short when the page ends it.)
  const wasmRequests = [];
  context.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmRequests.push(r.url()); });
  const { page, errors, original, state } = await openCollection(context);
  assert.equal(state, 'failed');
  const failed = await page.evaluate(() => window.__failed);
  assert.equal(failed.code, 'SNAPSHOT_UNAVAILABLE');
  assert.match(failed.message, /snapshot pointer http:\/\/[^ ]+\/v1\/snapshot\/demo did not answer/);
  assert.deepEqual(await page.evaluate(`(${GRID_IDS})()`), original);
  // Our own error: the page does not try again without a worker (a second download).
  assert.equal(wasmRequests.length, 1, `the wasm was requested once: ${wasmRequests}`);
  assert.deepEqual(errors, []);
  await context.close();
});

// Without an engine (no snapshot to be had, or one it cannot read) the page is left as rendered,
// but the event queue still runs in the worker: the page view, a command queued before the
// loader ran and a call made afterwards all reach the server, where a lost `purchase` would be
// revenue the reports never see.
test('when the engine cannot start, the page stays as rendered and its events still reach the server', async () => {
  // (A sync server that never answers: released when the test ends.)
  let release;
  const never = new Promise((resolve) => { release = resolve; });
  const cases = [
    ['SNAPSHOT_UNAVAILABLE', /snapshot pointer .* answered HTTP 503/, (context) => context.route(/\/v1\/snapshot\/demo$/, (route) => route.fulfill({ status: 503, body: '' }))],
    ['SNAPSHOT_CHECKSUM', /checksum/, (context) => context.route(/\/v1\/snapshot\/demo\/\d+(\?|$)/, async (route) => {
      const res = await route.fetch();
      const body = Buffer.from(await res.body());
      body[body.length - 1] ^= 0xff;
      await route.fulfill({ response: res, body });
    })],
    // The same without a worker (data-worker="off": the worker's file runs on the page).
    ['SNAPSHOT_UNAVAILABLE', /snapshot pointer .* answered HTTP 503/, async (context) => {
      await context.route(/\/v1\/snapshot\/demo$/, (route) => route.fulfill({ status: 503, body: '' }));
      await context.route(/\/collection\.html$/, async (route) => {
        const res = await route.fetch();
        const body = (await res.text()).replace('data-site="demo"', 'data-site="demo" data-worker="off"');
        assert.ok(body.includes('data-worker="off"'));
        await route.fulfill({ response: res, body });
      });
    }],
    // A sync server the browser cannot reach for the snapshot (down, or refused by the network):
    // the browser's TypeError is ours, unavailable, and the events stay queued until it is back.
    ['SNAPSHOT_UNAVAILABLE', /snapshot could not be downloaded from http:\/\/[^ ]+ \(Failed to fetch\)/, (context) => context.route(/\/v1\/snapshot\/demo$/, (route) => route.abort('connectionrefused'))],
    // The page waits 5 s for a snapshot it has to download, then goes on without one; the
    // download goes on, and the next page finds it cached.
    ['SNAPSHOT_UNAVAILABLE', /did not arrive within 5 s/, (context) => context.route(/\/v1\/snapshot\/demo$/, async (route) => { await never; await route.continue(); })],
  ];
  for (const [code, message, breakIt] of cases) {
    const context = await testContext(env.browser);
    await breakIt(context);
    // (No run of 13 digits: one that passes the Luhn check is redacted as a card number.)
    const order = `T-${code}-${crypto.randomUUID().slice(0, 8)}`;
    await context.addInitScript((o) => {
      (window.tailor = window.tailor || []).push(['track', 'purchase', { order: o, value: 10, lines: [{ item: 1, qty: 1, price: 10 }] }]);
    }, order);
    // The events the server accepted (answered 200), as sent.
    const stored = [];
    context.on('response', (r) => {
      if (r.url().endsWith('/v1/events') && r.request().method() === 'POST' && r.status() === 200) {
        try { stored.push(...JSON.parse(r.request().postData()).events); } catch { /* a beacon */ }
      }
    });
    const { page, errors, original, state } = await openCollection(context);
    assert.equal(state, 'failed', code);
    const failed = await page.evaluate(() => window.__failed);
    assert.equal(failed.code, code);
    assert.match(failed.message, message);
    assert.deepEqual(await page.evaluate(`(${GRID_IDS})()`), original, `${code}: left as rendered`);
    // The API is there for the queue's calls; the engine's reject with the reason.
    const calls = await page.evaluate(async (item) => {
      const t = window.tailor;
      t.track('add_to_cart', { item: Number(item) });
      t.flush();
      const why = (p) => p.then(() => 'resolved', (e) => e.code);
      return { ready: await why(t.ready()), recommend: await why(t.recommend({ placement: 'for-you', n: 4 })) };
    }, original[0]);
    assert.deepEqual(calls, { ready: code, recommend: code });
    // A single-page navigation is a page view too: the loader's listeners are set.
    await page.evaluate(() => { history.pushState({}, '', '/search?q=mug'); window.tailor.flush(); });
    const pageViews = () => stored.filter((e) => e.type === 'page_view').map((e) => e.page);
    for (let end = Date.now() + 15_000; Date.now() < end && !(stored.some((e) => e.type === 'add_to_cart') && stored.some((e) => e.type === 'purchase') && pageViews().length > 1);) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const types = stored.map((e) => e.type);
    assert.deepEqual(pageViews(), ['collection', 'search'], `${code}: the page views were stored: ${types}`);
    assert.equal(stored.find((e) => e.type === 'purchase')?.order, order, `${code}: the queued purchase was stored: ${types}`);
    assert.equal(stored.find((e) => e.type === 'add_to_cart')?.item, Number(original[0]), `${code}: the later call was stored: ${types}`);
    // (On the page, the browser logs the 503 it was answered itself: not an error of ours.)
    assert.deepEqual(errors.filter((e) => !/Failed to load resource: (the server responded with a status of 503|net::ERR_CONNECTION_REFUSED)/.test(e)), [], code);
    if (String(message).includes('did not arrive')) {
      release();
      const pointer = `${env.server.base}/v1/snapshot/demo`;
      await untilTrue(page, (url) => caches.open('tailor-snapshots-v1').then((c) => c.match(url)).then(Boolean), pointer, 'the late snapshot in the Cache API');
    }
    await context.close();
  }
  release();
});

/**
 * Serve the demo store from the merchant's own origin, with `tag` pasted in: a second real
 * HTTP server on another loopback port (a different origin from `tailor serve`), which sends
 * the demo's pages and assets as a theme would.
 */
async function openOnShopOrigin(context, tag) {
  const shop = http.createServer(async (req, res) => {
    const upstream = await fetch(`${env.server.base}${req.url}`);
    let body = Buffer.from(await upstream.arrayBuffer());
    if (req.url === '/collection.html') {
      body = Buffer.from(
        body.toString('utf8').replace(/<script async src="\/tailor\.js"[^>]*><\/script>/, tag),
      );
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') });
    res.end(body);
  });
  await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${shop.address().port}`;
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${origin}/collection.html`);
  await page.waitForFunction(() => ['ready', 'failed'].includes(document.documentElement.dataset.tailor));
  const state = await page.evaluate(() => document.documentElement.dataset.tailor);
  return { page, errors, state, origin, close: () => new Promise((r) => shop.close(r)) };
}

test('the pasted tag works on a store on another origin', async () => {
  const context = await testContext(env.browser);
  // No data-endpoint: it defaults to the server the script came from.
  const { page, errors, state, origin, close } = await openOnShopOrigin(
    context,
    `<script async src="${env.server.base}/tailor.js" data-site="demo"></script>`,
  );
  assert.equal(state, 'ready', `the engine did not start; errors: ${errors.join('; ')}`);
  assert.equal(await page.evaluate(() => location.origin), origin);
  assert.notEqual(origin, env.server.base);
  const got = await page.evaluate(`(${GRID_IDS})()`);
  const html = await (await fetch(`${env.server.base}/collection.html`)).text();
  const theme = [...html.matchAll(/id="CardLink-[^"]*-(\d+)"/g)].map((m) => m[1]);
  assert.deepEqual(got, expectedOrder(theme, await currentSnapshot()));
  assert.deepEqual(errors, []);
  await context.close();
  await close();
});

test('a malformed data-endpoint fails open without an uncaught error', async () => {
  const context = await testContext(env.browser);
  const { page, errors, state, close } = await openOnShopOrigin(
    context,
    `<script async src="${env.server.base}/tailor.js" data-site="demo" data-endpoint="http://["></script>`,
  );
  assert.equal(state, 'failed');
  const html = await (await fetch(`${env.server.base}/collection.html`)).text();
  const theme = [...html.matchAll(/id="CardLink-[^"]*-(\d+)"/g)].map((m) => m[1]);
  assert.deepEqual(await page.evaluate(`(${GRID_IDS})()`), theme);
  assert.deepEqual(errors, []);
  await context.close();
  await close();
});
