// A measuring stick for scripts/bench-page.mjs, never shipped: the page's side of the loader
// (`readPage`, `applyPage`, `checkEvent`) written in plain JavaScript, so that the real loader
// (js/loader.js: its configuration, consent, storage, events, cart and navigation hooks, the
// worker's engine) runs with no WebAssembly on the page. scripts/build-jsdom.sh bundles the
// loader with this file in place of the wasm-bindgen glue; the worker is the shipped one.
//
// It answers the question ARCHITECTURE.md ("Open question: the page's main-thread budget")
// could only estimate: what a page view costs when the page's DOM layer is JavaScript and
// everything else is as shipped. It covers what the measured pages need, with the same DOM
// calls as src/ (Dawn's and the generic grid, WooCommerce's ids, the slots and their default
// positions, the blocks' markup, the marks, the banners' query); search results and banners
// are read, never placed. It checks no event (the worker checks the loader's own).
const RS = '\u001e';
const US = '\u001f';
const PLACED = 'data-tailor-placed';

export function initSync() {}
export const checkEvent = (e) => e;

const KINDS = ['home', 'collection', 'search', 'product', 'cart', 'other'];
function kindOfPath(p) {
  if (p.endsWith('.html')) p = p.slice(0, -5);
  if (!p || p === '/' || p === '/index') return 'home';
  if (p.startsWith('/products/') || p === '/product') return 'product';
  if (p.startsWith('/collections') || p === '/collection') return 'collection';
  return p === '/search' ? 'search' : p === '/cart' ? 'cart' : 'other';
}
const num = (v) => (v != null && v.trim() !== '' && !Number.isNaN(+v) ? +v : null);
const clean = (s) => String(s).split(RS).join(' ').split(US).join(' ');

function cardLinkId(id) {
  if (!id || !id.startsWith('CardLink-')) return null;
  const n = id.slice(id.lastIndexOf('-') + 1);
  return n && n.split('').every((c) => c >= '0' && c <= '9') ? +n : null;
}
const ADAPTERS = [
  ['generic', '[data-tailor-grid]', [':scope > [data-tailor-product]', ':scope > [data-tailor-product]:not([data-tailor-placed])', ':scope > [data-tailor-placed] ~ [data-tailor-product]:not([data-tailor-placed]) ~ [data-tailor-placed]'], [['', 'data-tailor-product', num]]],
  ['dawn', 'ul#product-grid', [':scope > .grid__item', ':scope > .grid__item:not([data-tailor-placed])', ':scope > [data-tailor-placed] ~ .grid__item:not([data-tailor-placed]) ~ [data-tailor-placed]'], [['[id^="CardLink-"]', 'id', cardLinkId]]],
  ['woocommerce', 'ul.products', [':scope > .product', ':scope > .product:not([data-tailor-placed])', ':scope > [data-tailor-placed] ~ .product:not([data-tailor-placed]) ~ [data-tailor-placed]'], [['[data-product_id]', 'data-product_id', num]]],
];
function findGrid(root, keep) {
  for (const [adapter, sel, cards, places] of ADAPTERS) {
    const container = root.querySelector(sel);
    if (!container) continue;
    const k = keep && !container.querySelector(cards[2]);
    const list = container.querySelectorAll(cards[k ? 1 : 0]);
    const ids = [];
    for (const card of list) {
      let id = null;
      for (const [inner, attr, parse] of places) {
        const el = inner ? card.querySelector(inner) : card;
        id = el && parse(el.getAttribute(attr));
        if (id != null) break;
      }
      if (id == null) return null;
      ids.push(id);
    }
    return ids.length ? { adapter, container, list, cards: [...list], ids } : null;
  }
  return null;
}
function sorted(root) {
  const control = root.querySelector('select[name=sort_by],select[name=orderby]');
  let order = control ? control.value : null;
  for (const pair of location.search.split('#')[0].split(/[?&]/)) {
    const [k, v = ''] = pair.split('=');
    if (k === 'sort_by' || k === 'orderby') order = v;
  }
  return order != null && !['', 'manual', 'best-selling', 'relevance', 'menu_order', 'popularity'].includes(order);
}
function defaultSlots(root) {
  if (root.querySelector('[data-tailor-slot]')) return;
  for (const [anchor, name, before] of [['product-recommendations', 'similar', true], ['cart-items', 'cart_upsell', false]]) {
    const at = root.querySelector(anchor);
    if (!at) continue;
    const slot = document.createElement('div');
    slot.setAttribute('data-tailor-slot', name);
    slot.setAttribute('data-tailor-default', anchor);
    if (before) at.before(slot); else at.after(slot);
  }
}

