// Tailor's loader: the one script a merchant pastes.
//
//   <script async src="https://SERVER/tailor.js" data-site="SITE" data-endpoint="https://SERVER/"></script>
//
// It reads its configuration from its own tag and starts its worker (js/worker.js), which
// compiles the wasm, gets the site's snapshot (from the Cache API when the shopper has it,
// revalidated in the background) and runs the engine. The page instantiates the same module to
// read its markup and change it (the product grid, search results, recommendation slots and
// banners) as the engine decides, and to check and queue its events. Every decision is made by
// the engine; this file only wires the browser to it.
//
// It fails open: any error, a missing snapshot or blocked WebAssembly leaves the page exactly as
// the theme rendered it, and nothing reaches window.onerror. The state is visible as
// <html data-tailor="loading|ready|failed|skipped"> and a `tailor:<state>` event on document.
//
// window.tailor is a command queue: `(window.tailor = window.tailor || []).push(['track',
// 'add_to_cart', { item: 123 }])` works before the script has loaded; afterwards
// window.tailor.push, .track, .ready() and the rest are available (.recommend, .rank, .profile,
// .explain and .assignment ask the worker's engine: they return promises).

import { initSync, checkEvent, readPage, applyPage } from '../pkg/web/tailor.js?page';
import { start, calls, fail, mark, measure, later, since, keeper, saveNow, emptyModule, serverUrl } from './runtime.js';

mark('tailor:eval');

const script = document.currentScript;
const WASM_FILE = 'tailor_bg.wasm';
// The worker (js/worker.js), next to this script; the versioned build names its own and pins it.
const WORKER_FILE = 'tailor.worker.js';
const WORKER_INTEGRITY = '__TAILOR_WORKER_INTEGRITY__';

function setState(state, detail) {
  document.documentElement.setAttribute('data-tailor', state);
  document.dispatchEvent(new CustomEvent('tailor:' + state, { detail }));
}

// Configuration from the script tag. The endpoint defaults to the server the script came from.
// Throws (inside boot, so the page never sees it) on an unparsable URL.
function config(tag) {
  const data = (tag && tag.dataset) || {};
  const src = (tag && tag.src) || location.href;
  return {
    site: data.site || '',
    endpoint: serverUrl(data.endpoint || '/', src),
    // The versioned build (scripts/versioned.mjs) names its own wasm and pins its sha384.
    wasm: new URL(data.wasm || WASM_FILE, src),
    // (No regular expression unless there are hosts: its first use costs a page 0.8 ms at 4x.)
    hosts: data.hosts ? data.hosts.split(/[\s,]+/).filter(Boolean) : [],
    // Selectors for a theme no built-in adapter knows (they override the site config's).
    adapter: data.grid && data.card ? { grid: data.grid, card: data.card, id_attribute: data.cardId } : null,
    test: data.test === 'true' || window.__tailorTest === true,
    // Consent (docs/privacy.md): none | opt-in | opt-out | shopify (the default on Shopify).
    consent: data.consent || (window.Shopify ? 'shopify' : 'none'),
    dnt: data.dnt === 'honor',
    // Personalize in memory before consent (off: the page stays as rendered until consent).
    beforeConsent: data.beforeConsent !== 'off',
    // A logged-in customer's id hash (an HMAC), for profile re-hydration.
    customer: data.customer || '',
    // Send search queries as SHA-256 hashes (the on-device profile still sees them).
    hashQueries: data.hashQueries === 'true',
    // The site's public write key, when its sync server asks for one (`site.write_key`).
    key: data.key,
    // data-worker="off": the worker's code runs on the page (`agent`).
    worker: data.worker !== 'off',
  };
}

function domReady() {
  if (document.readyState !== 'loading') return Promise.resolve();
  return new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
}

// (Substrings, not a regular expression: compiling one costs every page view 0.7 ms at 4x,
// BENCHMARKS.md "a seventeenth round".)
function isBot() {
  // (Cubot makes Android phones, whose model names carry its name.)
  const ua = navigator.userAgent.toLowerCase().replace('cubot', '');
  return navigator.webdriver === true || ['bot', 'crawl', 'spider', 'slurp', 'headless', 'lighthouse'].some((w) => ua.includes(w));
}

