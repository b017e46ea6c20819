// Theme adapters on markup the demo pages do not have: Dawn's default recommendation
// positions, a theme only the site config's selectors describe, and a page nothing recognises.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serverAndBrowser, startServer, watchErrors, testContext, recordedEvents, settle, kept, keep, queued, untilKept, untilTrue, ROOT } from './harness.mjs';

const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));
const bags = catalog.products.filter((p) => p.category === 'Bags');
const others = catalog.products.filter((p) => p.category !== 'Bags');

const env = serverAndBrowser();
/** A `tailor serve` of its own for the demo site, with `site` (TOML lines) in its config. */
function serverWith(site) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tailor-configured-'));
  const config = path.join(dir, 'tailor.toml');
  writeFileSync(config, [
    'addr = "127.0.0.1:0"',
    `db = ${JSON.stringify(path.join(dir, 'events.db'))}`,
    'rebuild_every_secs = 0',
    '[site]',
    'key = "demo"',
    ...site,
    '',
  ].join('\n'));
  return startServer(['--config', config]);
}

let configured;
before(async () => {
  configured = await serverWith(['[site.adapter]', 'grid = "div.catalog-list"', 'card = "article.tile"', 'id_attribute = "data-pid"']);
});
after(() => configured?.stop());

const HEAD = (extra = '') => `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/tailor-antiflicker.css">
<script async src="/tailor.js" data-site="demo" data-endpoint="/" ${extra}></script></head>`;

/** Serve `html` at `url` on the server's origin (the loader, snapshot and events stay real). */
async function page(context, url, html) {
  await context.route(url, (route) => route.fulfill({ contentType: 'text/html', body: html }));
  const p = await context.newPage();
  const errors = watchErrors(p);
  const events = await recordedEvents(p);
  await p.goto(url);
  return { p, errors, events, state: await settle(p) };
}

test("Dawn's <product-recommendations> is the default position of the similar block", async () => {
  const context = await testContext(env.browser);
  const product = bags[0];
  const html = `${HEAD()}<body><main>
    <product-info data-product-id="${product.id}"><h1>${product.title}</h1></product-info>
    <product-recommendations class="related-products" data-url="/recommendations/products?product_id=${product.id}"></product-recommendations>
  </main></body></html>`;
  const { p, errors, state } = await page(context, `${env.server.base}/products/dawn-default-slot`, html);
  assert.equal(state, 'ready');
  const read = () => p.evaluate(() => {
    const slots = [...document.querySelectorAll('[data-tailor-slot]')];
    const theirs = document.querySelector('product-recommendations');
    return {
      slots: slots.map((s) => [s.dataset.tailorSlot, s.dataset.tailorDefault, s.nextElementSibling === theirs]),
      items: [...document.querySelectorAll('[data-tailor-slot] [data-tailor-item]')].map((n) => Number(n.dataset.tailorItem)),
      theirsHidden: theirs.hidden,
    };
  });
  const first = await read();
  assert.deepEqual(first.slots, [['similar', 'product-recommendations', true]]);
  assert.equal(first.items.length, 4);
  assert.ok(!first.items.includes(product.id), 'the product itself is not recommended');
  assert.equal(first.theirsHidden, true, "the theme's own block gives way to ours");
  // Applying again (a single-page navigation) adds no second slot or block.
  await p.evaluate(() => history.pushState({}, '', location.pathname + '?variant=2'));
  await p.waitForFunction(() => document.querySelectorAll('[data-tailor-rendered]').length === 1);
  const again = await read();
  assert.equal(again.slots.length, 1);
  assert.equal(again.items.length, 4);
  assert.deepEqual(errors, []);
  await context.close();
});