const readings = [];
let next = 0;
export function readPage(opts = {}) {
  const root = opts.root || document;
  const letters = typeof opts.parts === 'string' ? opts.parts : null;
  const has = (c) => letters == null || letters.includes(c);
  let item = null;
  let adapter = 'url';
  let el;
  if ((el = root.querySelector('[data-tailor-current-product]'))) { item = num(el.getAttribute('data-tailor-current-product')); adapter = 'generic'; }
  else if ((el = root.querySelector('product-info[data-product-id]'))) { item = num(el.getAttribute('data-product-id')); adapter = 'dawn'; }
  else if ((el = root.querySelector('form.cart [name="add-to-cart"]'))) { item = num(el.getAttribute('value')); adapter = 'woocommerce'; }
  const declared = root.querySelector('[data-tailor-page]')?.getAttribute('data-tailor-page')?.trim();
  let kind = KINDS.includes(declared) ? declared : item != null ? 'product' : null;
  if (!kind) {
    const body = root.querySelector('body.woocommerce, body.woocommerce-page');
    kind = body ? 'collection' : kindOfPath(location.pathname);
  }
  if (!['collection', 'search', 'home', 'cart'].includes(kind)) item = item ?? opts.item ?? null;
  else item = null;
  if (kind !== 'product') item = null;
  let text = `p${US}${kind}${US}${item ?? ''}`;
  const searching = kind === 'search';
  const grid = has('g') && !searching && !sorted(root) ? findGrid(root, true) : null;
  if (grid) text += RS + 'g' + grid.ids.map((i) => US + i).join('');
  if (has('r')) root.querySelector('#predictive-search-results-products-list');
  let slots = [];
  if (has('s')) {
    defaultSlots(root);
    slots = [...root.querySelectorAll('[data-tailor-slot]')];
    for (const s of slots) {
      const t = s.getAttribute('data-tailor-title');
      text += `${RS}b${US}${clean(s.getAttribute('data-tailor-slot') || '')}${US}${clean(s.getAttribute('data-tailor-n') || '')}${US}${t == null ? '' : '+' + clean(t)}`;
    }
  }
  if (has('b')) root.querySelectorAll('[data-tailor-banner]:not([data-tailor-placed])');
  if (readings.length === 8) readings.shift();
  readings.push([++next, { grid, slots }]);
  return { page: { type: kind, item, adapter }, request: text, reading: next };
}

