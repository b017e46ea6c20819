// Delivery under network faults, in a real Chromium against a real `tailor serve`: an endpoint
// that is down for ten (simulated) minutes across reloads, a request black-holed at navigation,
// and two tabs open at once. The server's own counters prove each id is stored exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serverAndBrowser, watchErrors, testContext, ROOT, settle, kept, queued, untilKept } from './harness.mjs';

const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));

const env = serverAndBrowser();


/** The server's event counters from /metrics. */
async function counters() {
  const text = await (await fetch(`${env.server.base}/metrics`)).text();
  const read = (name) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { accepted: read('tailor_events_accepted_total'), duplicate: read('tailor_events_duplicate_total') };
}

/** Ids of every event a context's pages recorded (from the requests they made). */
function watchSends(context) {
  const attempts = [];
  const stored = new Map(); // id -> times acknowledged
  context.on('request', (r) => {
    if (r.url().endsWith('/v1/events') && r.method() === 'POST') attempts.push(JSON.parse(r.postData()).events.map((e) => e.id));
  });
  context.on('response', (r) => {
    if (r.url().endsWith('/v1/events') && r.status() === 200) {
      for (const e of JSON.parse(r.request().postData()).events) stored.set(e.id, (stored.get(e.id) || 0) + 1);
    }
  });
  return { attempts, stored };
}

test('the endpoint down for ten simulated minutes across two reloads: every event arrives, stored once', async () => {
  const before = await counters();
  const context = await testContext(env.browser);
  await context.clock.install({ time: new Date('2026-11-25T10:00:00Z') });
  const { attempts, stored } = watchSends(context);
  let down = true;
  let failures = 0;
  // Resolves once the endpoint has refused more than `n` attempts (the route's own count).
  let heard = () => {};
  const refusedMoreThan = (n) => new Promise((resolve) => {
    heard = () => { if (failures > n) resolve(); };
    heard();
  });
  await context.route(/\/v1\/events$/, async (route) => {
    if (!down) return route.continue();
    failures += 1;
    heard();
    // Alternate a dropped connection and a 503 with Retry-After.
    if (failures % 2) return route.abort('connectionreset');
    return route.fulfill({ status: 503, headers: { 'retry-after': '5' }, contentType: 'application/json', body: '{"error":{"code":"STORAGE_UNAVAILABLE","message":"down"}}' });
  });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const recorded = new Set();
  const remember = async () => {
    for (const e of queued(await kept(page))) recorded.add(e.id);
  };
  // Three page loads, 4 + 4 + 2 minutes apart, all while the endpoint is down.
  for (const [k, minutes] of [[0, '04:00'], [1, '04:00'], [2, '02:00']]) {
    if (k === 0) await page.goto(`${env.server.base}/products/${catalog.products[k].handle}`);
    else await page.reload();
    assert.equal(await settle(page), 'ready');
    await page.evaluate((item) => window.tailor.track('add_to_cart', { item }), catalog.products[k].id);
    await remember();
    const refused = failures;
    await context.clock.runFor(minutes.split(':').reduce((m, s) => Number(m) * 60_000 + Number(s) * 1000));
    // The send the clock started goes out in real time: the next load waits for it, so that
    // the navigation does not cancel it before the endpoint sees it.
    await refusedMoreThan(refused);
    await remember();
  }
  // (Under the simulated clock each retry waits for the previous answer, so the count is low.)
  assert.ok(failures >= 3, `the page kept retrying while down (${failures} attempts)`);
  assert.ok(recorded.size >= 9, `page views, product views and add-to-carts of three loads: ${recorded.size}`);
  assert.equal(stored.size, 0, 'nothing was acknowledged while down');
  // Back up: within the 60 s backoff cap everything goes.
  down = false;
  const everything = page.waitForResponse((r) => r.url().endsWith('/v1/events') && r.status() === 200);
  await context.clock.runFor(61_000);
  await everything;
  await untilKept(page, (k) => !queued(k).length, 'an empty queue');
  for (const id of recorded) assert.ok(stored.has(id), `${id} arrived after recovery`);
  assert.ok(attempts.length > failures, 'sent again after recovery');
  const after = await counters();
  assert.equal(after.accepted - before.accepted, recorded.size, 'the server stored each id exactly once');
  assert.deepEqual(errors.filter((e) => !/503|ERR_CONNECTION_RESET|Failed to load resource/.test(e)), []);
  await context.close();
});