test("Dawn's <cart-items> gets a cart upsell block after it", async () => {
  const context = await testContext(env.browser);
  const html = `${HEAD()}<body><main><cart-items><table><tr><td>Your cart</td></tr></table></cart-items></main></body></html>`;
  const { p, errors, state } = await page(context, `${env.server.base}/cart`, html);
  assert.equal(state, 'ready');
  const got = await p.evaluate(() => {
    const slot = document.querySelector('cart-items').nextElementSibling;
    return [slot.dataset.tailorSlot, slot.dataset.tailorPlacement, slot.querySelectorAll('[data-tailor-item]').length];
  });
  assert.deepEqual(got, ['cart_upsell', 'cart_upsell', 4]);
  assert.deepEqual(errors, []);
  await context.close();
});

// A theme no built-in adapter knows: cards are <article class="tile" data-pid>.
const customGrid = (extra = '') => {
  const cards = [...others.slice(0, 6), ...bags.slice(3, 6)];
  return {
    ids: cards.map((p) => String(p.id)),
    html: `${HEAD(extra)}<body><div class="catalog-list">${cards
      .map((p) => `<article class="tile" data-pid="${p.id}"><a href="/products/${p.handle}">${p.title}</a></article>`)
      .join('')}</div></body></html>`,
  };
};
const TILE_IDS = () => [...document.querySelectorAll('div.catalog-list > article.tile')].map((a) => a.dataset.pid);

async function viewBags(context, base) {
  const { p } = await page(context, `${base}/products/setup`, `${HEAD()}<body></body></html>`);
  for (const b of bags.slice(0, 3)) await p.evaluate((item) => window.tailor.track('product_view', { item }), b.id);
  // window.tailor ranks a list the page has itself the way it ranks the grid: the bag first.
  const list = [...others.slice(0, 3), bags[3]].map((x) => x.id);
  // (The script tag's engine answers from its worker: both are promises.)
  const { first, arm } = await p.evaluate(async (items) => ({
    first: (await window.tailor.rank({ items }))[0].item,
    arm: (await window.tailor.assignment({ placement: 'grid' })).arm,
  }), list);
  assert.equal(String(first), String(bags[3].id));
  assert.ok(['treatment', 'default'].includes(arm), `a personalized arm, not ${arm}`);
  await p.close();
}

