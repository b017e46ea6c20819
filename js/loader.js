// Tailor's loader: the one script a merchant pastes.
//
//   <script async src="https://SERVER/tailor.js" data-site="SITE" data-endpoint="https://SERVER/"></script>
//
// It reads its configuration from its own tag, instantiates the engine (WebAssembly, streamed),
// gets the site's snapshot (from the Cache API when the shopper has it, revalidated in the
// background) and lets the engine personalize the page: the product grid, recommendation slots
// and banners. Every decision is made by the engine; this file only wires the browser to it.
//
// It fails open: any error, a missing snapshot or blocked WebAssembly leaves the page exactly as
// the theme rendered it, and nothing reaches window.onerror. The state is visible as
// <html data-tailor="loading|ready|failed|skipped"> and a `tailor:<state>` event on document.
//
// window.tailor is a command queue: `(window.tailor = window.tailor || []).push(['track',
// 'add_to_cart', { item: 123 }])` works before the script has loaded; afterwards
// window.tailor.push, .track, .recommend, .profile and .ready() are available.

import initWasm, { Engine } from '../pkg/web/tailor.js';

// Our main-thread work is measured with User Timing (`tailor:*` entries; scripts/bench-page.mjs).
const mark = (name) => performance.mark && performance.mark(name);
const measure = (name, start) => { try { performance.measure(name, start); } catch (_) { /* no User Timing */ } };
mark('tailor:eval');

const script = document.currentScript;
const WASM_FILE = 'tailor_bg.wasm';
const WASM_INTEGRITY = '__TAILOR_WASM_INTEGRITY__';
const root = document.documentElement;
const CACHE = 'tailor-snapshots-v1';

function setState(state, detail) {
  root.setAttribute('data-tailor', state);
  document.dispatchEvent(new CustomEvent('tailor:' + state, { detail }));
}

function fail(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

// Configuration from the script tag. The endpoint defaults to the server the script came from.
// Throws (inside boot, so the page never sees it) on an unparsable URL.
function config(tag) {
  const data = (tag && tag.dataset) || {};
  const src = (tag && tag.src) || location.href;
  return {
    site: data.site || '',
    endpoint: new URL(data.endpoint || '/', src),
    // The versioned build (scripts/versioned.mjs) names its own wasm and pins its sha384.
    wasm: new URL(data.wasm || WASM_FILE, src),
    hosts: (data.hosts || '').split(/[\s,]+/).filter(Boolean),
    // Selectors for a theme no built-in adapter knows (they override the site config's).
    adapter: data.grid && data.card ? { grid: data.grid, card: data.card, id_attribute: data.cardId || 'data-product-id' } : null,
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
  };
}

// Storage that never throws, and writes nothing until it may: memory first, and the browser's
// storage once `persist()` is called (consent given). Reads see both. `clear()` deletes our keys
// and goes back to memory only (consent revoked, or forget). Storage that throws (private mode,
// quota, SecurityError) leaves memory in charge.
function store(kind) {
  const memory = new Map();
  let browser = null;
  let real = null;
  try { browser = window[kind]; } catch (_) { /* storage is blocked */ }
  const ours = () => {
    try { return Array.from({ length: browser.length }, (_, i) => browser.key(i)).filter((k) => k && k.startsWith('tailor:')); } catch (_) { return []; }
  };
  return {
    get(key) {
      if (real) { try { return real.getItem(key); } catch (_) { /* memory */ } }
      if (memory.has(key)) return memory.get(key);
      try { return browser ? browser.getItem(key) : null; } catch (_) { return null; }
    },
    set(key, value) {
      memory.set(key, value);
      try { if (real) real.setItem(key, value); } catch (_) { /* memory keeps it */ }
    },
    remove(key) {
      memory.delete(key);
      memory.set(key, null);
      try { if (real) real.removeItem(key); } catch (_) { /* nothing to remove */ }
    },
    keys(prefix) {
      const all = new Set(ours());
      for (const [k, v] of memory) { if (v === null) all.delete(k); else all.add(k); }
      return [...all].filter((k) => k.startsWith(prefix));
    },
    persist() {
      if (real || !browser) return;
      try {
        browser.setItem('tailor:probe', '1');
        browser.removeItem('tailor:probe');
        real = browser;
      } catch (_) { return; }
      for (const [k, v] of memory) {
        try { if (v === null) real.removeItem(k); else real.setItem(k, v); } catch (_) { /* memory keeps it */ }
      }
    },
    clear() {
      real = null;
      memory.clear();
      for (const k of ours()) { try { browser.removeItem(k); } catch (_) { /* gone already */ } }
    },
    // One key written at once whatever the state (remembering an opt-out).
    keep(key, value) { try { browser.setItem(key, value); } catch (_) { /* nowhere to keep it */ } },
  };
}

// Whether events may be sent and storage written. Global Privacy Control (and Do Not Track,
// when the tag says data-dnt="honor") always means no.
function privacy(cfg, local) {
  const signal = navigator.globalPrivacyControl === true || (cfg.dnt && (navigator.doNotTrack === '1' || window.doNotTrack === '1'));
  const shopify = () => {
    const cp = window.Shopify && window.Shopify.customerPrivacy;
    return !!(cp && typeof cp.analyticsProcessingAllowed === 'function' && cp.analyticsProcessingAllowed());
  };
  const stored = local.get('tailor:consent');
  const modes = { none: true, 'opt-out': stored !== 'denied', 'opt-in': stored === 'granted', shopify: shopify() };
  if (!(cfg.consent in modes)) throw fail('INVALID_OPTIONS', `data-consent must be none, opt-in, opt-out or shopify, not "${cfg.consent}"`);
  let given = modes[cfg.consent];
  const state = {
    signal,
    changed: () => {},
    get allowed() { return !signal && given; },
    set(value) { given = !!value; state.changed(); },
    shopify,
  };
  if (cfg.consent === 'shopify') {
    document.addEventListener('visitorConsentCollected', (e) => state.set(e.detail ? e.detail.analyticsAllowed : shopify()));
    const S = window.Shopify;
    if (S && !S.customerPrivacy && typeof S.loadFeatures === 'function') {
      try { S.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }], (err) => { if (!err) state.set(shopify()); }); } catch (_) { /* no API: no consent */ }
    }
  }
  return state;
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function domReady() {
  if (document.readyState !== 'loading') return Promise.resolve();
  return new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
}

