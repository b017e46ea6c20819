// The surfaces in a real Chromium against a real `tailor serve`: the on-device profile changing
// the grid, recommendation blocks on the product page, safety of what they render, fail-open
// and anti-flicker behaviour, re-application after theme re-renders and SPA navigation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serverAndBrowser, watchErrors, testContext, recordedEvents, ROOT, startServer, settle as settled } from './harness.mjs';

const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));
const byId = new Map(catalog.products.map((p) => [String(p.id), p]));
const collectionHtml = readFileSync(path.join(ROOT, 'www/collection.html'), 'utf8');
const THEME_ORDER = [...collectionHtml.matchAll(/id="CardLink-[^"]*-(\d+)"/g)].map((m) => m[1]);

const env = serverAndBrowser();

const GRID_IDS = () =>
  [...document.querySelectorAll('ul#product-grid > li.grid__item [id^="CardLink-"]')].map((a) => a.id.split('-').pop());


// A section reloaded (as the theme editor, or a cart change, would): the loader applies the
// page again. Resolves once that pass has ended (its `tailor:later` span, detail `again`).
async function applyAgain(page) {
  const passes = () => performance.getEntriesByName('tailor:later', 'measure').filter((m) => m.detail === 'again').length;
  const n = await page.evaluate(passes);
  await page.evaluate(() => document.dispatchEvent(new CustomEvent('shopify:section:load')));
  await page.waitForFunction(`(${passes})() > ${n}`);
}

async function open(context, url) {
  const page = await context.newPage();
  const errors = watchErrors(page);
  const events = await recordedEvents(page);
  const dialogs = [];
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  await page.goto(url);
  const state = await settled(page);
  return { page, errors, dialogs, state, events };
}

test('viewing products of one category moves that category to the front of the grid', async () => {
  const context = await testContext(env.browser);
  const first = await open(context, `${env.server.base}/collection.html`);
  assert.equal(first.state, 'ready');
  const before = await first.page.evaluate(GRID_IDS);
  // A category present in the grid but not at its front.
  const category = 'Bags';
  assert.notEqual(byId.get(before[0]).category, category);
  const bags = catalog.products.filter((p) => p.category === category).slice(0, 3);
  for (const p of bags) {
    const v = await open(context, `${env.server.base}/products/${p.handle}`);
    assert.equal(v.state, 'ready');
    const profile = await v.page.evaluate(() => window.tailor.profile());
    assert.ok(profile.recent.includes(p.id), 'the view is in the on-device profile at once');
    await v.page.close();
  }
  const second = await open(context, `${env.server.base}/collection.html`);
  const after = await second.page.evaluate(GRID_IDS);
  assert.equal(byId.get(after[0]).category, category, `first card: ${byId.get(after[0]).title}`);
  assert.deepEqual([...after].sort(), [...before].sort(), 'the same cards, reordered');
  const profile = await second.page.evaluate(() => window.tailor.profile());
  assert.deepEqual(profile.topCategories.slice(0, 1), [category]);
  assert.deepEqual([...first.errors, ...second.errors], []);
  await context.close();
});

test('the theme\'s click handlers survive the reorder', async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  await page.addInitScript(() => {
    document.addEventListener('DOMContentLoaded', () => {
      for (const li of document.querySelectorAll('ul#product-grid > li')) {
        li.addEventListener('click', (e) => {
          e.preventDefault();
          window.__clicked = li.querySelector('[id^="CardLink-"]').id.split('-').pop();
        });
      }
    });
  });
  await page.goto(`${env.server.base}/collection.html`);
  assert.equal(await settled(page), 'ready');
  const ids = await page.evaluate(GRID_IDS);
  assert.notDeepEqual(ids, THEME_ORDER, 'the grid was reordered');
  await page.click('ul#product-grid > li:first-child .card__heading');
  assert.equal(await page.evaluate(() => window.__clicked), ids[0]);
  await context.close();
});

