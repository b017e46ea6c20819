// A floor for scripts/bench-page.mjs: the page changes Tailor makes, with the decisions already
// made, in plain JavaScript. No engine, no WebAssembly, no storage, no events. It reads the
// anti-flicker deadline as the loader does, reorders the grid (reading each card's product link;
// it moves every card, where the loader moves only those out of place, so the floor errs high),
// fills each declared slot with a block of the same markup as src/blocks.rs, watches the blocks
// for impressions and the grid for re-renders, listens for clicks, and marks the page ready,
// under the same User Timing names as js/loader.js (the wiring and the grid in one task, the
// blocks in the next). It never skips the grid for being late (KEEP_REVEAL is for the loader
// alone). What a page view of the real loader costs beyond this is the price of deciding on the
// device.
//
// With `window.__floorWorker` set (FLOOR=worker), the decisions come from a worker instead, as
// they would for a JavaScript DOM layer fed by a worker that holds the engine
// (ARCHITECTURE.md, "Open question"): the page starts the worker (`tailor.worker.js` next to
// this script: scripts/bench-floor-worker.js), posts what it read (the cards' ids, the slots),
// and applies the order and the blocks' items the worker answers, plus two events posted to it.
// The worker decides nothing real; its cost is not the page's.
//
//   FLOOR=1 (or FLOOR=worker, or FLOOR=1,worker) DISTS=dist RUNS=11 RATES=1,4 PRODUCTS=500 VISITS=returning SPANS=1 node scripts/bench-page.mjs
//
// It is a measuring stick, never shipped: nothing here is personalized.
(() => {
  const t0 = performance.now();
  const span = (name, start) => performance.measure(name, { start });
  const pause = () => new Promise((r) => setTimeout(r));
  const ready = () => new Promise((r) => (document.readyState === 'loading' ? document.addEventListener('DOMContentLoaded', r, { once: true }) : r()));
  document.documentElement.setAttribute('data-tailor', 'loading');
  queueMicrotask(() => span('tailor:eval', t0));
  const grid = () => document.querySelector('[data-tailor-grid], ul#product-grid, ul.products');
  // A fixed permutation that moves most cards: the cards by a hash of their link's length.
  const reorder = (g) => {
    const cards = [...g.children].map((c) => {
      const a = c.querySelector('a[href*="/products/"]');
      return [c, a ? a.getAttribute('href').length * 7919 % 101 : 0];
    });
    cards.sort((x, y) => x[1] - y[1]);
    const move = g.moveBefore ? (n) => g.moveBefore(n, null) : (n) => g.insertBefore(n, null);
    for (const [c] of cards) move(c);
    return cards.length;
  };
  const el = (tag, cls) => { const e = document.createElement(tag); e.className = cls; return e; };
  // Fixed items, [id, title, href, price, reason], as the worker variant's worker answers them.
  const items = (n) => Array.from({ length: n }, (_, i) => [7400000000000 + i, `A Product Of The Catalog Number ${i}`, `/products/a-product-of-the-catalog-${i}`, `${i + 1}.95`, 'Because you viewed Another Product']);
  // FLOOR=worker: the worker starts with the script, as the loader's does.
  const worker = window.__floorWorker ? new Worker(new URL('tailor.worker.js', document.currentScript.src)) : null;
  const ask = (facts) => new Promise((resolve) => {
    worker.onmessage = (e) => { const t = performance.now(); resolve([e.data, t]); };
    worker.postMessage(facts);
  });
  // Items into src/blocks.rs's markup.
  const fill = (slot, shown) => {
    for (const old of slot.querySelectorAll(':scope > [data-tailor-rendered]')) old.remove();
    slot.setAttribute('data-tailor-request', 'abcdef12-1');
    slot.setAttribute('data-tailor-placement', 'similar');
    const b = el('div', 'tailor-block');
    b.setAttribute('data-tailor-rendered', '');
    const title = slot.getAttribute('data-tailor-title');
    if (title) { const h = el('h2', 'tailor-block__title'); h.textContent = title; b.appendChild(h); }
    const list = el('ul', 'tailor-block__list');
    shown.forEach(([id, name, href, price, reason], i) => {
      const li = el('li', 'tailor-block__item');
      const a = el('a', 'tailor-block__link');
      a.setAttribute('href', href);
      const n = el('span', 'tailor-block__name');
      n.textContent = name;
      a.appendChild(n);
      const p = el('span', 'tailor-block__price');
      p.textContent = price;
      a.appendChild(p);
      li.appendChild(a);
      const why = el('span', 'tailor-block__reason');
      why.textContent = reason;
      li.appendChild(why);
      li.setAttribute('data-tailor-item', String(id));
      li.setAttribute('data-tailor-position', String(i));
      list.appendChild(li);
    });
    b.appendChild(list);
    slot.appendChild(b);
    slot.setAttribute('data-tailor-state', 'rendered');
  };
  ready().then(async () => {
    await pause();
    let t = performance.now();
    // (The loader's deadline for moving what the shopper may have seen: read, as it reads it.)
    const revealMs = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--tailor-reveal-ms'));
    const io = new IntersectionObserver(() => {}, { threshold: 0.5 });
    let g = grid();
    let answer = null;
    if (worker) {
      // What the page read goes to the worker; its answer is a task of its own.
      const cards = g ? [...g.children].map((c) => { const a = c.querySelector('a[href*="/products/"]'); return a ? a.getAttribute('href') : ''; }) : [];
      const slots = [...document.querySelectorAll('[data-tailor-slot]')].map((s) => [s.getAttribute('data-tailor-slot'), Number(s.getAttribute('data-tailor-n')) || 4]);
      worker.postMessage({ event: { type: 'page_view', page: g ? 'collection' : 'product', ts: Date.now() } });
      span('tailor:apply', t);
      [answer, t] = await ask({ cards, slots, path: location.pathname });
      g = grid();
    }
    const moved = !g ? 0 : answer ? ((cards) => {
      const move = g.moveBefore ? (n) => g.moveBefore(n, null) : (n) => g.insertBefore(n, null);
      for (const i of answer.order) move(cards[i]);
      return cards.length;
    })([...g.children]) : reorder(g);
    span('tailor:apply', t);
    await pause();
    t = performance.now();
    for (const [i, slot] of [...document.querySelectorAll('[data-tailor-slot]')].entries()) {
      fill(slot, answer ? answer.blocks[i] || [] : items(Math.min(48, Number(slot.getAttribute('data-tailor-n')) || 4)));
      io.observe(slot);
    }
    if (worker) worker.postMessage({ event: { type: 'exposure', placement: 'similar', ts: Date.now() } });
    document.addEventListener('click', (ev) => ev.target.closest && ev.target.closest('[data-tailor-item]'), true);
    const mo = new MutationObserver(() => {});
    if (g && g.parentNode) mo.observe(g.parentNode, { childList: true, subtree: true });
    document.documentElement.setAttribute('data-tailor', 'ready');
    document.dispatchEvent(new CustomEvent('tailor:ready', { detail: { moved, late: performance.now() > revealMs } }));
    span('tailor:apply', t);
  });
})();