function isBot() {
  return navigator.webdriver === true || /bot|crawl|spider|slurp|headless|lighthouse/i.test(navigator.userAgent);
}

async function fetchBytes(url) {
  const res = await fetch(url, { credentials: 'omit' });
  if (!res.ok) throw fail('SNAPSHOT_UNAVAILABLE', 'snapshot request failed with HTTP ' + res.status);
  return res;
}

// The pointer names the current version; the versioned bytes are immutable. A returning shopper
// decides from the Cache API at once; the pointer is revalidated (ETag) in the background and a
// newer version is stored for the next page view.
async function getSnapshot(cfg, persist) {
  const pointerUrl = new URL('v1/snapshot/' + encodeURIComponent(cfg.site), cfg.endpoint);
  let cache = null;
  // Opening a cache creates it: before consent the Cache API is only read, never written.
  try { cache = persist || (await caches.has(CACHE)) ? await caches.open(CACHE) : null; } catch (_) { /* no Cache API: plain fetches */ }
  const refresh = async (etag) => {
    const headers = etag ? { 'If-None-Match': etag } : {};
    const pointer = await fetch(pointerUrl, { credentials: 'omit', headers, cache: 'no-store' });
    if (pointer.status === 304) return null;
    if (!pointer.ok) throw fail('SNAPSHOT_UNAVAILABLE', 'snapshot pointer request failed with HTTP ' + pointer.status);
    const { url, version, adapter } = await pointer.json();
    const res = await fetchBytes(new URL(url, pointerUrl));
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (cache && persist) {
      const headers = { 'x-tailor-etag': pointer.headers.get('etag') || '', 'x-tailor-version': String(version), 'x-tailor-adapter': JSON.stringify(adapter || null) };
      await cache.put(pointerUrl, new Response(bytes, { headers })).catch(() => {});
    }
    return { bytes, version: String(version), adapter };
  };
  const cached = cache && (await cache.match(pointerUrl).catch(() => null));
  if (cached) {
    const etag = cached.headers.get('x-tailor-etag');
    const version = cached.headers.get('x-tailor-version') || '';
    const bytes = new Uint8Array(await cached.arrayBuffer());
    let adapter = null;
    try { adapter = JSON.parse(cached.headers.get('x-tailor-adapter') || 'null'); } catch (_) { /* none */ }
    refresh(etag).catch(() => {});
    return { bytes, version, adapter };
  }
  return refresh(null);
}