test('the order is re-applied after a Dawn-style facet re-render', async () => {
  const context = await testContext(env.browser);
  const { page, errors } = await open(context, `${env.server.base}/collection.html`);
  const ranked = await page.evaluate(GRID_IDS);
  assert.notDeepEqual(ranked, THEME_ORDER);
  const reordered = () => page.waitForFunction((want) => {
    const ids = [...document.querySelectorAll('ul#product-grid > li.grid__item [id^="CardLink-"]')].map((a) => a.id.split('-').pop());
    return JSON.stringify(ids) === JSON.stringify(want);
  }, ranked);
  // Dawn's facets, as its facets.js does it: the URL first, then, once the section's markup has
  // come, the content of #ProductGridContainer replaced (the grid and its parent are new). Twice:
  // the grid is watched again after the first.
  for (const filter of ['filter.p.product_type=Bags', 'filter.v.price.lte=10']) {
    await page.evaluate(async (filter) => {
      history.pushState({}, '', `${location.pathname}?${filter}`);
      const html = await (await fetch('/collection.html')).text();
      document.getElementById('ProductGridContainer').innerHTML = new DOMParser().parseFromString(html, 'text/html').getElementById('ProductGridContainer').innerHTML;
    }, filter);
    await reordered();
  }
  // A theme that replaces the list itself.
  await page.evaluate(async () => {
    const html = await (await fetch('/collection.html')).text();
    const fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('#product-grid');
    document.querySelector('#product-grid').replaceWith(document.importNode(fresh, true));
  });
  await reordered();
  assert.deepEqual(errors, []);
  await context.close();
});