test('a request black-holed at navigation is sent again, with the same ids, from the next page', async () => {
  const context = await testContext(env.browser);
  // Every send that does not come from the second page (a collection page) hangs without an
  // answer: the first page's fetch, and its beacon at pagehide too. Once the second page is
  // ready, everything goes (the first page's queue may reach the second page's worker at once,
  // or after 10 s without a heartbeat, when the first page's last write did not land).
  const blackholed = [];
  let holding = true;
  await context.route(/\/v1\/events$/, (route) => {
    const body = route.request().postData() || '';
    if (!holding || body.includes('"page":"collection"')) return route.continue();
    blackholed.push(...JSON.parse(body).events.map((e) => e.id));
    return undefined;
  });
  const a = await context.newPage();
  await a.goto(`${env.server.base}/products/${catalog.products[50].handle}`);
  assert.equal(await settle(a), 'ready');
  const inFlight = a.waitForRequest((r) => r.url().endsWith('/v1/events'));
  await a.evaluate(() => window.tailor.flush());
  const sent = JSON.parse((await inFlight).postData()).events.map((e) => e.id);
  assert.ok(sent.length >= 2, 'page_view and product_view were in flight');
  // Navigate while the request hangs; the next page delivers the same ids.
  const stored = new Set();
  const delivered = new Promise((resolve) => {
    context.on('response', (r) => {
      if (!r.url().endsWith('/v1/events') || r.status() !== 200) return;
      for (const e of JSON.parse(r.request().postData()).events) stored.add(e.id);
      if (sent.every((id) => stored.has(id))) resolve();
    });
  });
  await a.goto(`${env.server.base}/collection.html`);
  assert.equal(await settle(a), 'ready');
  holding = false;
  await delivered;
  for (const id of sent) assert.ok(blackholed.includes(id), `${id} was black-holed first`);
  await context.close();
});

// The worker keeps the queue, and the page keeps the copy it sends back after each change. An
// event the page has just handed over is not in that copy yet: the page holds it apart until the
// copy that includes it arrives, so leaving at once still sends it by beacon and keeps it for
// the next page. (The event and the page's leaving run in one task here, so no copy can arrive
// between them.)
test('an event tracked as the page leaves goes by beacon and stays in the tab\'s stored queue', async () => {
  const context = await testContext(env.browser);
  // The worker's sends hang: only a beacon can carry the event.
  await context.route(/\/v1\/events$/, (route) => (route.request().resourceType() === 'fetch' ? undefined : route.continue()));
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${env.server.base}/products/${catalog.products[60].handle}`);
  assert.equal(await settle(page), 'ready');
  const beacon = page.waitForRequest((r) => r.url().endsWith('/v1/events') && r.resourceType() !== 'fetch' && r.postData().includes('"leaving"'));
  const id = await page.evaluate(() => {
    const e = window.tailor.track('diagnostic', { code: 'leaving' });
    dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    return e.id;
  });
  const carried = JSON.parse((await beacon).postData());
  assert.equal(carried.site, 'demo');
  assert.ok(carried.events.some((e) => e.id === id), 'the beacon carried the event');
  assert.ok(carried.events.some((e) => e.type === 'product_view'), 'and the events the worker had not sent');
  await untilKept(page, (k) => queued(k).some((e) => e.id === id), 'the event in the tab\'s stored queue');
  assert.deepEqual(errors, []);
  await context.close();
});

// The sync server always answers JSON. An endpoint that answers a page instead (a storefront's
// catch-all route, a proxy's error page) has not stored anything, whatever its status says.
test('an answer that is not the sync server\'s JSON keeps the batch queued, and it goes again', async () => {
  const context = await testContext(env.browser);
  // The first send gets a store's HTML page with 200, the next one with 404; then the server.
  const statuses = [200, 404];
  const answeredByPage = [];
  await context.route(/\/v1\/events$/, (route) => {
    if (!statuses.length) return route.continue();
    answeredByPage.push(...JSON.parse(route.request().postData()).events.map((e) => e.id));
    return route.fulfill({ status: statuses.shift(), contentType: 'text/html', body: '<!doctype html><title>Our store</title><p>Welcome</p>' });
  });
  const stored = new Set();
  let timer;
  const delivered = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`not sent again after the HTML answers: ${answeredByPage.filter((id) => !stored.has(id))}`)), 30_000);
    context.on('response', async (r) => {
      if (!r.url().endsWith('/v1/events') || r.status() !== 200 || !(r.headers()['content-type'] || '').includes('json')) return;
      for (const e of JSON.parse(r.request().postData()).events) stored.add(e.id);
      if (!statuses.length && answeredByPage.every((id) => stored.has(id))) resolve();
    });
  });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${env.server.base}/products/${catalog.products[65].handle}`);
  assert.equal(await settle(page), 'ready');
  await page.evaluate((item) => window.tailor.track('add_to_cart', { item }), catalog.products[65].id);
  await page.evaluate(() => window.tailor.flush());
  await delivered.finally(() => clearTimeout(timer));
  assert.ok(answeredByPage.length >= 2, `the HTML pages answered real events (${answeredByPage.length})`);
  await untilKept(page, (k) => !queued(k).length, 'an empty queue');
  assert.deepEqual(await page.evaluate(() => window.tailor.dropped()), { overflow: 0, rateLimited: 0, oversized: 0, rejected: 0, expired: 0 }, 'nothing dropped');
  assert.deepEqual(errors.filter((e) => !/404|Failed to load resource/.test(e)), []);
  await context.close();
});

