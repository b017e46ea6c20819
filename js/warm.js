// The engine's first calls, made by the worker (js/worker.js) before it hands the module to the
// page: see there. Its own module so that scripts/bench-middle-worker.js warms a module the same
// way.
import initWasm, { Engine, checkEvent, readPage, applyPage } from '../pkg/web/tailor.js';
import { uuid } from './runtime.js';

// The calls a page view makes, on a throwaway engine with the shopper's profile and id and the
// page's image and link hosts (the id picks the experiment arms, and the hosts which URLs are
// shown, so the calls take the page's own branches). Resolves to how many
// of the three DOM passes ran their whole path on the stand-in document below.
export function exercise(module, snapshot, profile, shopper, hosts) {
  return initWasm({ module_or_path: module }).then(() => {
    const e = Engine.init({ snapshot, profile, shopper, hosts, origin: location.origin });
    // (The page checks its events: `checkEvent` is its call. The queue is the worker's own.)
    // An event the engine refuses (a store too small for the items below) skips only itself.
    const send = (type, props) => {
      try { JSON.stringify(e.track(checkEvent({ id: uuid(), type, shopper: 'w', session: 'w', ts: Date.now(), ...props }))); } catch (_) { /* the page compiles it */ }
    };
    send('page_view', { page: 'product' });
    const recs = e.recommend({ placement: 'for-you' });
    const items = recs.map((r) => r.id);
    send('product_view', { item: items[0] });
    // The other events a page view tracks, each kind its own path (impressions come in a later
    // task of the page's, after the blocks show).
    const a = e.assignment({ placement: 'grid' });
    send('exposure', { placement: 'grid', arm: a.arm, experiment: a.experiment });
    send('rec_impression', { request: 'w', slot: 'similar', items, model_version: 'v0' });
    send('banner_impression', { banner: 'w', variant: 'w' });
    send('add_to_cart', { item: items[1] ?? items[0], qty: 1 });
    // A search, with what the engine redacts from free text (a card number, an email address).
    send('search', { query: 'w 4111 1111 1111 1111 w@w.w' });
    // (similar, frequently bought together and `rank` come in the rounds below.)
    for (const placement of ['recently-viewed', 'cart-upsell', 'trending', 'pick-up-where-you-left-off']) e.recommend({ placement, item: items[0] });
    const warmed = recs.length > 1 ? domCalls(e, recs) : 0;
    // The heaviest calls, ten rounds or 20 ms at most (the page waits for this answer).
    // V8 runs a wasm function in baseline code at first and optimizes one that keeps running,
    // in the background; the optimized code belongs to the module too, so the page's
    // recommendations and ranking then run it (BENCHMARKS.md, "a sixth round").
    for (let k = 0, end = performance.now() + 20; k < 10 && performance.now() < end; k++) {
      for (const placement of ['similar', 'frequently-bought-together', 'for-you']) e.recommend({ placement, item: items[k % items.length], n: 4 });
      e.rank({ items });
    }
    e.exportProfile();
    e.itemCount;
    e.free();
    return warmed;
  });
}