test('a later pass leaves the cards and the banner the shopper has seen, and orders only the cards "load more" appends', async () => {
  const context = await testContext(env.browser);
  const { page, errors } = await open(context, `${env.server.base}/collection.html`);
  const ranked = await page.evaluate(GRID_IDS);
  assert.notDeepEqual(ranked, THEME_ORDER);
  // The shopper looks at bags on this page: the engine would now order the grid otherwise.
  const bags = catalog.products.filter((p) => p.category === 'Bags' && !ranked.includes(String(p.id)));
  await page.evaluate((items) => { for (const item of items) window.tailor.track('product_view', { item }); }, bags.slice(0, 4).map((p) => p.id));
  const now = await page.evaluate(async (ids) => (await window.tailor.rank({ items: ids.map(Number) })).map((r) => String(r.item)), ranked);
  assert.notDeepEqual(now, ranked, 'the engine has changed its mind');
  // A section reloaded (or a cart change): the page is applied again, and the grid stays.
  await page.evaluate(() => document.querySelectorAll('ul#product-grid > li').forEach((li, k) => { li.__seen = k; }));
  await applyAgain(page);
  assert.deepEqual(await page.evaluate(GRID_IDS), ranked);
  // "Load more" appends four cards in the theme's order, two bags last: they are ordered among
  // themselves, after the others, which are the same nodes in the same places.
  const others = catalog.products.filter((p) => p.category !== 'Bags' && !ranked.includes(String(p.id))).slice(0, 2);
  const more = [...others, ...bags.slice(4, 6)];
  const want = await page.evaluate(async (ids) => (await window.tailor.rank({ items: ids })).map((r) => String(r.item)), more.map((p) => p.id));
  assert.notDeepEqual(want, more.map((p) => String(p.id)), 'the engine would move some of them');
  await page.evaluate((cards) => {
    const grid = document.querySelector('ul#product-grid');
    for (const { id, handle, title } of cards) {
      const li = document.createElement('li');
      li.className = 'grid__item';
      const a = document.createElement('a');
      a.id = `CardLink-template--demo__product-grid-${id}`;
      a.href = `/products/${handle}`;
      a.textContent = title;
      li.append(a);
      grid.append(li);
    }
  }, more);
  await page.waitForFunction((want) => {
    const ids = [...document.querySelectorAll('ul#product-grid > li.grid__item [id^="CardLink-"]')].map((a) => a.id.split('-').pop());
    return JSON.stringify(ids.slice(-want.length)) === JSON.stringify(want);
  }, want);
  assert.deepEqual(await page.evaluate(GRID_IDS), [...ranked, ...want]);
  assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('ul#product-grid > li')].slice(0, -4).map((li) => li.__seen)), ranked.map((_, k) => k));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a banner keeps the variant the shopper has seen when the page is applied again', async () => {
  const context = await testContext(env.browser);
  const visible = () => [...document.querySelectorAll('[data-tailor-banner="hero"] > [data-tailor-variant]')]
    .filter((v) => !v.hidden).map((v) => v.dataset.tailorVariant);
  const { page, errors } = await open(context, `${env.server.base}/index.html`);
  assert.deepEqual(await page.evaluate(visible), ['default']);
  // Bags viewed on this page: a new page view would show the bags banner (the test above it).
  await page.evaluate((items) => { for (const item of items) window.tailor.track('product_view', { item }); }, catalog.products.filter((x) => x.category === 'Bags').slice(0, 3).map((p) => p.id));
  const request = await page.evaluate(() => document.querySelector('[data-tailor-slot="for-you"]').dataset.tailorRequest);
  await page.evaluate(() => document.dispatchEvent(new CustomEvent('shopify:section:load')));
  // (The blocks are rendered anew in the same pass: once they are, the banner was decided.)
  await page.waitForFunction((old) => document.querySelector('[data-tailor-slot="for-you"]').dataset.tailorRequest !== old, request);
  assert.deepEqual(await page.evaluate(visible), ['default']);
  // A banner the theme renders afresh (the section itself reloaded) is decided again.
  const again = await page.evaluate(() => document.querySelector('[data-tailor-slot="for-you"]').dataset.tailorRequest);
  await page.evaluate(() => {
    const banner = document.querySelector('[data-tailor-banner="hero"]');
    const fresh = banner.cloneNode(true);
    fresh.removeAttribute('data-tailor-placed');
    for (const v of fresh.children) v.hidden = v.dataset.tailorVariant !== 'default';
    banner.replaceWith(fresh);
    document.dispatchEvent(new CustomEvent('shopify:section:load'));
  });
  await page.waitForFunction((old) => document.querySelector('[data-tailor-slot="for-you"]').dataset.tailorRequest !== old, again);
  assert.deepEqual(await page.evaluate(visible), ['bags']);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a grid the shopper sorted keeps the theme\'s order, also after a facet re-render', async () => {
  const context = await testContext(env.browser);
  // Sorted by price when the page loads: the theme's order stays.
  const { page, errors, state } = await open(context, `${env.server.base}/collection.html?sort_by=price-ascending`);
  assert.equal(state, 'ready');
  assert.deepEqual(await page.evaluate(GRID_IDS), THEME_ORDER);
  // Dawn's facets change the URL, then replace the grid with the theme's markup for it.
  const sortBy = (value) => page.evaluate(async (value) => {
    history.replaceState(null, '', '?sort_by=' + value);
    const html = await (await fetch('/collection.html')).text();
    const fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('#product-grid');
    document.querySelector('#product-grid').replaceWith(document.importNode(fresh, true));
  }, value);
  // Back to the store's own order: personalized again.
  await sortBy('manual');
  await page.waitForFunction((theme) => {
    const ids = [...document.querySelectorAll('ul#product-grid > li.grid__item [id^="CardLink-"]')].map((a) => a.id.split('-').pop());
    return JSON.stringify(ids) !== JSON.stringify(theme);
  }, THEME_ORDER);
  // Price, high to low: the theme's markup stays as it came. The grid's observer re-applies in
  // the next animation frame, so two frames later it has run.
  await sortBy('price-descending');
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  assert.deepEqual(await page.evaluate(GRID_IDS), THEME_ORDER);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the product page renders recommendation blocks, once, and again after SPA navigation', async () => {
  const context = await testContext(env.browser);
  const product = catalog.products.find((p) => p.category === 'Kitchen & baking');
  const { page, errors, state, events } = await open(context, `${env.server.base}/products/${product.handle}`);
  assert.equal(state, 'ready');
  const similar = await page.evaluate(() => {
    const slot = document.querySelector('[data-tailor-slot="similar"]');
    return {
      blocks: slot.querySelectorAll('.tailor-block').length,
      items: [...slot.querySelectorAll('[data-tailor-item]')].map((n) => n.dataset.tailorItem),
      titles: [...slot.querySelectorAll('.tailor-block__name')].map((n) => n.textContent),
      links: [...slot.querySelectorAll('a')].map((a) => a.getAttribute('href')),
      heading: slot.querySelector('.tailor-block__title')?.textContent,
      request: slot.dataset.tailorRequest,
    };
  });
  assert.equal(similar.blocks, 1);
  assert.equal(similar.items.length, 4);
  assert.ok(!similar.items.includes(String(product.id)), 'never the product itself');
  assert.equal(similar.heading, 'You may also like');
  for (const [k, id] of similar.items.entries()) {
    const p = byId.get(id);
    assert.equal(similar.titles[k], p.title);
    assert.equal(similar.links[k], `${env.server.base}/products/${p.handle}`);
  }
  // Single-page navigation re-applies without duplicating any block.
  await page.evaluate(() => history.pushState({}, '', location.pathname + '?variant=2'));
  await page.waitForFunction((old) => document.querySelector('[data-tailor-slot="similar"]').dataset.tailorRequest !== old, similar.request);
  const counts = await page.evaluate(() => [...document.querySelectorAll('[data-tailor-slot]')].map((s) => s.querySelectorAll('.tailor-block').length));
  assert.ok(counts.every((c) => c <= 1), `blocks per slot: ${counts}`);
  // A variant picked (the same path) is no new page view; another path is, and a product view.
  const other = catalog.products.find((p) => p.id !== product.id);
  await page.evaluate((handle) => history.pushState({}, '', '/products/' + handle), other.handle);
  // (A marker tracked after both: once it is seen, every event before it is.)
  const marker = await page.evaluate((item) => window.tailor.track('add_to_cart', { item }).id, other.id);
  let seen = [];
  for (let end = Date.now() + 15_000; Date.now() < end && !seen.some((e) => e.id === marker);) seen = await events();
  assert.ok(seen.some((e) => e.id === marker), 'the marker was recorded');
  const count = (type) => seen.filter((e) => e.type === type).length;
  assert.deepEqual([count('page_view'), count('product_view')], [2, 2], JSON.stringify(seen.map((e) => e.type)));
  assert.deepEqual(errors, []);
  await context.close();
});