// The site's own selectors (config [site.adapter] or the tag's data-grid/data-card/data-card-id)
// become the generic adapter's attributes: the grid gets data-tailor-grid and each card that is
// a direct child and has an id gets data-tailor-product. A selector the browser cannot parse
// marks nothing, and is answered true (`apply` reports it).
function markAdapter(a) {
  if (!a || !a.grid || !a.card) return;
  try {
    // (Both are checked before anything is marked: one list, invalid if either is.)
    document.documentElement.matches(a.grid + ',' + a.card);
    for (const grid of document.querySelectorAll(a.grid)) {
      grid.setAttribute('data-tailor-grid', '');
      for (const card of grid.children) {
        const id = card.matches(a.card) && card.getAttribute(a.id_attribute || 'data-product-id');
        if (id) card.setAttribute('data-tailor-product', id);
      }
    }
  } catch (_) { return 1; /* an invalid selector: the page is left to the built-in adapters */ }
}

// The product a page shows, when the theme adapter found none: Shopify's analytics metadata,
// else a JSON-LD Product with a numeric productID or sku.
function metaProduct() {
  const id = Number(window.ShopifyAnalytics?.meta?.product?.id);
  if (id) return id;
  for (const el of document.querySelectorAll('script[type="application/ld+json"]')) {
    try {
      const j = JSON.parse(el.textContent);
      for (const o of [].concat(j['@graph'] || j)) {
        const id = o && o['@type'] === 'Product' && Number(o.productID || o.sku);
        if (id) return id;
      }
    } catch (_) { /* not JSON */ }
  }
  return null;
}

// Cart changes become add_to_cart and remove_from_cart events. Sources: Shopify's Ajax cart API
// (fetch to /cart/add, /cart/change, /cart/update, /cart/clear, /cart.js), plain forms posting to
// /cart/add, and Dawn's cart-update bus. A full cart is compared with the last one seen; an add
// reported twice within 2 s (a form's submit and then its fetch) counts once.
function cartTracker(track) {
  let known = null;
  const lastAdd = new Map();
  const add = (item, qty) => {
    if (!item || Date.now() - (lastAdd.get(item) || 0) < 2000) return;
    lastAdd.set(item, Date.now());
    track('add_to_cart', { item, qty: Math.max(1, qty || 1) });
    if (known) known.set(item, (known.get(item) || 0) + Math.max(1, qty || 1));
  };
  const full = (cart) => {
    const now = new Map();
    for (const l of cart.items || []) now.set(l.product_id, (now.get(l.product_id) || 0) + (Number(l.quantity) || 0));
    if (known) {
      for (const [item, qty] of now) if (qty > (known.get(item) || 0)) add(item, qty - (known.get(item) || 0));
      for (const [item, qty] of known) if (qty > (now.get(item) || 0)) track('remove_from_cart', { item, qty: qty - (now.get(item) || 0) });
    }
    known = now;
  };
  const requested = (body) => {
    try {
      if (body instanceof FormData || body instanceof URLSearchParams) return Number(body.get('quantity')) || 1;
      const j = JSON.parse(body);
      return Number(j.quantity || (j.items && j.items[0] && j.items[0].quantity)) || 1;
    } catch (_) { return 1; }
  };
  const original = window.fetch;
  window.fetch = function (input, init) {
    const result = original.apply(this, arguments);
    try {
      const path = new URL(input && input.url ? input.url : String(input), location.href).pathname;
      const m = /\/cart(?:\/(add|change|update|clear))?(?:\.js)?$/.exec(path);
      if (m) {
        const qty = m[1] === 'add' ? requested(init && init.body) : 0;
        result.then((r) => (r.ok ? r.clone().json() : null)).then((j) => {
          if (!j) return;
          if (m[1] === 'add') for (const l of j.items || [j]) add(l.product_id, qty);
          else if (j.items) full(j);
        }).catch(() => {});
      }
    } catch (_) { /* never in the page's way */ }
    return result;
  };
  return { add, full };
}

// The rest of the work in a task of its own, ahead of the tasks already waiting where the
// browser can (scheduler.yield).
const pause = () => new Promise((resolve) => (self.scheduler && scheduler.yield ? scheduler.yield().then(resolve) : setTimeout(resolve)));