// The moves that put cards 0..n into `order`, the longest increasing run staying (src/grid.rs).
function moves(order) {
  const tails = [];
  const prev = new Array(order.length).fill(-1);
  order.forEach((card, pos) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (order[tails[m]] < card) lo = m + 1; else hi = m; }
    if (lo > 0) prev[pos] = tails[lo - 1];
    tails[lo] = pos;
  });
  const keep = new Array(order.length).fill(false);
  for (let at = tails.length ? tails[tails.length - 1] : -1; at !== -1; at = prev[at]) keep[at] = true;
  const out = [];
  let nxt = null;
  for (let pos = order.length - 1; pos >= 0; pos--) {
    if (!keep[pos]) out.push([order[pos], nxt]);
    nxt = order[pos];
  }
  return out;
}
const stillThere = (container, nodes) => container.isConnected && nodes.every((n) => n.parentNode === container);
const price = (c) => (c === '' ? '' : `${Math.floor(c / 100)}.${Math.floor((c % 100) / 10)}${c % 10}`);
function el(tag, cls) { const e = document.createElement(tag); if (cls) e.className = cls; return e; }
function render(slot, title, request, placement, items) {
  for (const old of slot.querySelectorAll(':scope > [data-tailor-rendered]')) old.remove();
  slot.setAttribute('data-tailor-request', request);
  slot.setAttribute('data-tailor-placement', placement);
  if (!items.length) return slot.setAttribute('data-tailor-state', 'empty');
  const block = el('div', 'tailor-block');
  block.setAttribute('data-tailor-rendered', '');
  if (title) { const h = el('h2', 'tailor-block__title'); h.textContent = title; block.append(h); }
  const list = el('ul', 'tailor-block__list');
  for (const [id, position, name, url, image, cents, why] of items) {
    const li = el('li', 'tailor-block__item');
    const link = el(url ? 'a' : 'span', 'tailor-block__link');
    if (url) link.setAttribute('href', url);
    if (image) { const img = el('img', 'tailor-block__image'); img.setAttribute('src', image); img.setAttribute('loading', 'lazy'); img.setAttribute('alt', name); link.append(img); }
    const t = el('span', 'tailor-block__name');
    t.textContent = name;
    link.append(t);
    if (cents !== '') { const p = el('span', 'tailor-block__price'); p.textContent = price(+cents); link.append(p); }
    li.append(link);
    const w = el('span', 'tailor-block__reason');
    w.textContent = why;
    li.append(w);
    li.setAttribute('data-tailor-item', id);
    li.setAttribute('data-tailor-position', position);
    list.append(li);
  }
  block.append(list);
  slot.append(block);
  slot.setAttribute('data-tailor-state', 'rendered');
  if (slot.hasAttribute('data-tailor-default')) {
    const theirs = slot.nextElementSibling;
    if (theirs && theirs.localName === 'product-recommendations') theirs.setAttribute('hidden', '');
  }
}
export function applyPage(n, decisions, parts) {
  const r = readings.find((x) => x[0] === n);
  const out = { moved: 0, slots: [], banners: [], arms: {} };
  if (!r) return out;
  const { grid, slots } = r[1];
  const has = (c) => parts == null || parts.includes(c);
  let order = null;
  const blocks = [];
  for (const rec of decisions.split(RS)) {
    const f = rec.split(US);
    if (f[0] === 'g') order = f.slice(1).map(Number);
    else if (f[0] === 'x') blocks.push(null);
    else if (f[0] === 'b') {
      const items = [];
      for (let k = 4; k + 7 <= f.length; k += 7) items.push(f.slice(k, k + 7));
      blocks.push([f[1], f[2], f[3], items]);
    } else if (f[0] === 'a') out.arms[f[1]] = f[3] ? { arm: f[2], experiment: f[3] } : { arm: f[2] };
  }
  if (grid && (has('g') || has('k')) && stillThere(grid.container, grid.cards)) {
    if (order && has('g') && order.length === grid.cards.length) {
      const end = grid.cards[grid.cards.length - 1].nextElementSibling;
      let atomic = !!grid.container.moveBefore;
      for (const [k, before] of moves(order)) {
        const b = before == null ? end : grid.cards[before];
        if (atomic) { try { grid.container.moveBefore(grid.cards[k], b); continue; } catch (_) { atomic = false; } }
        grid.container.insertBefore(grid.cards[k], b);
      }
      out.moved = order.filter((ix, k) => ix !== k).length;
    }
    for (const c of grid.list) c.setAttribute(PLACED, '');
  }
  if (has('s')) {
    slots.forEach((slot, k) => {
      const b = blocks[k];
      if (!b) return;
      render(slot, b[1], b[2], b[0], b[3]);
      out.slots.push({ element: slot, slot: slot.getAttribute('data-tailor-slot') || '', placement: b[0], request: b[2], items: b[3].map((i) => +i[0]) });
    });
  }
  return out;
}