test('titles with markup render as text, and javascript: URLs and foreign images are skipped', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tailor-evil-'));
  const file = path.join(dir, 'catalog.json');
  const evil = [
    { id: 9001, handle: 'plain-mug', title: 'Plain mug', category: 'Mugs', price: 4, popularity: 50 },
    { id: 9002, handle: 'img-mug', title: '<img src=x onerror="alert(1)">Mug', category: 'Mugs', price: 4, popularity: 40, image: 'javascript:alert(2)' },
    { id: 9003, handle: 'script-mug', title: '<script>alert(3)</script>Mug', category: 'Mugs', price: 4, popularity: 30, image: 'https://evil.example/x.png' },
    { id: 9004, handle: 'safe-image-mug', title: 'Mug with a picture', category: 'Mugs', price: 4, popularity: 20, image: '/favicon.svg' },
  ];
  writeFileSync(file, JSON.stringify({ version: 1, products: evil }));
  const evilServer = await startServer(['--catalog', file]);
  const context = await testContext(env.browser);
  const { page, errors, dialogs, state } = await open(context, `${evilServer.base}/products/plain-mug`);
  assert.equal(state, 'ready');
  const shown = await page.evaluate(() => {
    const slot = document.querySelector('[data-tailor-slot="similar"]');
    return {
      titles: [...slot.querySelectorAll('.tailor-block__name')].map((n) => n.textContent),
      images: [...slot.querySelectorAll('img')].map((i) => i.getAttribute('src')),
      hrefs: [...document.querySelectorAll('[data-tailor-slot] a')].map((a) => a.getAttribute('href')),
      injected: document.querySelectorAll('[data-tailor-slot] script, [data-tailor-slot] [onerror]').length,
    };
  });
  assert.ok(shown.titles.includes('<img src=x onerror="alert(1)">Mug'), JSON.stringify(shown.titles));
  assert.ok(shown.titles.includes('<script>alert(3)</script>Mug'));
  assert.equal(shown.injected, 0, 'no element came from a title');
  assert.deepEqual(shown.images, [`${evilServer.base}/favicon.svg`], 'only the same-origin image');
  assert.ok(shown.hrefs.every((h) => h.startsWith(evilServer.base + '/products/')), JSON.stringify(shown.hrefs));
  assert.deepEqual(dialogs, [], 'no dialog fired');
  assert.deepEqual(errors.filter((e) => !e.includes('favicon')), []);
  await context.close();
  await evilServer.stop();
});