// The page's main thread is the shopper's, so a worker (js/worker.js) does what needs no page:
// it downloads and compiles the wasm, gets the snapshot (Cache API, revalidated in the
// background) and runs the engine (`far`, below), after a first round of its calls, the DOM
// calls included, on a throwaway engine, so that the module it hands to the page has the code
// of the page's own calls (reading and changing the page, checking and queueing events)
// compiled. It is its own file, next to this script: on the page's origin it runs from its URL;
// across origins from a blob: that imports it; and in the versioned build, which pins it, from a
// blob: of its bytes fetched with that integrity, so a pinned build stays pinned. Under Trusted
// Types the URLs go through a policy of ours. It answers [module, { version, adapter }, warmed,
// keys] or [null, code, message]. A page that cannot start a worker (a CSP without blob:
// workers or without the file, data-worker="off", a tag with an integrity attribute on a build
// that pins no worker) runs the same file as a script, which talks to the page over a
// MessageChannel: one implementation either way.
async function agent(cfg, consent) {
  const src = new URL(WORKER_FILE, script.src);
  const pinned = WORKER_INTEGRITY[0] === 's';
  // The page's CSP decides whether WebAssembly may run here. A worker from a blob: has the
  // page's CSP, and the page itself compiles when it runs the worker's file; but a worker from
  // its URL (on the store's origin) has its own, and the page's instance of a module compiled
  // there would not ask. Then an empty module is compiled first (it fails without
  // 'wasm-unsafe-eval'), off the main thread: its refusal is handled at once, so it never shows
  // as an unhandled rejection, and thrown after the pause. (It costs the page 1–4 ms at 4x,
  // which the other ways save.)
  const refused = cfg.worker && src.origin === location.origin && !pinned && WebAssembly.compile(emptyModule()).then(() => 0, (e) => e);
  // The worker starts in the next task (measured as `tailor:eval` too).
  await pause();
  const csp = await refused;
  if (csp) throw csp;
  mark('tailor:eval');
  const tt = self.trustedTypes;
  const policy = tt && tt.createPolicy('tailor-worker', { createScriptURL: (u) => u });
  const trusted = (u) => (policy ? policy.createScriptURL(u) : u);
  // The first exchange, with a worker or a port: null when the worker cannot run.
  const talk = (worker) => new Promise((resolve, reject) => {
    // A worker that cannot run (a CSP, Trusted Types) or answer: its error is ours, not the
    // page's, and the page runs the file itself.
    const end = () => worker.terminate && worker.terminate();
    worker.onerror = worker.onmessageerror = (e) => { e.preventDefault(); end(); resolve(null); };
    worker.onmessage = (e) => {
      // From the answer's arrival (reading it copies it out of the worker's message) to the
      // engine's start is our work too: `start` measures it (`tailor:decode`).
      mark('tailor:decode');
      const { data } = e;
      // The snapshot is unavailable (our own error code), or the browser failed there.
      if (!data[0]) return end(), data[1] ? reject(fail(data[1], data[2])) : resolve(null);
      // `tailor:warmed` (User Timing): the worker made every call; its detail is how many of
      // the three DOM passes ran their whole path on the worker's stand-in document.
      try { if (data[2] != null) performance.mark('tailor:warmed', { detail: data[2] }); } catch (_) { /* no User Timing */ }
      // The worker stays: it runs the engine and keeps the event queue, the snapshot's
      // revalidation finishes there, and it sends the event batches. After an error the page
      // hears no more from it (what is queued stays for the next page). It also keeps our
      // stored keys: writes go to it (after an error too: an uncaught error does not end a
      // worker), and it tells the page of keys other tabs changed (`listen`).
      // (What it says before the page listens, while a logged-in customer's profile downloads,
      // say, waits: another tab's forget among it.)
      let dead;
      const early = [];
      let heard = (m) => early.push(m);
      worker.onmessage = (e) => dead || heard(e.data);
      worker.onerror = (e) => { e.preventDefault(); dead = 1; heard(0); };
      resolve([...data, (op) => worker.postMessage(op), (f) => { heard = f; early.forEach(f); }]);
    };
    worker.postMessage([cfg.site, cfg.endpoint.href, cfg.wasm.href, cfg.hosts, consent, cfg.key]);
    measure('tailor:eval', 'tailor:eval');
  });
  // The file as a script of the page's (with the integrity it pins, and this script's nonce),
  // handed one end of a channel (js/worker.js, `port`).
  const inPage = () => new Promise((resolve, reject) => {
    const s = document.createElement('script');
    const c = new MessageChannel();
    self.__tailorPort = c.port2;
    s.onload = () => resolve(talk(c.port1).then((a) => a || Promise.reject(fail('LOAD_FAILED', 'the engine could not start'))));
    s.onerror = () => reject(fail('LOAD_FAILED', 'the worker script could not be loaded: ' + src));
    if (pinned) { s.integrity = WORKER_INTEGRITY; s.crossOrigin = 'anonymous'; }
    s.nonce = script.nonce;
    s.src = trusted(src.href);
    document.head.append(s);
  });
  // A tag with an integrity attribute on a build that pins no worker: its file would run
  // unchecked, as a worker or on the page, so nothing runs.
  if (script.integrity && !pinned) throw fail('LOAD_FAILED', 'this build pins no worker');
  let url;
  try {
    if (!cfg.worker) throw 0;
    url = src.href;
    if (src.origin !== location.origin || pinned) {
      // The blob: inherits the page's CSP, Trusted Types included. (A pinned worker's bytes
      // become the blob as they came, never a string on the page; the wait for them is not our
      // work, so it is outside the span.)
      let code;
      if (pinned) {
        measure('tailor:eval', 'tailor:eval');
        code = await (await fetch(src, { integrity: WORKER_INTEGRITY, credentials: 'omit' })).blob();
        mark('tailor:eval');
      }
      url = URL.createObjectURL(code || new Blob([`const u=${JSON.stringify(url)};importScripts(self.trustedTypes?trustedTypes.createPolicy("tailor-worker",{createScriptURL:()=>u}).createScriptURL(""):u)`], { type: 'text/javascript' }));
    }
    return (await talk(new Worker(trusted(url)))) || (await inPage());
  } catch (err) {
    if (err && err.tailor) throw err;
    return inPage();
  } finally {
    URL.revokeObjectURL(url);
  }
}