for (const [name, which, extra] of [
  ['the site config', () => configured, ''],
  ['the script tag', () => env.server, 'data-grid="div.catalog-list" data-card="article.tile" data-card-id="data-pid"'],
]) {
  test(`selectors from ${name} let the generic adapter reorder an unknown theme's grid`, async () => {
    const base = which().base;
    if (!extra) {
      const pointer = await (await fetch(`${base}/v1/snapshot/demo`)).json();
      assert.deepEqual(pointer.adapter, { grid: 'div.catalog-list', card: 'article.tile', id_attribute: 'data-pid' });
    }
    const context = await testContext(env.browser);
    await viewBags(context, base);
    const { ids, html } = customGrid(extra);
    const { p, errors, state } = await page(context, `${base}/collections/custom-theme`, html);
    assert.equal(state, 'ready');
    const order = await p.evaluate(TILE_IDS);
    assert.deepEqual([...order].sort(), [...ids].sort(), 'the same cards');
    const bagIds = bags.slice(3, 6).map((b) => String(b.id));
    assert.deepEqual(new Set(order.slice(0, 3)), new Set(bagIds), 'the viewed category leads');
    assert.equal(await p.evaluate(() => document.querySelector('div.catalog-list').hasAttribute('data-tailor-grid')), true);
    // The theme renders its list again, in its own order (a filter, say): the new list is found
    // by the same selectors and reordered as the first was.
    await p.evaluate((html) => {
      const fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('div.catalog-list');
      document.querySelector('div.catalog-list').replaceWith(document.importNode(fresh, true));
    }, html);
    await p.waitForFunction((want) => JSON.stringify([...document.querySelectorAll('div.catalog-list > article.tile')].map((a) => a.dataset.pid)) === JSON.stringify(want), order);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('a page nothing recognises is left untouched, with one diagnostic per session', async () => {
  const context = await testContext(env.browser);
  const body = '<body><div class="about"><p>About our shop</p><ul class="list"><li>one</li><li>two</li></ul></div></body></html>';
  const html = `${HEAD()}${body}`;
  const url = `${env.server.base}/pages/about`;
  const first = await page(context, url, html);
  assert.equal(first.state, 'ready');
  const markup = () => document.body.innerHTML.replace(/\s+/g, ' ').trim();
  const before = body.replace('<body>', '').replace('</body></html>', '');
  assert.equal(await first.p.evaluate(markup), before, 'the page is exactly as served');
  const diagnostics = (await first.events()).filter((e) => e.type === 'diagnostic');
  assert.deepEqual(diagnostics.map((e) => [e.code, e.detail]), [['NOTHING_RECOGNISED', 'other /pages/about']]);
  // Delivered and stored by the server.
  await first.p.evaluate(() => window.tailor.flush());
  await untilKept(first.p, (k) => !queued(k).length, 'an empty queue');
  // The same page again in the same session: no second diagnostic.
  await first.p.reload();
  await first.p.waitForFunction(() => document.documentElement.dataset.tailor === 'ready');
  const stored = (await first.events()).filter((e) => e.type === 'diagnostic');
  assert.equal(stored.length, 1);
  assert.deepEqual(first.errors, []);
  await context.close();
});

for (const [grid, card] of [['div.catalog-list >', 'article.tile'], ['div.catalog-list', 'article.tile[']]) {
  test(`selectors the browser cannot parse are reported once per session, and the page is left to the built-in adapters: ${grid} | ${card}`, async () => {
    const context = await testContext(env.browser);
    const { ids, html } = customGrid(`data-grid="${grid}" data-card="${card}" data-card-id="data-pid"`);
    const url = `${env.server.base}/collections/broken-selectors`;
    const first = await page(context, url, html);
    assert.equal(first.state, 'ready');
    assert.deepEqual(await first.p.evaluate(TILE_IDS), ids, 'the theme\'s order');
    assert.equal(await first.p.evaluate(() => document.querySelector('[data-tailor-grid], [data-tailor-product]')), null, 'nothing marked');
    const codes = async () => (await first.events()).filter((e) => e.type === 'diagnostic').map((e) => [e.code, e.detail]);
    assert.deepEqual(await codes(), [
      ['INVALID_SELECTOR', `${grid} | ${card}`],
      ['NOTHING_RECOGNISED', 'collection /collections/broken-selectors'],
    ]);
    await first.p.reload();
    await first.p.waitForFunction(() => document.documentElement.dataset.tailor === 'ready');
    assert.equal((await codes()).length, 2, 'not again in the same session');
    assert.deepEqual(first.errors, []);
    await context.close();
  });
}

test('exposures name the arm of each placement the shopper reached, once per session', async () => {
  const context = await testContext(env.browser);
  const p = await context.newPage();
  const events = await recordedEvents(p);
  await p.goto(`${env.server.base}/collection.html`);
  await p.waitForFunction(() => document.documentElement.dataset.tailor === 'ready');
  const expected = await p.evaluate(() => window.tailor.assignment({ placement: 'grid' }));
  const exposures = () => events().then((all) => all.filter((e) => e.type === 'exposure').map((e) => [e.placement, e.arm, e.experiment]));
  assert.deepEqual(await exposures(), [['grid', expected.arm, expected.experiment]]);
  assert.equal(expected.arm, 'default', 'the demo store runs no experiment; this shopper is outside the holdout');
  // The product page reaches its blocks; the grid is not on it.
  await p.goto(`${env.server.base}/products/${bags[1].handle}`);
  await p.waitForFunction(() => document.documentElement.dataset.tailor === 'ready');
  const placements = (await exposures()).map((e) => e[0]);
  assert.deepEqual(placements.filter((x) => x === 'grid'), ['grid']);
  for (const x of ['similar', 'frequently_bought_together']) assert.ok(placements.includes(x), `${x}: ${placements}`);
  // The same placements again in this session: nothing new.
  const count = placements.length;
  await p.goto(`${env.server.base}/collection.html`);
  await p.waitForFunction(() => document.documentElement.dataset.tailor === 'ready');
  assert.equal((await exposures()).length, count);
  await context.close();
});

/** A new tab of `context` at `url`, once the loader is ready. */
async function readyTab(context, url) {
  const p = await context.newPage();
  await p.goto(url);
  await p.waitForFunction(() => document.documentElement.dataset.tailor === 'ready');
  return p;
}
/** The session of an event tracked now in tab `p`. */
const sessionOf = (p) => p.evaluate(() => window.tailor.track('page_view', { page: 'other' }).session);

test('a session is the store\'s, across tabs, and ends after 30 minutes without an event', async () => {
  const context = await testContext(env.browser);
  const open = (url) => readyTab(context, url);
  const first = await open(`${env.server.base}/collection.html`);
  const session = await sessionOf(first);
  assert.match(session, /^[0-9a-f-]{36}$/);
  // A product opened in a new tab, while the first one stays open: the same session.
  const second = await open(`${env.server.base}/products/${bags[0].handle}`);
  assert.equal(await sessionOf(second), session);
  const [id, at] = (await untilKept(second, (k) => k['tailor:session']?.startsWith(session + ' '), 'the session'))['tailor:session'].split(' ');
  assert.equal(id, session);
  assert.ok(Math.abs(Number(at) - Date.now()) < 60_000, `last event at ${at}`);
  // The last event `minutes` ago, written from a page of the store without the loader, once
  // every page with one is closed (none can write after it).
  const idle = async (sid, minutes) => {
    for (const p of context.pages()) await p.close();
    const p = await context.newPage();
    await p.goto(`${env.server.base}/health`);
    await keep(p, { 'tailor:session': `${sid} ${Date.now() - minutes * 60_000}` });
    await p.close();
  };
  // 31 minutes without an event anywhere: the next page starts a new session.
  await idle(session, 31);
  const next = await sessionOf(await open(`${env.server.base}/collection.html`));
  assert.match(next, /^[0-9a-f-]{36}$/);
  assert.notEqual(next, session);
  // 29 minutes: still the same one.
  await idle(next, 29);
  assert.equal(await sessionOf(await open(`${env.server.base}/collection.html`)), next);
  await context.close();
});

test('a tab left open 30 minutes joins the session another tab started since, or starts a new one', async () => {
  const context = await testContext(env.browser);
  await context.clock.install();
  await context.addInitScript(() => {
    window.__heard = 0;
    const Native = self.Worker;
    self.Worker = function (...args) {
      const w = new Native(...args);
      w.addEventListener('message', (e) => { if (!Array.isArray(e.data)) window.__heard++; });
      return w;
    };
  });
  const left = await readyTab(context, `${env.server.base}/collection.html`);
  const first = await sessionOf(left);
  // 31 minutes later another tab opens: the first session is over, it starts a second.
  // (The tab left open hears of it from its worker: a message that is not a batch's answer.
  // Counted on the page's worker, since the simulated clock also stops User Timing.)
  const heard = () => left.evaluate(() => window.__heard);
  const before = await heard();
  await context.clock.setSystemTime(Date.now() + 31 * 60_000);
  const other = await readyTab(context, `${env.server.base}/products/${bags[0].handle}`);
  const second = await sessionOf(other);
  assert.notEqual(second, first);
  for (const end = Date.now() + 10_000; (await heard()) === before;) {
    assert.ok(Date.now() < end, 'the tab left open heard of the new session');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // The tab left open joins it rather than bringing the first one back.
  assert.equal(await sessionOf(left), second);
  // 31 quiet minutes more: the open tab starts a third.
  await other.close();
  await context.clock.setSystemTime(Date.now() + 62 * 60_000);
  const third = await sessionOf(left);
  assert.ok(![first, second].includes(third), third);
  await untilKept(left, (k) => k['tailor:session'].startsWith(third + ' '), 'the third session');
  await context.close();
});

test('a product page known only from JSON-LD or ShopifyAnalytics.meta is tracked and gets its blocks', async () => {
  for (const [name, markup] of [
    ['JSON-LD', (id) => `<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"BreadcrumbList"},{"@type":"Product","name":"x","productID":"${id}"}]}</script>`],
    ['ShopifyAnalytics.meta', (id) => `<script>window.ShopifyAnalytics = { meta: { product: { id: ${id}, vendor: "x" } } };</script>`],
  ]) {
    const context = await testContext(env.browser);
    const product = bags[2];
    const html = `${HEAD()}<body>${markup(product.id)}<h1>${product.title}</h1>
      <div data-tailor-slot="similar" data-tailor-n="4"></div></body></html>`;
    const { p, errors, events, state } = await page(context, `${env.server.base}/products/meta-only`, html);
    assert.equal(state, 'ready', name);
    const views = (await events()).filter((e) => e.type === 'product_view').map((e) => e.item);
    assert.deepEqual(views, [product.id], name);
    const shown = await p.evaluate(() => [...document.querySelectorAll('[data-tailor-item]')].map((n) => Number(n.dataset.tailorItem)));
    assert.equal(shown.length, 4, name);
    assert.ok(!shown.includes(product.id), `${name}: the product itself is not recommended`);
    assert.deepEqual(errors, [], name);
    await context.close();
  }
});

test("Shopify's Ajax cart API and cart forms become add_to_cart and remove_from_cart events", async () => {
  const context = await testContext(env.browser);
  // The store's cart, as Shopify's Ajax API would answer (this server has no cart).
  const [a, b] = [others[0], others[1]];
  const cart = new Map();
  const body = () => JSON.stringify({ items: [...cart].map(([product_id, quantity]) => ({ product_id, quantity, variant_id: product_id + 1 })) });
  await context.addInitScript(() => {
    window.Shopify = { customerPrivacy: { analyticsProcessingAllowed: () => true } };
  });
  await context.route(/\/cart(\/(add|change))?(\.js)?$/, async (route) => {
    const req = route.request();
    const path = new URL(req.url()).pathname;
    if (path === '/cart/add.js') {
      const { id, quantity } = JSON.parse(req.postData());
      cart.set(id - 1, (cart.get(id - 1) || 0) + quantity);
      return route.fulfill({ contentType: 'application/json', body: JSON.stringify({ product_id: id - 1, variant_id: id, quantity: cart.get(id - 1) }) });
    }
    if (path === '/cart/add') {
      // A plain form post: the cart grows, and Shopify redirects to the cart page.
      const form = new URLSearchParams(req.postData());
      const id = Number(form.get('id')) - 1;
      cart.set(id, (cart.get(id) || 0) + Number(form.get('quantity')));
      return route.fulfill({ status: 303, headers: { location: '/cart.html' } });
    }
    if (path === '/cart/change.js') {
      const { id, quantity } = JSON.parse(req.postData());
      if (quantity === 0) cart.delete(id - 1); else cart.set(id - 1, quantity);
      return route.fulfill({ contentType: 'application/json', body: body() });
    }
    if (path === '/cart.js') return route.fulfill({ contentType: 'application/json', body: body() });
    return route.continue();
  });
  const productPage = `${HEAD()}<body><product-info data-product-id="${a.id}">
    <form action="/cart/add" method="post"><input name="id" value="${a.id + 1}"><input name="quantity" value="3"><button>Add</button></form>
    </product-info></body></html>`;
  const { p, events, errors } = await page(context, `${env.server.base}/products/cart-test`, productPage);
  // An Ajax add, as a theme's product form sends it.
  await p.evaluate(async (variant) => {
    await fetch('/cart/add.js', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: variant, quantity: 2 }) }).then((r) => r.json());
  }, b.id + 1);
  await untilTrue(p, (item) => window.tailor.profile().then((p) => p.cart.some((c) => c.item === item)), b.id, 'the add in the cart');
  // An add whose quantity no event can hold (over 2^32): never sent, and counted as rejected.
  const c = others[2];
  assert.equal(await p.evaluate(() => window.tailor.dropped().rejected), 0);
  await p.evaluate(async (variant) => {
    await fetch('/cart/add.js', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: variant, quantity: 1e10 }) }).then((r) => r.json());
  }, c.id + 1);
  await untilTrue(p, () => window.tailor.dropped().rejected === 1, null, 'the invalid add counted as rejected');
  // A plain form post to /cart/add, then the cart page (served by the demo server).
  await Promise.all([p.waitForURL(/\/cart\.html$/), p.click('button')]);
  await p.waitForFunction(() => document.documentElement.dataset.tailor === 'ready');
  // On the cart page the shopper removes b.
  await p.evaluate(async (variant) => {
    await fetch('/cart.js').then((r) => r.json());
    await fetch('/cart/change.js', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: variant, quantity: 0 }) }).then((r) => r.json());
  }, b.id + 1);
  await untilTrue(p, (item) => window.tailor.profile().then((p) => !p.cart.some((c) => c.item === item)), b.id, 'the removal from the cart');
  const cartEvents = (await events()).filter((e) => e.type.endsWith('_cart')).map((e) => [e.type, e.item, e.qty]);
  assert.deepEqual(cartEvents, [['add_to_cart', b.id, 2], ['add_to_cart', a.id, 3], ['remove_from_cart', b.id, 2]]);
  assert.deepEqual(errors, []);
  await context.close();
});

