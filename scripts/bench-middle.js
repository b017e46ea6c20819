// The "middle way" of ARCHITECTURE.md ("Open question: the page's main-thread budget"), built
// to be measured beside the loader (`DISTS=dist,OUT node scripts/bench-page.mjs`, OUT built by
// scripts/build-middle.sh): the DOM adapters stay in the wasm on the page, and the engine runs
// in a worker (scripts/bench-middle-worker.js). The worker compiles the module, warms it as the
// loader's worker does (js/warm.js, which makes the page's calls on a stand-in document), starts
// the engine and hands the module to the page; the page instantiates it, reads the page with it
// (`readPage`, src/exchange.rs), posts the request, and applies the worker's decisions with it
// (`applyPage`): the grid in one task, the blocks in the next. The wiring around them is
// bench-floor.js's (impressions observed, clicks listened to, the grid watched), under the same
// User Timing names as js/loader.js.
//
// What it leaves out, as the floors do: the loader's configuration, consent, storage, the
// cart and navigation hooks, and the events' ids and queue. Never shipped.
import { initSync, readPage, applyPage } from '../pkg/web/tailor.js';

const t0 = performance.now();
const span = (name, start) => performance.measure(name, { start });
const pause = () => new Promise((r) => setTimeout(r));
const script = document.currentScript;
document.documentElement.setAttribute('data-tailor', 'loading');
queueMicrotask(() => span('tailor:eval', t0));
const grid = () => document.querySelector('[data-tailor-grid], ul#product-grid, ul.products');
const ready = () => new Promise((r) => (document.readyState === 'loading' ? document.addEventListener('DOMContentLoaded', r, { once: true }) : r()));
// One answer of the worker at a time, with the moment it arrived.
let next;
const answer = () => new Promise((resolve) => { next = resolve; });

(async () => {
  // The worker starts in the next task, as the loader's does.
  await pause();
  let t = performance.now();
  const worker = new Worker(new URL('tailor.worker.js', script.src));
  worker.onmessage = (e) => next([e.data, performance.now()]);
  const data = script.dataset;
  worker.postMessage([data.site, new URL(data.endpoint || '/', script.src).href, new URL('tailor_bg.wasm', script.src).href]);
  span('tailor:eval', t);
  let module;
  [[module], t] = await answer();
  initSync({ module });
  await ready();
  const read = readPage({ root: document });
  const { page } = read;
  worker.postMessage({ event: { type: 'page_view', page: page.type } });
  if (page.item != null) worker.postMessage({ event: { type: 'product_view', item: page.item } });
  worker.postMessage({ request: read.request });
  span('tailor:decode', t);
  let decisions;
  [decisions, t] = await answer();
  // (The loader's deadline for moving what the shopper may have seen: read, as it reads it.)
  const revealMs = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--tailor-reveal-ms'));
  const { moved } = applyPage(read.reading, decisions, 'gr');
  span('tailor:apply', t);
  await pause();
  t = performance.now();
  const io = new IntersectionObserver(() => {}, { threshold: 0.5 });
  const { slots } = applyPage(read.reading, decisions, 'sb');
  for (const s of slots) if (s.items.length) io.observe(s.element);
  for (const s of slots) if (s.items.length) worker.postMessage({ event: { type: 'exposure', placement: s.placement } });
  document.addEventListener('click', (ev) => ev.target.closest && ev.target.closest('[data-tailor-item]'), true);
  const mo = new MutationObserver(() => {});
  const g = grid();
  if (g && g.parentNode) mo.observe(g.parentNode, { childList: true, subtree: true });
  document.documentElement.setAttribute('data-tailor', 'ready');
  document.dispatchEvent(new CustomEvent('tailor:ready', { detail: { moved, slots: slots.length, late: performance.now() > revealMs } }));
  span('tailor:apply', t);
})().catch((err) => {
  document.documentElement.setAttribute('data-tailor', 'failed');
  console.warn('[tailor middle]', err);
});