// The engine in the worker (js/worker.js, `use`), as `start()` uses an engine (runtime.js): the
// page holds none. `Engine.init(opts, answer)` starts it there and resolves once it has (or,
// when it could not start, with its `error`: the event queue runs all the same, `start()`);
// `track` checks an event here;
// `decide` and the calls of `window.tailor` resolve to the
// worker's answers; the worker keeps the profile with the rest of its storage (`keeps`), and
// sends it back after a run of events only when `tell` asks (`changed`: the page stores it in
// `localStorage`, or sends a logged-in customer's); the worker's other messages (storage) go to
// `listen`. Once the worker has
// failed, every call still waiting and every later one rejects with `WORKER_FAILED`.
// The event queue lives in the worker too (`outbox`, `start()`'s `glue.outbox`): each event
// goes there, to the profile and the queue, and the worker sends the batches. The page keeps
// the copy of the queue the worker sends after each change (`q`), and the events it posted
// since: when it is hidden or left, a beacon carries everything unsent (the worker dies with
// the page). The worker keeps the queue in storage with the page's other keys; in
// `localStorage`, the page keeps the worker's copy.
const far = {
  init(opts, answer, tell) {
    const send = answer[4];
    const waiting = new Map();
    let n = 0;
    let gen = 0;
    let profile = opts.profile || '';
    // What the worker says about storage waits for `start()` to listen (`listen`).
    let rest = [];
    let failed;
    const ask = (m) => new Promise((...r) => { if (failed) r[1](failed); else { waiting.set(m.n = ++n, r); send(m); } });
    let mirror;
    const engine = {
      // An event tracked by others (`window.tailor.track`) is checked here, so that a bad one
      // throws where it is tracked; the loader's own events are checked by the worker (`checks`).
      track: checkEvent,
      checks: 1,
      decide: (request) => ask({ d: request }),
      exportProfile: () => profile,
      latest: () => ask({ c: 'exportProfile' }),
      keeps: 1,
      forget(h) { profile = ''; send({ f: ++gen, h }); },
      listen(f) { const early = rest; rest = f; early.forEach(f); },
    };
    answer[5]((m) => {
      // (0: the worker failed after its answer, and the page no longer hears it.)
      if (!m) {
        failed = fail('WORKER_FAILED', 'the worker failed');
        for (const w of waiting.values()) w[1](failed);
        return waiting.clear();
      }
      const w = waiting.get(m.n);
      waiting.delete(m.n);
      if (w) m.e ? w[1](fail(...m.e)) : w[0](m.r);
      else if (m.q != null) mirror?.(m);
      else if (!('profile' in m)) rest.push ? rest.push(m) : rest(m);
      else if (m.gen === gen) { profile = m.profile; engine.changed(); }
    });
    for (const c of ['rank', 'recommend', 'profile', 'explain', 'assignment']) engine[c] = (o) => ask({ c, o });
    engine.outbox = (cfg, local, consent, leave) => {
      const url = new URL('v1/events', cfg.endpoint);
      // The worker's copy of the queue, and the events posted since (numbered).
      let lines = '';
      let posted = [];
      let k = 0;
      const queue = { queued: 0, retryAt: () => 0, dropped: { overflow: 0, rateLimited: 0, oversized: 0, rejected: 0, expired: 0 } };
      const all = () => [lines, ...posted.map((p) => p[1])].filter(Boolean).join('\n');
      const tab = keeper(local, cfg.site, () => consent.allowed, (r) => send({ r }), () => {});
      // The queue in storage: the worker keeps it with the rest of the page's storage (`z`: the
      // page is leaving, so at once); in `localStorage` the page keeps the worker's copy, and
      // after the worker has failed, its own.
      const keep = () => (local.remote && !failed ? send({ z: 1 }) : local.set(tab.key, all()));
      mirror = later((m) => {
        lines = m.q;
        posted = posted.filter(([s]) => s > m.s);
        Object.assign(queue, { queued: m.k, retryAt: () => m.w, dropped: m.x });
        if (!local.remote && !tab.gone) keep();
      }, 'queue');
      const allow = () => send({ a: consent.allowed });
      allow();
      // A copy of everything unsent, by beacon: the oldest first, as many as a beacon takes (the
      // rest stays queued for the next page).
      const flush = (leaving) => {
        if (!consent.allowed) return;
        if (!leaving) return send({ s: 0 });
        leave();
        let events = all().split('\n').filter(Boolean);
        while (events.length && navigator.sendBeacon && !navigator.sendBeacon(url, new Blob([`{"site":${JSON.stringify(cfg.site)},${cfg.key ? `"key":${JSON.stringify(cfg.key)},` : ''}"events":[${events}]}`], { type: 'text/plain' }))) events = events.slice(0, events.length >> 1);
      };
      // Back online, the queue goes at once (`u`): a worker may not hear the event itself
      // (DevTools' offline emulation tells only the page).
      addEventListener('online', later(() => send({ u: 1 }), 'online'));
      addEventListener('pagehide', later(() => { saveNow(); flush(true); keep(); tab.stop(); }, 'leave'));
      document.addEventListener('visibilitychange', later(() => { if (document.visibilityState === 'hidden') { saveNow(); flush(true); } }, 'leave'));
      return {
        queue,
        // (After pagehide, or once the worker has failed, at once.)
        add(json) { posted.push([++k, json]); send({ t: json, s: k }); if (failed || tab.gone) keep(); },
        flush,
        dropped: () => queue.dropped,
        // Consent given: the heartbeat again (storage reaches the worker again after a revoke),
        // dead tabs' queues taken over, ours kept, sent.
        start() { tab.beat(); tab.takeover(); allow(); },
        forget() { lines = ''; posted = []; allow(); },
      };
    };
    // (An engine that could not start, `error`, still has the worker's event queue: `start()`.)
    return ask({ g: opts, p: tell ? 1 : 0 }).then((itemCount) => Object.assign(engine, { itemCount }), (error) => Object.assign(engine, { error }));
  },
};