test('a double include gives one instance', async () => {
  const context = await testContext(env.browser);
  await context.route(/\/products\/[^/?]+$/, async (route) => {
    const res = await route.fetch();
    const html = (await res.text()).replace(/(<script async src="\/tailor\.js"[^>]*><\/script>)/, '$1$1');
    await route.fulfill({ response: res, body: html });
  });
  const product = catalog.products[10];
  const { page, errors, state } = await open(context, `${env.server.base}/products/${product.handle}`);
  assert.equal(state, 'ready');
  assert.equal(await page.evaluate(() => document.querySelectorAll('script[src="/tailor.js"]').length), 2);
  const blocks = await page.evaluate(() => document.querySelectorAll('[data-tailor-slot="similar"] .tailor-block').length);
  assert.equal(blocks, 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('automated browsers and crawlers see the theme\'s page unless the test flag is set', async () => {
  const context = await env.browser.newContext(); // no test flag: navigator.webdriver is true
  const { page, errors, state } = await open(context, `${env.server.base}/collection.html`);
  assert.equal(state, 'skipped');
  assert.deepEqual(await page.evaluate(GRID_IDS), THEME_ORDER);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a crawler is told by its user agent, in any letter case, even where navigator.webdriver is false', async () => {
  const shopper = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
  for (const [userAgent, want] of [
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'skipped'],
    ['Mozilla/5.0 (compatible; BINGBOT/2.0)', 'skipped'],
    ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Chrome-Lighthouse)', 'skipped'],
    [shopper, 'ready'],
  ]) {
    const context = await env.browser.newContext({ userAgent });
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false }));
    const { page, errors, state } = await open(context, `${env.server.base}/collection.html`);
    assert.equal(state, want, userAgent);
    if (want === 'skipped') assert.deepEqual(await page.evaluate(GRID_IDS), THEME_ORDER);
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('with a corrupt snapshot the slots are revealed and the page stays as rendered', async () => {
  const context = await testContext(env.browser);
  await context.route(/\/v1\/snapshot\/demo\/\d+(\?|$)/, async (route) => {
    const res = await route.fetch();
    const body = Buffer.from(await res.body());
    body[20] ^= 0xff;
    await route.fulfill({ response: res, body });
  });
  const product = catalog.products[3];
  const { page, errors, state } = await open(context, `${env.server.base}/products/${product.handle}`);
  assert.equal(state, 'failed');
  const slots = await page.evaluate(() => [...document.querySelectorAll('[data-tailor-slot]')].map((s) => [getComputedStyle(s).visibility, s.children.length]));
  assert.ok(slots.every(([v, n]) => v === 'visible' && n === 0), JSON.stringify(slots));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a snapshot that never comes: the slots are revealed by CSS alone after 300 ms', async () => {
  const context = await testContext(env.browser, { strictReveal: true });
  let release;
  const never = new Promise((r) => (release = r));
  await context.route(/\/v1\/snapshot\/demo$/, async (route) => { await never; await route.abort(); });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const product = catalog.products[5];
  await page.goto(`${env.server.base}/products/${product.handle}`, { waitUntil: 'domcontentloaded' });
  // The reveal animation exists once the anti-flicker stylesheet has applied.
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot]').getAnimations().some((a) => a.animationName === 'tailor-reveal'));
  // The snippet's reveal animation, sampled at fixed points of its timeline: hidden before
  // 300 ms, visible after.
  const timeline = await page.evaluate(() => {
    const slot = document.querySelector('[data-tailor-slot]');
    const anim = slot.getAnimations().find((a) => a.animationName === 'tailor-reveal');
    if (!anim) return null;
    const at = (ms) => { anim.currentTime = ms; return getComputedStyle(slot).visibility; };
    const now = anim.currentTime;
    const seen = [at(0), at(299), at(301)];
    anim.currentTime = now;
    return seen;
  });
  assert.deepEqual(timeline, ['hidden', 'hidden', 'visible']);
  // And in real time: the slot becomes visible while the engine is still waiting.
  await page.waitForFunction(() => getComputedStyle(document.querySelector('[data-tailor-slot]')).visibility === 'visible');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.tailor), 'loading');
  release();
  assert.deepEqual(errors, []);
  await context.close();
});