// After tailor.forget() the device has a new random id, which the events carry: the engine's
// experiments must assign by it too, since a report leaves out a shopper whose logged arm is
// not the one their id gets (here: the arm a page that starts with that id reads).
test('after a forget, the grid experiment assigns by the new shopper id', async () => {
  const server = await serverWith([
    '[site.store.experiments]',
    'holdout_share = 0.0',
    '[[site.store.experiments.experiments]]',
    'id = "grid-e2e"',
    'placement = "grid"',
    'treatment_share = 0.5',
  ]);
  const url = `${server.base}/collection.html`;
  const arm = (p) => p.evaluate(() => window.tailor.assignment({ placement: 'grid' }).then((a) => a.arm));
  const opened = async (context) => {
    const p = await context.newPage();
    const errors = watchErrors(p);
    await p.goto(url);
    await p.waitForFunction(() => document.documentElement.dataset.tailor === 'ready');
    return { p, errors };
  };
  // The arm of a page that starts with `shopper` stored.
  const armOf = async (shopper) => {
    const context = await env.browser.newContext();
    await context.addInitScript((s) => { window.__tailorTest = true; localStorage.setItem('tailor:shopper', s); }, shopper);
    const { p, errors } = await opened(context);
    const a = await arm(p);
    assert.deepEqual(errors, []);
    await context.close();
    return a;
  };
  try {
    const context = await testContext(env.browser);
    const { p, errors } = await opened(context);
    const first = await arm(p);
    assert.equal(first, await armOf('e2e-shopper-2'));
    // Forget until the new id falls in the other arm (each does with probability one half).
    let other = 0;
    for (let i = 0; i < 20 && !other; i++) {
      await p.evaluate(() => window.tailor.forget());
      const shopper = await p.evaluate((item) => window.tailor.track('product_view', { item }).shopper, others[0].id);
      assert.notEqual(shopper, 'e2e-shopper-2');
      const expected = await armOf(shopper);
      assert.equal(await arm(p), expected, `after forget ${i + 1}: the arm of ${shopper}`);
      if (expected !== first) other = 1;
    }
    assert.equal(other, 1, 'a new id fell in the other arm');
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    server.stop();
  }
});