async function boot(tag) {
  const cfg = config(tag);
  if (!cfg.site) throw fail('INVALID_OPTIONS', 'the script tag has no data-site attribute');
  if (isBot() && !cfg.test) return null;
  // (Nothing is downloaded for a browser that could not run it.)
  if (!self.WebAssembly) throw fail('LOAD_FAILED', 'this browser has no WebAssembly');
  // (A page loading in a background tab, opened with a middle click: `late`.)
  const background = document.hidden;
  setState('loading');
  // With data-before-consent="off" the engine waits for consent: a grant on the queue, pushed
  // before this script ran or while it waits, is taken at once (the queue is replayed later).
  cfg.waiting = (consent) => {
    const q = window.tailor;
    q.push = (...cmds) => { for (const c of cmds) if (c?.[0] === 'consent') consent.set(c[1]); return [].push.apply(q, cmds); };
    q.push(...q.splice(0));
  };
  // A tampered wasm fails its integrity check: nothing runs and the page stays as it was.
  // The worker's module (compiled already) is instantiated at once, in the task of its answer.
  // (Chromium refuses that on the main thread above a size: 8 MB now, 4 KB in old versions,
  // where the page then fails open, as it does without WebAssembly.)
  const load = (module) => initSync({ module });
  const state = await start(cfg, load, { Engine: far }, (consent) => agent(cfg, consent));
  await domReady();
  // The wiring below (cart tracking, observers, the anti-flicker deadline) is the first
  // `tailor:apply` span, in the task that started the engine or DOMContentLoaded's.
  mark('tailor:apply');
  const { engine, track, once, modelVersion, siteAdapter } = state;
  // The loader's own events with no free text: valid as made, so the worker checks them (`far`).
  // (A search or a diagnostic is checked here: its text is redacted before it is kept or sent.)
  const note = (type, props) => track(type, props, 1);
  const cart = cartTracker(note);

  // The anti-flicker snippet (docs/anti-flicker.md) hides the personalized parts and reveals
  // them by CSS alone after --tailor-reveal-ms; past that moment we no longer move what the
  // shopper may have seen. Without the snippet nothing is hidden, and nothing is late.
  const revealMs = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--tailor-reveal-ms'));
  // (Without the snippet revealMs is NaN, and no time is past it. A page hidden ever since this
  // script began, a tab opened in the background, has not been seen, however long it took.)
  const late = () => !(background && document.hidden) && performance.now() > revealMs;
  // Each block rendered and not yet seen, by its slot (applyPage returns both).
  const unseen = new WeakMap();
  const observer = 'IntersectionObserver' in window
    ? new IntersectionObserver(later((entries) => {
      for (const e of entries) {
        const s = e.isIntersecting && unseen.get(e.target);
        if (!s) continue;
        unseen.delete(e.target);
        note('rec_impression', { request: s.request, slot: s.slot, items: s.items, model_version: modelVersion });
      }
    }, 'shown'), { threshold: 0.5 })
    : null;

  // One pass over the page: grid, slots, banners. Idempotent, so re-running it after a section
  // re-render or a single-page navigation never duplicates a block.
  const adapter = cfg.adapter || siteAdapter;
  // The page is read, decided and changed in three steps (src/exchange.rs): the request and the
  // decisions are text, so the engine could as well answer from another thread.
  const grid = () => document.querySelector('[data-tailor-grid], ul#product-grid, ul.products');
  let currentItem = null;
  let searching;
  const apply = async (first, navigated) => {
    // (Selectors the browser cannot parse: the merchant hears once per session.)
    if (markAdapter(adapter) && first && once('tailor:diagnosed:selector')) track('diagnostic', { code: 'INVALID_SELECTOR', detail: `${adapter.grid} | ${adapter.card}`.slice(0, 200) });
    // Past the deadline the grid, the search results and the banners stay as the shopper may
    // have seen them; the slots are still filled. (They are read all the same, and held:
    // `applyPage` marks them placed, so a later pass leaves them too, src/grid.rs `PLACED`.)
    const tooLate = first && late();
    // (A product page's product, when its markup names none: Shopify's metadata, JSON-LD.)
    const read = readPage({ root: document, item: metaProduct() });
    const { page } = read;
    currentItem = page.item;
    // (A single-page navigation to another path is a page view too, and a product's a product
    // view: not a theme's own history entries, a variant picked or a filter set.)
    const fresh = first || navigated;
    if (fresh) note('page_view', { page: page.type });
    if (fresh && page.item != null) note('product_view', { item: page.item });
    // A search page's grid is its results, in text relevance: the engine keeps that.
    searching = page.type === 'search';
    if (searching) {
      const query = new URLSearchParams(location.search).get('q');
      if (fresh && query) {
        if (!cfg.hashQueries) track('search', { query });
        else {
          const text = query.trim().toLowerCase().slice(0, 100);
          crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
            .then((d) => track('search', { query: [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('') }))
            .catch(() => {});
        }
      }
    }
    // (The engine answers from the worker: its answer is a task of its own, measured apart.)
    if (first) measure('tailor:apply', 'tailor:apply');
    const decisions = await engine.decide(read.request);
    if (first) mark('tailor:apply');
    // (Past the deadline by the time the engine answered: the grid stays as it was seen.)
    const lateNow = first && late();
    // (Left as the shopper saw it, `k`, it is marked as placed all the same: a later pass
    // leaves it too.)
    const { moved } = applyPage(read.reading, decisions, lateNow ? 'k' : 'gr');
    // On the first pass the blocks and banners are a task of their own, after the page's type,
    // its tracking and the grid (`tailor:apply` measures each).
    if (first) {
      measure('tailor:apply', 'tailor:apply');
      await pause();
      mark('tailor:apply');
    }
    const { slots, banners, arms } = applyPage(read.reading, decisions, first && late() ? 'sk' : 'sb');
    // An exposure names the arm a shopper was given on a placement they actually reached (once
    // per session, placement and arm): what experiment reports count (docs/reports.md).
    const expose = (placement) => {
      const a = arms[placement];
      try {
        if (a && once(`tailor:exposed:${placement}:${a.arm}:${a.experiment || ''}`)) note('exposure', { placement, arm: a.arm, experiment: a.experiment });
      } catch (_) { /* never in the page's way */ }
    };
    // (Observed afresh: a block re-rendered in a slot already observed, and on screen, is
    // reported as seen again, with its new request.)
    for (const s of slots) if (observer && s.items.length) { unseen.set(s.element, s); observer.unobserve(s.element); observer.observe(s.element); }
    // (A banner's impression each time one is decided: a banner a pass has shown is marked
    // placed, so a cart change or a section reload applying the page again does not decide it,
    // nor count it, again; one the theme renders afresh is decided and counted anew.)
    for (const b of banners) { note('banner_impression', { banner: b.banner, variant: b.variant }); expose('banner:' + b.banner); }
    const g = grid();
    if (g) expose('grid');
    if (searching) expose('search');
    for (const s of slots) if (s.items.length) expose(s.placement);
    // Nothing on the page was recognised (no grid, product, slot or banner): the page stays
    // untouched and the merchant hears about it once per session and page type.
    if (first && !g && page.item == null && !slots.length && !banners.length && !searching) {
      if (once('tailor:diagnosed:' + page.type)) {
        track('diagnostic', { code: 'NOTHING_RECOGNISED', detail: `${page.type} ${location.pathname}`.slice(0, 200) });
      }
    }
    return { moved, slots: slots.length, banners: banners.length, page, late: tooLate || lateNow };
  };
  // A part of the page read, decided and changed again (a re-rendered grid, new predictive
  // results), while `busy` keeps the observers from hearing our own changes. (A part the theme
  // replaces again before the answer comes is left alone, `applyPage`, and read again: its
  // observer hears the theme.)
  const redo = (root, parts, busy) => {
    try {
      const read = readPage({ root, item: currentItem, parts });
      engine.decide(read.request).then(later((d) => {
        busy(true);
        try { applyPage(read.reading, d, parts); } finally { busy(false); }
      }, 'apply')).catch(() => { /* fail open */ });
    } catch (_) { /* fail open */ }
  };
  // The page's changes run in two tasks of their own, apart from the engine's start: together
  // they would make long tasks. The anti-flicker rules keep the personalized parts hidden until
  // `ready` (or their deadline, after which nothing is moved), so neither shows alone. (One task
  // for all of them made long tasks, when they were three times as long: BENCHMARKS.md, "a fifth
  // round"; four tasks cost more than two: "an eleventh round".)
  measure('tailor:apply', 'tailor:apply');
  await pause();
  mark('tailor:apply');
  // (The last span ends once the page is ready, its listeners set: `measure` below.)
  // Should the engine not answer (it could not start: `start()`), the page stays as rendered,
  // and its events (the listeners below are set all the same), and the commands on
  // `window.tailor`, still reach the worker's queue: the error is thrown at the end.
  const result = await apply(true).catch(Object);

  // Clicks on recommendations.
  document.addEventListener('click', (ev) => {
    const item = ev.target.closest && ev.target.closest('[data-tailor-item]');
    const slot = item && item.closest('[data-tailor-request]');
    if (!slot) return;
    const t = performance.now();
    try {
      note('rec_click', {
        request: slot.dataset.tailorRequest,
        slot: slot.dataset.tailorSlot,
        position: Number(item.dataset.tailorPosition),
        item: Number(item.dataset.tailorItem),
        model_version: modelVersion,
      });
    } catch (_) { /* markup we did not render: never the page's error */ }
    since(t, 'click');
  }, true);

  // The theme re-renders the grid (filters, sorting, "load more", a search page's filters):
  // re-apply within a frame. What is watched is the grid's grandparent, since Dawn's facets
  // replace the content of #ProductGridContainer, around the grid's parent; only a change to
  // something that holds the grid (once the site's selectors have marked it) counts. Our own
  // moves are taken out of the observer's records, and a runaway loop stops itself.
  let applying = false;
  let burst = 0;
  let burstAt = 0;
  const mo = new MutationObserver((records) => {
    if (applying) return;
    markAdapter(adapter);
    const g = grid();
    if (!records.some((r) => r.target.contains(g))) return;
    const now = performance.now();
    if (now - burstAt > 1000) { burst = 0; burstAt = now; }
    if (++burst > 20) { mo.disconnect(); return; }
    requestAnimationFrame(later(() => {
      watch();
      redo(document, searching ? 'r' : 'g', (on) => { applying = on; mo.takeRecords(); });
    }, 'grid'));
  });
  // (No grid now, say a filter with no results: the last place watched stays watched.)
  const watch = () => {
    const p = grid()?.parentNode;
    if (p) mo.disconnect(), mo.observe(p.parentNode || p, { childList: true, subtree: true });
  };
  watch();

  // Single-page navigation and the Shopify theme editor.
  // (One `tailor:later` span each, until the pass has finished.)
  const again = (t = performance.now(), navigated) => apply(false, navigated).then(watch).catch(() => { /* fail open */ }).finally(() => since(t, 'again'));
  let path = location.pathname;
  const navigated = () => { const moved = location.pathname !== path; path = location.pathname; again(performance.now(), moved); };
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name];
    history[name] = function (...args) { const r = original.apply(this, args); queueMicrotask(navigated); return r; };
  }
  addEventListener('popstate', navigated);
  document.addEventListener('shopify:section:load', () => again());
  // Cart forms posting to /cart/add (a full page post, or one the theme turns into a fetch).
  document.addEventListener('submit', (e) => {
    const f = e.target;
    if (!f || !f.action || !/\/cart\/add/.test(f.action)) return;
    const host = f.closest('[data-product-id]');
    const qty = f.elements && f.elements.quantity;
    const t = performance.now();
    cart.add(Number(host ? host.dataset.productId : currentItem), Number(qty && qty.value) || 1);
    since(t, 'cart');
  }, true);
  // A Shopify cart page: the cart as it stands, so a later change can be compared with it.
  if (window.Shopify && result.page?.type === 'cart') fetch('/cart.js', { credentials: 'same-origin' }).catch(() => {});
  // Dawn announces cart changes on its pub/sub bus: a product form's add (one line), or the cart
  // page's and drawer's changes (the whole cart). Then the blocks re-render (cart upsell follows
  // the cart).
  const cartUpdate = window.PUB_SUB_EVENTS?.cartUpdate;
  if (cartUpdate && typeof window.subscribe === 'function') {
    window.subscribe(cartUpdate, (event) => {
      const t = performance.now();
      try {
        const data = (event && event.cartData) || {};
        if (event.source === 'product-form') {
          const variant = Number(event.productVariantId);
          const line = (data.items || []).find((i) => i.variant_id === variant || i.id === variant) || data;
          cart.add(line.product_id, Number(line.quantity) || 1);
        } else if (data.items) cart.full(data);
      } catch (_) { /* an event we do not understand is ignored */ }
      again(t);
    });
  }
  // Dawn's predictive search re-renders its results on every keystroke.
  const predictive = document.querySelector('predictive-search');
  if (predictive) {
    let busy = false;
    const ps = new MutationObserver(later(() => {
      if (!busy) return redo(predictive, 'r', (on) => { busy = on; ps.takeRecords(); });
    }, 'search'));
    ps.observe(predictive, { childList: true, subtree: true });
  }
  document.addEventListener('shopify:section:unload', () => again());
  if (!result.page) throw Object.assign(result, { state });
  return { ...state, result };
}