// The site's own selectors (config [site.adapter] or the tag's data-grid/data-card/data-card-id)
// become the generic adapter's attributes: the grid gets data-tailor-grid and each card that is
// a direct child and has an id gets data-tailor-product. A selector the browser cannot parse
// marks nothing.
function markAdapter(a) {
  if (!a || !a.grid || !a.card) return;
  try {
    for (const grid of document.querySelectorAll(a.grid)) {
      grid.setAttribute('data-tailor-grid', '');
      for (const card of grid.children) {
        const id = card.matches(a.card) && card.getAttribute(a.id_attribute || 'data-product-id');
        if (id) card.setAttribute('data-tailor-product', id);
      }
    }
  } catch (_) { /* an invalid selector: the page is left to the built-in adapters */ }
}

// The product a page shows, when the theme adapter found none: Shopify's analytics metadata,
// else a JSON-LD Product with a numeric productID or sku.
function metaProduct() {
  try { const id = Number(window.ShopifyAnalytics.meta.product.id); if (id) return id; } catch (_) { /* not Shopify */ }
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

// Events go to the sync server in batches. What to send, when to retry and what to drop is the
// engine's (tailor_core::outbox); this only does the I/O. The queue is written to storage on
// every enqueue (a killed tab loses nothing), sent on an interval, when the page is hidden and
// on pagehide, as text/plain so no CORS preflight is needed. A batch still in flight when the
// page goes away stays queued and is sent again, with the same ids, from the next page (the
// server stores each id once).
function outbox(cfg, local, engine, consent) {
  // Each tab keeps its own queue (`tailor:queue:<site>:<tab>`) and a heartbeat, so tabs never
  // overwrite each other's events, and each event is sent by exactly one tab. A tab whose
  // heartbeat is older than 10 s died: the next tab to start takes its queue over.
  const url = new URL('v1/events', cfg.endpoint);
  const prefix = 'tailor:queue:' + cfg.site + ':';
  const tab = uuid();
  const key = prefix + tab;
  const alive = (k) => Number(local.get(k.replace('tailor:queue:', 'tailor:alive:')) || 0);
  // Dead tabs' queues are taken over only once storage may be written.
  const takeover = () => {
    for (const other of local.keys(prefix)) {
      if (other === key || Date.now() - alive(other) < 10000) continue;
      engine.restoreQueue(local.get(other) || '');
      local.remove(other);
      local.remove(other.replace('tailor:queue:', 'tailor:alive:'));
    }
    // Queues saved by earlier versions under the site key.
    const legacy = 'tailor:queue:' + cfg.site;
    if (local.get(legacy)) { engine.restoreQueue(local.get(legacy)); local.remove(legacy); }
  };
  if (consent.allowed) takeover();
  // After pagehide the page beats no more (an aborted send finishing late must not revive it).
  let gone = false;
  const beat = () => { if (!gone) local.set(key.replace('tailor:queue:', 'tailor:alive:'), String(Date.now())); };
  beat();
  // Every few seconds: a heartbeat, and any queue whose tab has gone quiet is taken over, so
  // an orphaned queue is reclaimed within 10 s even when no new page starts.
  setInterval(() => { beat(); if (consent.allowed) takeover(); }, 3000);
  let pending = false;
  const save = () => {
    if (pending || gone) return;
    pending = true;
    queueMicrotask(() => { pending = false; local.set(key, engine.storedQueue()); beat(); });
  };
  save();
  let sending = false;
  let timer = 0;
  const schedule = () => {
    clearTimeout(timer);
    const wait = Math.max(1000, engine.retryAt() - Date.now());
    timer = setTimeout(() => flush(false), Math.min(wait, 60000));
  };
  // The batch envelope; it reports the events this device had to drop, so the merchant sees
  // them (tailor_device_events_dropped_total on /metrics).
  // Counts go as what was dropped since the last acknowledged report.
  let reported = {};
  let reporting = {};
  const envelope = (events) => {
    reporting = engine.dropped();
    const delta = {};
    for (const k in reporting) if (reporting[k] > (reported[k] || 0)) delta[k] = reporting[k] - (reported[k] || 0);
    const lost = Object.keys(delta).length ? `"dropped":${JSON.stringify(delta)},` : '';
    return `{"site":${JSON.stringify(cfg.site)},${lost}"events":${events}}`;
  };
  const flush = (leaving) => {
    if (!consent.allowed) return;
    const online = navigator.onLine !== false;
    if (leaving) {
      // No answer can come back: send a copy, keep the events queued.
      const events = engine.nextBatch(Date.now(), online);
      if (events && navigator.sendBeacon) navigator.sendBeacon(url, new Blob([envelope(events)], { type: 'text/plain' }));
      if (events) engine.abandoned();
      return;
    }
    if (sending) return;
    const events = engine.nextBatch(Date.now(), online);
    if (!events) { schedule(); return; }
    sending = true;
    const body = envelope(events);
    // keepalive (the send survives navigation) carries at most 64 KiB; a larger body (a long
    // site key) goes without it.
    fetch(url, { method: 'POST', body, keepalive: new Blob([body]).size < 65536, credentials: 'omit', headers: { 'content-type': 'text/plain' } })
      .then((r) => {
        const after = Number(r.headers.get('retry-after'));
        if (r.ok) reported = reporting;
        engine.answered(r.status, Number.isFinite(after) && after > 0 ? after * 1000 : undefined, Date.now(), Math.random());
      }, () => engine.answered(0, undefined, Date.now(), Math.random()))
      .finally(() => { sending = false; save(); schedule(); });
  };
  schedule();
  addEventListener('pagehide', () => {
    flush(true);
    // Leaving: the next page (or another tab) may take this queue over at once. Should the
    // page come back from the back/forward cache, the heartbeat resumes; an event sent by both
    // carries the same id, and the server stores it once.
    local.set(key, engine.storedQueue());
    local.set(key.replace('tailor:queue:', 'tailor:alive:'), '0');
    gone = true;
  });
  addEventListener('pageshow', (e) => { if (e.persisted) { gone = false; beat(); } });
  addEventListener('online', () => { engine.online(); flush(false); });
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flush(true); });
  return {
    add(e) { engine.enqueue(JSON.stringify(e), Date.now()); if (gone) local.set(key, engine.storedQueue()); else save(); },
    flush,
    dropped: () => engine.dropped(),
    // Consent given: take over dead tabs' queues, keep ours, send.
    start() { takeover(); save(); flush(false); },
  };
}