test('the home page banner follows the shopper\'s favourite category, and exposures are tracked', async () => {
  const context = await testContext(env.browser);
  const visible = () => [...document.querySelectorAll('[data-tailor-banner="hero"] > [data-tailor-variant]')]
    .filter((v) => !v.hidden).map((v) => v.dataset.tailorVariant);
  const first = await open(context, `${env.server.base}/index.html`);
  assert.equal(first.state, 'ready');
  assert.deepEqual(await first.page.evaluate(visible), ['default']);
  assert.ok(await first.page.evaluate(() => document.querySelectorAll('[data-tailor-slot="for-you"] [data-tailor-item]').length) > 0);
  for (const p of catalog.products.filter((x) => x.category === 'Bags').slice(0, 3)) {
    const v = await open(context, `${env.server.base}/products/${p.handle}`);
    await v.page.close();
  }
  const again = await open(context, `${env.server.base}/index.html`);
  assert.deepEqual(await again.page.evaluate(visible), ['bags']);
  const queued = await again.events();
  assert.ok(queued.some((e) => e.type === 'banner_impression' && e.banner === 'hero' && e.variant === 'bags'));
  // The page applied again (the theme editor reloads a section): its blocks are rendered anew,
  // and the banner, unchanged, counts no second impression.
  const request = await again.page.evaluate(() => document.querySelector('[data-tailor-slot="for-you"]').dataset.tailorRequest);
  await again.page.evaluate(() => document.dispatchEvent(new CustomEvent('shopify:section:load')));
  await again.page.waitForFunction((old) => document.querySelector('[data-tailor-slot="for-you"]').dataset.tailorRequest !== old, request);
  // (A marker tracked after it: once it is seen, every event before it is.)
  const marker = await again.page.evaluate((item) => window.tailor.track('add_to_cart', { item }).id, catalog.products[0].id);
  let seen = [];
  for (let end = Date.now() + 15_000; Date.now() < end && !seen.some((e) => e.id === marker);) seen = await again.events();
  assert.ok(seen.some((e) => e.id === marker), 'the marker was recorded');
  assert.equal(seen.filter((e) => e.type === 'banner_impression' && e.variant === 'bags').length, 1, JSON.stringify(seen.map((e) => e.type)));
  assert.deepEqual([...first.errors, ...again.errors], []);
  await context.close();
});