test('two tabs open at once: each event is sent by exactly one of them', async () => {
  const context = await testContext(env.browser);
  const pages = [await context.newPage(), await context.newPage()];
  const byTab = pages.map((p) => {
    const ids = [];
    p.on('request', (r) => { if (r.url().endsWith('/v1/events')) ids.push(...JSON.parse(r.postData()).events.map((e) => e.id)); });
    return ids;
  });
  await Promise.all(pages.map((p, k) => p.goto(`${env.server.base}/products/${catalog.products[60 + k].handle}`)));
  for (const p of pages) assert.equal(await settle(p), 'ready');
  for (const [k, p] of pages.entries()) {
    for (let i = 0; i < 5; i += 1) await p.evaluate((item) => window.tailor.track('add_to_cart', { item }), catalog.products[70 + i + 5 * k].id);
  }
  for (const p of pages) {
    await p.evaluate(() => window.tailor.flush());
    await untilKept(p, (k) => !queued(k).length, 'an empty queue');
  }
  const [a, b] = byTab.map((ids) => new Set(ids));
  assert.ok(a.size >= 7 && b.size >= 7, `each tab sent its own events (${a.size}, ${b.size})`);
  for (const id of a) assert.ok(!b.has(id), `${id} sent by one tab only`);
  await context.close();
});

test('overflowing the queue keeps the newest 1,000 events and the drop count reaches the server', async () => {
  const read = async () => Number(/^tailor_device_events_dropped_total (\d+)/m.exec(await (await fetch(`${env.server.base}/metrics`)).text())[1]);
  const droppedBefore = await read();
  const context = await testContext(env.browser);
  await context.clock.install({ time: new Date('2026-11-25T12:00:00Z') });
  let down = true;
  const { stored } = watchSends(context);
  await context.route(/\/v1\/events$/, (route) => (down ? route.abort('connectionreset') : route.continue()));
  const page = await context.newPage();
  await page.goto(`${env.server.base}/collection.html`);
  assert.equal(await settle(page), 'ready');
  // 1,100 add-to-carts, in bursts of 100 ten simulated seconds apart (the page's rate limit is
  // 10 a second with a burst of 100, so none is refused for the rate).
  const ids = [];
  await context.clock.runFor(10_000); // the page's own events used part of the first burst
  // A batch in flight is never dropped (its answer is pending), so older events would stay. The
  // page's first batch fails (its answer comes in real time, its retry is set in the page's
  // simulated time); then the device is offline, and no batch goes while the queue fills.
  await page.waitForFunction(() => window.tailor.queue.retryAt() > Date.now());
  await context.setOffline(true);
  for (let burst = 0; burst < 11; burst += 1) {
    ids.push(...await page.evaluate((n) => Array.from({ length: 100 }, (_, i) => window.tailor.track('add_to_cart', { item: 7400000000001 + ((n + i) % 40) }).id), burst * 100));
    await context.clock.runFor(10_000);
  }
  // (The counts are the worker's, as its last copy of the queue told the page: only the last
  // burst takes the overflow past 100.)
  await page.waitForFunction(() => window.tailor.queue.queued === 1000 && window.tailor.dropped().overflow >= 100);
  const dropped = await page.evaluate(() => window.tailor.dropped());
  assert.equal(dropped.rateLimited, 0);
  assert.ok(dropped.overflow >= 100, `overflow counted: ${JSON.stringify(dropped)}`);
  // (Saved through the worker: the last burst's save may still be on its way.)
  const waiting = (await untilKept(page, (k) => queued(k).length === 1000 && queued(k).some((e) => e.id === ids.at(-1)), 'the newest 1,000 events stored'));
  const kept1000 = queued(waiting).map((e) => e.id);
  assert.equal(kept1000.length, 1000, 'the queue holds 1,000 events');
  for (const id of ids.slice(-900)) assert.ok(kept1000.includes(id), 'the newest are kept');
  assert.ok(!kept1000.includes(ids[0]), 'the oldest went first');
  // Back up: everything kept is delivered, and the count of dropped events is reported.
  down = false;
  await context.setOffline(false);
  await context.clock.runFor(61_000);
  // Several 64 KB batches, each sent a simulated second after the last one's answer.
  const empty = async () => !queued(await kept(page)).length;
  for (let i = 0; i < 500 && !(await empty()); i += 1) await context.clock.runFor(1_000);
  assert.ok(await empty(), 'the queue drained');
  for (const id of kept1000) assert.ok(stored.has(id));
  assert.equal(await read() - droppedBefore, dropped.overflow);
  await context.close();
});