// `window.tailor`, with the commands queued so far carried out. (`error`: the engine could not
// start, but its event queue did; then `ready()` rejects with it, as the engine's calls do.)
function publicApi(state, queued, error) {
  const c = calls(state);
  // Queued commands: ['track', type, props], ['consent', granted], ['forget'].
  const push = (cmd) => (Array.isArray(cmd) && ['track', 'consent', 'forget'].includes(cmd[0]) ? c[cmd[0]](...cmd.slice(1)) : undefined);
  const api = window.tailor = { queue: state.queue, push, ready: () => (error ? Promise.reject(error) : Promise.resolve(state)), ...c };
  for (const cmd of queued) { try { api.push(cmd); } catch (_) { /* a bad queued call is dropped */ } }
}

if (!window.__tailorLoaded) {
  window.__tailorLoaded = true;
  queueMicrotask(() => measure('tailor:eval', 'tailor:eval'));
  // The queue itself, kept as window.tailor while the engine starts, so that commands pushed
  // meanwhile (`(window.tailor = window.tailor || []).push(...)`) are kept too.
  const queued = window.tailor = Array.isArray(window.tailor) ? window.tailor : [];
  boot(script).then(
    (state) => {
      if (!state) {
        setState('skipped', { reason: 'crawler or automated browser' });
        return;
      }
      publicApi(state, queued);
      const { moved, slots, banners, page, late } = state.result;
      setState('ready', { moved, slots, banners, page: page.type, items: state.engine.itemCount, late });
      measure('tailor:apply', 'tailor:apply');
    },
    (err) => {
      // Fail open: the page stays as the theme rendered it. Report quietly, never throw.
      if (err?.state) publicApi(err.state, queued, err);
      setState('failed', { code: err?.code || 'LOAD_FAILED', message: String(err?.message) });
      console.warn('[tailor] personalization skipped:', err?.message);
    },
  );
}