async function boot(tag) {
  const cfg = config(tag);
  if (!cfg.site) throw fail('INVALID_OPTIONS', 'the script tag has no data-site attribute');
  if (isBot() && !cfg.test) return null;
  setState('loading');
  const local = store('localStorage');
  const session = store('sessionStorage');
  const consent = privacy(cfg, local);
  if (!consent.allowed && !cfg.beforeConsent) {
    // Nothing at all before consent: wait for it (the anti-flicker CSS reveals the page).
    await new Promise((resolve) => { consent.changed = () => { if (consent.allowed) resolve(); }; });
  }
  if (consent.allowed) { local.persist(); session.persist(); }
  let shopper = local.get('tailor:shopper') || uuid();
  local.set('tailor:shopper', shopper);
  const sessionId = session.get('tailor:session') || uuid();
  session.set('tailor:session', sessionId);
  const profileKey = 'tailor:profile:' + cfg.site;
  const stored = local.get(profileKey);
  const profileUrl = cfg.customer && new URL(`v1/profiles/${encodeURIComponent(cfg.site)}/${encodeURIComponent(cfg.customer)}`, cfg.endpoint);

  // The wasm, the snapshot and (for a logged-in customer whose device lost its profile) the
  // customer's stored profile download in parallel; the wasm compiles while it streams.
  const [, { bytes: snapshot, version, adapter: siteAdapter }, rehydrated] = await Promise.all([
    // A tampered wasm fails its integrity check: nothing runs and the page stays as it was.
    initWasm({ module_or_path: fetch(cfg.wasm, WASM_INTEGRITY[0] === 's' ? { credentials: 'omit', integrity: WASM_INTEGRITY } : { credentials: 'omit' }) }),
    getSnapshot(cfg, consent.allowed),
    profileUrl && !stored && consent.allowed
      ? fetch(profileUrl, { credentials: 'omit', cache: 'no-store' }).then((r) => (r.ok ? r.text() : null), () => null)
      : null,
  ]);
  mark('tailor:decode');
  const engine = Engine.init({
    snapshot,
    profile: stored || rehydrated || undefined,
    shopper,
    origin: location.origin,
    hosts: cfg.hosts,
  });
  measure('tailor:decode', 'tailor:decode');
  const out = outbox(cfg, local, engine, consent);
  // Impressions and clicks name the snapshot version that chose the items.
  const modelVersion = 'v' + (version || '0');
  let profileDirty = false;
  let profileUnsynced = false;
  const saveProfile = () => { profileDirty = false; local.set(profileKey, engine.exportProfile()); };
  const track = (type, props) => {
    const event = engine.track({ ...props, id: uuid(), type, shopper, session: sessionId, ts: Date.now() });
    profileUnsynced = true;
    if (!profileDirty) {
      profileDirty = true;
      queueMicrotask(saveProfile);
    }
    out.add(event);
    return event;
  };
  const cart = cartTracker(track);
  // A logged-in customer's profile goes to the server when the page is hidden, so another
  // device, or this one after its storage is wiped, starts from it.
  const syncProfile = () => {
    if (!profileUrl || !profileUnsynced || !consent.allowed || !navigator.sendBeacon) return;
    profileUnsynced = false;
    navigator.sendBeacon(profileUrl, new Blob([engine.exportProfile()], { type: 'text/plain' }));
  };
  addEventListener('pagehide', syncProfile);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') syncProfile(); });

  // Everything on the device goes; the server is asked to delete this shopper's events.
  const forget = (server) => {
    const old = shopper;
    if (server && consent.allowed) {
      fetch(new URL('v1/forget', cfg.endpoint), {
        method: 'POST',
        keepalive: true,
        credentials: 'omit',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(cfg.customer ? { site: cfg.site, shopper: old, customer: cfg.customer } : { site: cfg.site, shopper: old }),
      }).catch(() => {});
    }
    engine.forget();
    local.clear();
    session.clear();
    try { caches.delete(CACHE).catch(() => {}); } catch (_) { /* no Cache API */ }
    shopper = uuid();
    profileUnsynced = false;
  };
  // Consent given or taken back while the page lives (a banner, Shopify's API, tailor.consent).
  let allowed = consent.allowed;
  consent.changed = () => {
    if (consent.allowed === allowed) return;
    allowed = consent.allowed;
    if (allowed) {
      local.persist();
      session.persist();
      if (cfg.consent === 'opt-in') local.set('tailor:consent', 'granted');
      if (cfg.consent === 'opt-out') local.remove('tailor:consent');
      local.set('tailor:shopper', shopper);
      session.set('tailor:session', sessionId);
      saveProfile();
      out.start();
    } else {
      // Stop sending at once; the queue and the profile are cleared.
      forget(false);
      if (cfg.consent === 'opt-out' && !consent.signal) local.keep('tailor:consent', 'denied');
    }
  };
  await domReady();

  // The anti-flicker snippet (docs/anti-flicker.md) hides the personalized parts and reveals
  // them by CSS alone after --tailor-reveal-ms; past that moment we no longer move what the
  // shopper may have seen. Without the snippet nothing is hidden, and nothing is late.
  const revealMs = parseFloat(getComputedStyle(root).getPropertyValue('--tailor-reveal-ms'));
  const late = () => Number.isFinite(revealMs) && performance.now() > revealMs;
  const slotsSeen = new WeakSet();
  const observer = 'IntersectionObserver' in window
    ? new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (!e.isIntersecting || slotsSeen.has(e.target)) continue;
        slotsSeen.add(e.target);
        const d = e.target.dataset;
        const items = [...e.target.querySelectorAll('[data-tailor-item]')].map((n) => Number(n.dataset.tailorItem));
        track('rec_impression', { request: d.tailorRequest, slot: d.tailorSlot, items, model_version: modelVersion });
      }
    }, { threshold: 0.5 })
    : null;

  // One pass over the page: grid, slots, banners. Idempotent, so re-running it after a section
  // re-render or a single-page navigation never duplicates a block.
  const adapter = cfg.adapter || siteAdapter;
  // An exposure names the arm a shopper was given on a placement they actually reached (once
  // per session, placement and arm): what experiment reports count (docs/reports.md).
  const expose = (placement) => {
    try {
      const a = engine.assignment({ placement });
      const key = `tailor:exposed:${placement}:${a.arm}:${a.experiment || ''}`;
      if (session.get(key)) return;
      session.set(key, '1');
      track('exposure', { placement, arm: a.arm, experiment: a.experiment });
    } catch (_) { /* never in the page's way */ }
  };
  const grid = () => document.querySelector('[data-tailor-grid], ul#product-grid, ul.products');
  let currentItem = null;
  const apply = (first) => {
    markAdapter(adapter);
    const page = engine.page({ root: document });
    if (page.item == null) page.item = metaProduct();
    currentItem = page.item;
    if (first) {
      track('page_view', { page: page.type });
      if (page.item !== undefined && page.item !== null) track('product_view', { item: page.item });
    }
    const moved = first && late() ? 0 : engine.rankGrid({ root: document });
    if (page.type === 'search') {
      const query = new URLSearchParams(location.search).get('q');
      if (first && query) {
        if (!cfg.hashQueries) track('search', { query });
        else {
          const text = query.trim().toLowerCase().slice(0, 100);
          crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
            .then((d) => track('search', { query: [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('') }))
            .catch(() => {});
        }
      }
      if (!(first && late())) engine.rerankSearchResults({ root: document });
    }
    const slots = engine.renderSlots({ root: document, item: page.item ?? undefined });
    for (const s of slots) {
      const el = document.querySelector(`[data-tailor-request="${CSS.escape(s.request)}"]`);
      if (el && observer && s.items.length) { slotsSeen.delete(el); observer.observe(el); }
    }
    const banners = first && late() ? [] : engine.pickBanners({ root: document });
    for (const b of banners) { track('banner_impression', { banner: b.banner, variant: b.variant }); expose('banner:' + b.banner); }
    if (grid()) expose('grid');
    if (page.type === 'search') expose('search');
    for (const s of slots) if (s.items.length) expose(s.placement);
    // Nothing on the page was recognised (no grid, product, slot or banner): the page stays
    // untouched and the merchant hears about it once per session and page type.
    if (first && !grid() && page.item == null && !slots.length && !banners.length && page.type !== 'search') {
      const key = 'tailor:diagnosed:' + page.type;
      if (!session.get(key)) {
        session.set(key, '1');
        track('diagnostic', { code: 'NOTHING_RECOGNISED', detail: `${page.type} ${location.pathname}`.slice(0, 200) });
      }
    }
    return { moved, slots: slots.length, banners: banners.length, page };
  };
  mark('tailor:apply');
  const result = apply(true);
  measure('tailor:apply', 'tailor:apply');

  // Clicks on recommendations.
  document.addEventListener('click', (ev) => {
    const item = ev.target.closest && ev.target.closest('[data-tailor-item]');
    const slot = item && item.closest('[data-tailor-request]');
    if (!slot) return;
    track('rec_click', {
      request: slot.dataset.tailorRequest,
      slot: slot.dataset.tailorSlot,
      position: Number(item.dataset.tailorPosition),
      item: Number(item.dataset.tailorItem),
      model_version: modelVersion,
    });
  }, true);

  // The theme re-renders the grid (filters, sorting, "load more"): re-apply within a frame. Our
  // own moves are taken out of the observer's records, and a runaway loop stops itself.
  let applying = false;
  let burst = 0;
  const mo = new MutationObserver(() => {
    if (applying) return;
    if (++burst > 20) { mo.disconnect(); return; }
    requestAnimationFrame(() => {
      applying = true;
      try { markAdapter(adapter); engine.rankGrid({ root: document }); } catch (_) { /* fail open */ }
      mo.takeRecords();
      applying = false;
    });
  });
  setInterval(() => { burst = 0; }, 1000);
  const watch = () => {
    const g = grid();
    mo.disconnect();
    if (g && g.parentNode) mo.observe(g.parentNode, { childList: true, subtree: true });
  };
  watch();

  // Single-page navigation and the Shopify theme editor.
  const again = () => { try { apply(false); watch(); } catch (_) { /* fail open */ } };
  const navigated = () => { try { track('page_view', { page: engine.page({ root: document }).type }); } catch (_) { /* ignore */ } again(); };
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name];
    history[name] = function (...args) { const r = original.apply(this, args); queueMicrotask(navigated); return r; };
  }
  addEventListener('popstate', navigated);
  document.addEventListener('shopify:section:load', again);
  // Cart forms posting to /cart/add (a full page post, or one the theme turns into a fetch).
  document.addEventListener('submit', (e) => {
    const f = e.target;
    if (!f || !f.action || !/\/cart\/add/.test(f.action)) return;
    const host = f.closest('[data-product-id]');
    const qty = f.elements && f.elements.quantity;
    cart.add(Number(host ? host.dataset.productId : currentItem), Number(qty && qty.value) || 1);
  }, true);
  // A Shopify cart page: the cart as it stands, so a later change can be compared with it.
  if (window.Shopify && result.page.type === 'cart') fetch('/cart.js', { credentials: 'same-origin' }).catch(() => {});
  // Dawn announces cart changes on its pub/sub bus: a product form's add (one line), or the cart
  // page's and drawer's changes (the whole cart). Then the blocks re-render (cart upsell follows
  // the cart).
  if (typeof window.subscribe === 'function' && window.PUB_SUB_EVENTS && window.PUB_SUB_EVENTS.cartUpdate) {
    window.subscribe(window.PUB_SUB_EVENTS.cartUpdate, (event) => {
      try {
        const data = (event && event.cartData) || {};
        if (event.source === 'product-form') {
          const variant = Number(event.productVariantId);
          const line = (data.items || []).find((i) => i.variant_id === variant || i.id === variant) || data;
          cart.add(line.product_id, Number(line.quantity) || 1);
        } else if (data.items) cart.full(data);
      } catch (_) { /* an event we do not understand is ignored */ }
      again();
    });
  }
  // Dawn's predictive search re-renders its results on every keystroke.
  const predictive = document.querySelector('predictive-search');
  if (predictive) {
    let busy = false;
    const ps = new MutationObserver(() => {
      if (busy) return;
      busy = true;
      try { engine.rerankSearchResults({ root: predictive }); } catch (_) { /* fail open */ }
      ps.takeRecords();
      busy = false;
    });
    ps.observe(predictive, { childList: true, subtree: true });
  }
  document.addEventListener('shopify:section:unload', again);
  return { engine, track, out, result, consent, forget, syncProfile };
}