test('the search page reranks product cards around an article and tracks the query', async () => {
  const context = await testContext(env.browser);
  const html = await (await fetch(`${env.server.base}/search?q=retrospot`)).text();
  const theme = [...html.matchAll(/id="CardLink-[^"]*-(\d+)"/g)].map((m) => m[1]);
  assert.ok(theme.length > 8, 'the demo search finds retrospot products');
  // The shopper has been looking at bags.
  for (const p of catalog.products.filter((x) => x.category === 'Bags').slice(0, 3)) {
    const v = await open(context, `${env.server.base}/products/${p.handle}`);
    await v.page.close();
  }
  const firstBag = theme.findIndex((id) => byId.get(id).category === 'Bags');
  assert.ok(firstBag > 0, 'a bag that is not already the first result');
  const { page, errors, state, events } = await open(context, `${env.server.base}/search?q=retrospot`);
  assert.equal(state, 'ready');
  const after = await page.evaluate(() => [...document.querySelectorAll('#product-grid > li')].map((li) => {
    const a = li.querySelector('[id^="CardLink-"]');
    return a ? a.id.split('-').pop() : 'article';
  }));
  assert.equal(after[2], 'article', 'the article card keeps its place');
  const products = after.filter((x) => x !== 'article');
  assert.deepEqual([...products].sort(), [...theme].sort(), 'the same product cards');
  assert.ok(products.indexOf(theme[firstBag]) < firstBag, `the first bag moved up from ${firstBag} to ${products.indexOf(theme[firstBag])}`);
  // Text relevance stays dominant: no result moves more than a few places.
  for (const [k, id] of products.entries()) assert.ok(Math.abs(theme.indexOf(id) - k) <= 6, `${id} moved from ${theme.indexOf(id)} to ${k}`);
  // A filter set on the search page (Dawn's facets replace #ProductGridContainer's content):
  // the new results are reranked as the first were.
  await page.evaluate(async () => {
    history.pushState({}, '', `${location.pathname}${location.search}&filter.v.availability=1`);
    const html = await (await fetch('/search?q=retrospot')).text();
    document.getElementById('ProductGridContainer').innerHTML = new DOMParser().parseFromString(html, 'text/html').getElementById('ProductGridContainer').innerHTML;
  });
  await page.waitForFunction((want) => JSON.stringify([...document.querySelectorAll('#product-grid > li')].map((li) => {
    const a = li.querySelector('[id^="CardLink-"]');
    return a ? a.id.split('-').pop() : 'article';
  })) === JSON.stringify(want), after);
  const queued = await events();
  assert.ok(queued.some((e) => e.type === 'search' && e.query === 'retrospot'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a search page of product cards only is reranked, not re-sorted like a collection grid', async () => {
  const context = await testContext(env.browser);
  const url = `${env.server.base}/search?q=retrospot`;
  // The demo's results page without its article card: a grid the collection adapter recognises.
  const html = (await (await fetch(url)).text()).replace(/\n *<li class="grid__item"><div class="card card--article">.*?<\/li>/, '');
  assert.ok(!html.includes('card--article'));
  const theme = [...html.matchAll(/id="CardLink-[^"]*-(\d+)"/g)].map((m) => m[1]);
  for (const p of catalog.products.filter((x) => x.category === 'Bags').slice(0, 3)) {
    const v = await open(context, `${env.server.base}/products/${p.handle}`);
    await v.page.close();
  }
  // A bag far down the results: a collection grid's ranking would lift it to the front.
  const lastBag = theme.findLastIndex((id) => byId.get(id).category === 'Bags');
  assert.ok(lastBag > 6, `the last bag is result ${lastBag}`);
  await context.route(url, (r) => r.fulfill({ body: html, contentType: 'text/html' }));
  const { page, errors, state } = await open(context, url);
  assert.equal(state, 'ready');
  const products = await page.evaluate(GRID_IDS);
  assert.deepEqual([...products].sort(), [...theme].sort(), 'the same product cards');
  for (const [k, id] of products.entries()) assert.ok(Math.abs(theme.indexOf(id) - k) <= 6, `${id} moved from ${theme.indexOf(id)} to ${k}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a WooCommerce-shaped page is reordered and its row classes follow', async () => {
  const context = await testContext(env.browser);
  const html = readFileSync(path.join(ROOT, 'www/shop-woocommerce.html'), 'utf8');
  const theme = [...html.matchAll(/class="product [^"]*post-(\d+)/g)].map((m) => m[1]);
  const { page, errors, state, events } = await open(context, `${env.server.base}/shop-woocommerce.html`);
  assert.equal(state, 'ready');
  const cards = await page.evaluate(() => [...document.querySelectorAll('ul.products > li.product')].map((li) => ({
    id: [...li.classList].find((c) => c.startsWith('post-')).slice(5),
    first: li.classList.contains('first'),
    last: li.classList.contains('last'),
  })));
  const ids = cards.map((c) => c.id);
  assert.notDeepEqual(ids, theme, 'reordered');
  assert.deepEqual([...ids].sort(), [...theme].sort(), 'the same products');
  cards.forEach((c, k) => {
    assert.equal(c.first, k % 4 === 0, `first at ${k}`);
    assert.equal(c.last, k % 4 === 3, `last at ${k}`);
  });
  // The page's type comes from WooCommerce's body classes (its path names none).
  const views = (await events()).filter((e) => e.type === 'page_view');
  assert.deepEqual(views.map((e) => e.page), ['collection']);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the cart page fills its upsell slot', async () => {
  const context = await testContext(env.browser);
  const { page, errors, state, events } = await open(context, `${env.server.base}/cart.html`);
  assert.equal(state, 'ready');
  assert.deepEqual((await events()).filter((e) => e.type === 'page_view').map((e) => e.page), ['cart']);
  const n = await page.evaluate(() => document.querySelectorAll('[data-tailor-slot="cart-upsell"] [data-tailor-item]').length);
  assert.equal(n, 4);
  assert.deepEqual(errors, []);
  await context.close();
});

test("Dawn's cart-update events are tracked and re-render the cart upsell", async () => {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  // Dawn's pub/sub bus, as its theme defines it before any app script.
  await page.addInitScript(() => {
    const subscribers = {};
    window.PUB_SUB_EVENTS = { cartUpdate: 'cart-update' };
    window.subscribe = (name, cb) => { (subscribers[name] ||= []).push(cb); return () => {}; };
    window.publish = (name, data) => (subscribers[name] || []).forEach((cb) => cb(data));
  });
  await page.goto(`${env.server.base}/cart.html`);
  assert.equal(await settled(page), 'ready');
  const before = await page.evaluate(() => document.querySelector('[data-tailor-slot="cart-upsell"]').dataset.tailorRequest);
  const added = catalog.products.find((p) => p.category === 'Kitchen & baking');
  await page.evaluate((id) => window.publish('cart-update', {
    source: 'product-form', productVariantId: 4001,
    cartData: { items: [{ id: 4001, variant_id: 4001, product_id: id, quantity: 2 }] },
  }), added.id);
  const profile = await page.evaluate(() => window.tailor.profile());
  assert.deepEqual(profile.cart, [{ item: added.id, qty: 2 }]);
  const after = await page.evaluate(() => ({
    request: document.querySelector('[data-tailor-slot="cart-upsell"]').dataset.tailorRequest,
    items: [...document.querySelectorAll('[data-tailor-slot="cart-upsell"] [data-tailor-item]')].map((n) => n.dataset.tailorItem),
  }));
  assert.notEqual(after.request, before, 're-rendered');
  assert.ok(!after.items.includes(String(added.id)), 'never upsells what is in the cart');
  assert.deepEqual(errors, []);
  await context.close();
});

test('every demo page that runs the loader links the anti-flicker rules before it', () => {
  const pages = readdirSync(path.join(ROOT, 'www')).filter((f) => f.endsWith('.html'));
  const running = pages.filter((name) => /<script[^>]*src="\/tailor\.js"/.test(readFileSync(path.join(ROOT, 'www', name), 'utf8')));
  assert.ok(running.length >= 6, `the demo pages that run the loader: ${running}`);
  for (const name of running) {
    const html = readFileSync(path.join(ROOT, 'www', name), 'utf8');
    const link = html.indexOf('<link rel="stylesheet" href="/tailor-antiflicker.css">');
    const script = html.search(/<script[^>]*src="\/tailor\.js"/);
    assert.ok(link > 0 && link < script, `${name} links the anti-flicker rules before the loader`);
  }
  // The collection page is generated from its template (scripts/make_demo_catalog.py).
  const template = readFileSync(path.join(ROOT, 'scripts/collection.template.html'), 'utf8');
  assert.ok(template.includes('<link rel="stylesheet" href="/tailor-antiflicker.css">'));
});

test('an engine later than the reveal deadline leaves the grid as the shopper saw it, and says so', async () => {
  const orders = {};
  for (const [name, strictReveal, background] of [['strict', true, false], ['relaxed', false, false], ['background', true, true]]) {
    const context = await testContext(env.browser, { strictReveal });
    await context.addInitScript(() => document.addEventListener('tailor:ready', (e) => { window.__ready = e.detail; }));
    // A tab opened in the background (a middle click): hidden all along.
    if (background) {
      await context.addInitScript(() => {
        Object.defineProperty(Document.prototype, 'hidden', { get: () => true });
        Object.defineProperty(Document.prototype, 'visibilityState', { get: () => 'hidden' });
      });
    }
    // The snapshot's pointer answers after the 300 ms deadline (the network, not the test, is slow).
    await context.route(/\/v1\/snapshot\/demo$/, async (route) => {
      await new Promise((r) => setTimeout(r, 600));
      await route.continue();
    });
    const { page, errors, state } = await open(context, `${env.server.base}/collection.html`);
    assert.equal(state, 'ready');
    const ready = await page.evaluate(() => window.__ready);
    orders[name] = { ready, grid: await page.evaluate(GRID_IDS) };
    if (name === 'strict') {
      // The page applied again later (a section reload, a cart change): the grid stays as the
      // shopper saw it then too.
      await applyAgain(page);
      orders.strict.again = await page.evaluate(GRID_IDS);
    }
    assert.deepEqual(errors, []);
    await context.close();
  }
  // At the real deadline: too late, nothing moved, the theme's order stays.
  assert.equal(orders.strict.ready.late, true);
  assert.equal(orders.strict.ready.moved, 0);
  assert.deepEqual(orders.strict.grid, THEME_ORDER);
  assert.deepEqual(orders.strict.again, THEME_ORDER);
  // With the deadline relaxed the same slow page is reordered.
  assert.equal(orders.relaxed.ready.late, false);
  assert.ok(orders.relaxed.ready.moved > 0);
  assert.notDeepEqual(orders.relaxed.grid, THEME_ORDER);
  // At the real deadline too, a page no one has seen yet is reordered.
  assert.equal(orders.background.ready.late, false);
  assert.ok(orders.background.ready.moved > 0);
  assert.deepEqual(orders.background.grid, orders.relaxed.grid);
});