// The page's DOM calls (`readPage`, `applyPage`) around the engine's `decide`, on a stand-in
// document, since a worker has none. Every query finds two elements, each carrying what a
// product card, a slot, a banner and its variants carry (`recs` gives them real products, in
// the reverse of the shopper's order, so the grid has something to move). No selector is
// evaluated: the point is that each call runs its whole path once, here, and its wasm functions
// are compiled before the page calls them. The globals these calls check against (`Node`,
// `Element`, `Document`, `HTMLTemplateElement`) are only defined in this worker. Three passes:
// a product page with everything, a search page, and the first again with a merchant's
// `<template>`, whose `data-tailor-field` elements take each field in turn. Returns how many of
// the three got through. Then the grid once more without a path: the page's location comes from
// the global `location`, and its grid is Dawn's, then WooCommerce's (the queries for the
// adapters before them find nothing; the WooCommerce one also finds no product, so the page
// type is read from the body's classes). tests/e2e/warm.test.mjs checks, in Chromium's trace,
// that the demo's pages then compile no wasm function themselves.
function domCalls(e, recs) {
  const values = { 'data-tailor-current-product': 0, 'data-tailor-product': 0, 'data-product_id': 0, 'data-tailor-slot': 'similar', 'data-tailor-banner': 'b', 'data-tailor-variant': 'v', href: 1, 'data-tailor-field': 2, 'data-tailor-n': '4', 'data-category': 3, id: 4, class: 5 };
  const fields = ['title', 'price', 'reason', 'link', 'image'];
  let made = 0;
  // (Children name their parent: the page checks that what it read is still in place.)
  const list = function () { return Object.assign([new Fake(recs[1]), new Fake(recs[0])].map((c) => Object.assign(c, { parentNode: this })), { item(i) { return this[i]; } }); };
  const fake = () => new Fake(recs[0]);
  const none = () => {};
  let doc = null;
  class Fake {
    constructor(r) {
      this.r = r;
      this.f = fields[made++ % fields.length];
      this.id = 'CardLink-w-' + r.id;
      this.className = 'grid__item product post-' + r.id;
      // Every other element names a category (banner variants with and without one).
      this.c = made & 1 ? 'w' : null;
      this.localName = 'li';
      this.ownerDocument = this;
      // (Every element is in the document: the page walks up to it before it moves a grid.)
      this.parentNode = doc;
    }
    get children() { return list.call(this); }
    get content() { return fake(); }
    querySelector(selector) { return skip.includes(selector) ? null : fake(); }
    getAttribute(name) {
      const v = values[name];
      return v === 0 ? String(this.r.id) : v === 1 ? this.r.url : v === 2 ? this.f : v === 3 ? this.c : v === 4 ? this.id : v === 5 ? this.className : v ?? null;
    }
    hasAttribute(name) { return name in values; }
  }
  Object.assign(Fake.prototype, {
    querySelectorAll: list, createElement: fake, cloneNode: fake,
    setAttribute: none, removeAttribute: none, appendChild: none, insertBefore: none, moveBefore: none, before: none, after: none, remove: none,
  });
  // The root is the document; everything under it an element (the engine treats them apart).
  class Doc extends Fake {}
  self.Node = self.Element = Fake;
  self.Document = Doc;
  const root = doc = new Doc(recs[0]);
  // The page's three steps: read (the wasm, on the page), decide (the engine), apply.
  const pass = (opts) => { const read = readPage(opts); applyPage(read.reading, e.decide(read.request)); };
  let ran = 0;
  let skip = [];
  const call = (opts) => {
    try { pass(opts); ran++; } catch (_) { /* a path it could not take: the page compiles it */ }
  };
  // A page with everything (its grid, slots, banners and predictive results), a search page,
  // and the first again with a merchant's `<template>` in each slot.
  call({ root, path: '/', search: '', item: recs[0].id });
  // (The search page: no product of its own, so its type comes from its path.)
  skip = ['[data-tailor-current-product]', 'product-info[data-product-id]', 'form.cart [name="add-to-cart"]', 'body.woocommerce, body.woocommerce-page'];
  call({ root, path: '/search', search: '' });
  skip = [];
  self.HTMLTemplateElement = Fake;
  call({ root, path: '/', search: '', item: recs[0].id });
  // The page's own paths, once more (not counted): its location read from the global `location`
  // (here the worker's), then a Dawn grid and a WooCommerce one, each found by its own selectors
  // once the adapters before it find nothing.
  // (The WooCommerce pass finds no product of the page's own either: then its type comes from
  // the body's WooCommerce classes.)
  for (skip of [['[data-tailor-grid]'], ['[data-tailor-grid]', 'ul#product-grid', '[data-tailor-current-product]', 'product-info[data-product-id]', 'form.cart [name="add-to-cart"]']]) {
    try { pass({ root, parts: 'g' }); } catch (_) { /* as above */ }
  }
  return ran;
}