function publicApi(state) {
  const { engine, track } = state;
  const run = (cmd) => {
    if (!Array.isArray(cmd)) return undefined;
    const [name, ...args] = cmd;
    if (name === 'track') return track(args[0], args[1] || {});
    if (name === 'consent') return state.consent.set(args[0]);
    if (name === 'forget') return state.forget(true);
    return undefined;
  };
  return {
    engine,
    push: run,
    track: (type, props) => track(type, props || {}),
    recommend: (opts) => engine.recommend(opts),
    profile: () => engine.profile({}),
    explain: (opts) => engine.explain(opts),
    ready: () => Promise.resolve(state),
    flush: () => { state.out.flush(false); state.syncProfile(); },
    dropped: () => state.out.dropped(),
    /** Give (true) or take back (false) consent to tracking and storage. */
    consent: (granted) => state.consent.set(granted),
    /** Whether events may be sent and storage written now. */
    consented: () => state.consent.allowed,
    /** Clear everything Tailor keeps on this device and ask the server to delete this shopper. */
    forget: () => state.forget(true),
  };
}

if (!window.__tailorLoaded) {
  window.__tailorLoaded = true;
  queueMicrotask(() => measure('tailor:eval', 'tailor:eval'));
  const queued = Array.isArray(window.tailor) ? window.tailor.slice() : [];
  boot(script).then(
    (state) => {
      if (!state) {
        setState('skipped', { reason: 'crawler or automated browser' });
        return;
      }
      const api = publicApi(state);
      window.tailor = api;
      for (const cmd of queued) { try { api.push(cmd); } catch (_) { /* a bad queued call is dropped */ } }
      const { moved, slots, banners, page } = state.result;
      setState('ready', { moved, slots, banners, page: page.type, items: state.engine.itemCount });
    },
    (err) => {
      // Fail open: the page stays as the theme rendered it. Report quietly, never throw.
      setState('failed', { code: (err && err.code) || 'LOAD_FAILED', message: String(err && err.message) });
      if (window.console && console.warn) console.warn('[tailor] personalization skipped:', err && err.message);
    },
  );
}