test('an idle page runs no task of ours: its worker keeps the heartbeat every 3 s, and the next event is sent', async () => {
  const context = await testContext(env.browser);
  // Every timer callback of the page (ours are the only script on it) is counted.
  await context.addInitScript(() => {
    window.__fired = 0;
    for (const name of ['setTimeout', 'setInterval']) {
      const original = window[name];
      window[name] = function (f, ...rest) {
        return original.call(this, typeof f === 'function' ? function (...args) { window.__fired++; return f.apply(this, args); } : f, ...rest);
      };
    }
  });
  const { attempts } = watchSends(context);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${env.server.base}/products/${catalog.products[90].handle}`);
  assert.equal(await settle(page), 'ready');
  // The page view's events go in the first batch, a second later; then the queue is empty.
  await page.waitForFunction(() => window.tailor.queue.queued === 0);
  assert.equal(attempts.length, 1);
  // The next heartbeats (the `tailor:alive:` time the worker writes for the tab every 3 s), each
  // seen with the page's timer callbacks and our later tasks so far. The first may be the
  // queue's save after the answer, which beats too; from the second on they are the worker's.
  const page_ = () => page.evaluate(() => ({ fired: window.__fired, spans: performance.getEntriesByName('tailor:later', 'measure').map((m) => m.detail) }));
  const beat = async (after) => {
    const keys = await untilKept(page, (k) => Object.entries(k).some(([key, at]) => key.startsWith('tailor:alive:') && Number(at) > after), 'a heartbeat', 10_000);
    const at = Math.max(...Object.entries(keys).filter(([key]) => key.startsWith('tailor:alive:')).map(([, v]) => Number(v)));
    return { at, ...(await page_()) };
  };
  const first = await beat(0);
  const second = await beat(first.at);
  const third = await beat(second.at);
  // Between two heartbeats: no timer callback and no task of ours on the page. A queue polled
  // every second, a heartbeat on the page, or any other timer of ours would show here.
  assert.ok(third.at - second.at >= 2500, `heartbeats ${third.at - second.at} ms apart`);
  assert.equal(third.fired - second.fired, 0, 'no timer callback of ours between two idle heartbeats');
  assert.deepEqual(third.spans.slice(second.spans.length), []);
  assert.equal(attempts.length, 1, 'nothing was sent');
  // An event after the pause is sent.
  const sent = page.waitForRequest((r) => r.url().endsWith('/v1/events'));
  await page.evaluate((item) => window.tailor.track('add_to_cart', { item }), catalog.products[91].id);
  await sent;
  assert.equal(attempts.length, 2);
  assert.equal(attempts[1].length, 1);
  assert.deepEqual(errors, []);
  await context.close();
});
