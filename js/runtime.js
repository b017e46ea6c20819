// What the script-tag loader (js/loader.js) and the npm package (js/npm/) share: storage that
// writes nothing before consent, the consent state, the snapshot from the Cache API, the event
// queue's I/O and `start()`, which boots the engine for a site. Nothing here touches the page's
// markup; the engine decides, these functions only wire the browser to it.

// Our main-thread work is measured with User Timing (`tailor:*` entries; scripts/bench-page.mjs).
// A span starts as a plain timestamp: a `performance.mark` entry per span cost as much main-thread
// time as the measure itself.
const starts = {};
const span = (name, start, detail) => { try { performance.measure(name, { start, detail }); } catch (_) { /* no User Timing */ } };
export const mark = (name) => { starts[name] = performance.now(); };
export const measure = (name, start) => span(name, starts[start]);
// Our work in a later task of its own (a timer, an observer, an event, an answer), measured as
// `tailor:later` with what it was as its detail: the first 200 of them, so that a page left
// open does not collect entries forever.
let laters = 0;
export const since = (t, what) => { if (laters++ < 200) span('tailor:later', t, what); };
export const later = (fn, what) => (...args) => {
  const t = performance.now();
  try { return fn(...args); } finally { since(t, what); }
};
// Storage writes after a run of events (the profile, the queue), together in one later task,
// right after the current one: they stay out of the page view's tasks, and each runs once however
// many events asked for it. A page being hidden or left writes at once (`saveNow`: the task may
// not come), and pagehide saves the queue itself too. One that fails (storage, the engine)
// neither stops the others nor the next run, and never reaches the page.
const writes = new Set();
let writing = 0;
export const saveNow = () => {
  clearTimeout(writing);
  writing = 0;
  const now = [...writes];
  writes.clear();
  for (const w of now) try { w(); } catch (_) { /* the next run writes again */ }
};
const soon = (write) => {
  if (!writes.size) writing = setTimeout(later(saveNow, 'save'));
  writes.add(write);
};
const CACHE = 'tailor-snapshots-v1';
const SESSION_MS = 30 * 60 * 1000;

export function fail(code, message) {
  const err = new Error(message);
  err.code = code;
  // Ours, not the browser's (a DOMException has a numeric `code` of its own).
  err.tailor = true;
  return err;
}

// `localStorage` that never throws, and writes nothing until it may: memory first, and the browser's
// storage too once `persist()` is called (consent given). Reads see both, memory first. `clear()`
// deletes our keys and goes back to memory only (consent revoked, or forget). A write the
// browser refuses (private mode, quota, SecurityError) stays in memory. Nothing is written to
// find out whether storage works: every write costs main-thread time. `backing`, when given,
// stands in for `localStorage` (the worker's copy, `remote`).
function store(backing) {
  const memory = new Map();
  let browser = null;
  let real = null;
  try { browser = backing || window.localStorage; } catch (_) { /* storage is blocked */ }
  const ours = () => {
    try { return Array.from({ length: browser.length }, (_, i) => browser.key(i)).filter((k) => k && k.startsWith('tailor:')); } catch (_) { return []; }
  };
  return {
    // Memory holds every write of this page (and a write the browser refused), so it is read
    // first.
    get(key) {
      if (memory.has(key)) return memory.get(key);
      try { return browser ? browser.getItem(key) : null; } catch (_) { return null; }
    },
    // The browser's value first (another tab may have written it since), then this page's.
    fresh(key) {
      try { const v = browser && browser.getItem(key); if (v) return v; } catch (_) { /* blocked */ }
      return this.get(key);
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
      real = browser;
      for (const [k, v] of memory) {
        try { if (v === null) real.removeItem(k); else real.setItem(k, v); } catch (_) { /* memory keeps it */ }
      }
      if (backing) backing.moved();
    },
    // (`elsewhere`: the stored keys were wiped already, by another tab or by this page's own
    // forget; only this page's copy goes.)
    clear(elsewhere) {
      real = null;
      memory.clear();
      if (elsewhere) backing?.kv.clear();
      else if (backing) backing.wipe();
      else {
        for (const k of ours()) { try { browser.removeItem(k); } catch (_) { /* gone already */ } }
        // And what the loader's worker keeps, should a page with it have run here.
        try { indexedDB.deleteDatabase('tailor'); } catch (_) { /* no IndexedDB */ }
      }
    },
    remote: !!backing,
    // Whether writes reach storage now (`persist`, until `clear`).
    live: () => real,
    // One key written at once whatever the state (remembering an opt-out, a deletion request
    // not yet answered), or, without a value, deleted.
    keep(key, value) {
      try { if (value === undefined) browser.removeItem(key); else browser.setItem(key, value); } catch (_) { /* nowhere to keep it */ }
    },
  };
}

// The worker's copy of our keys (js/worker.js keeps them in IndexedDB) as a `localStorage` for
// `store()`: reads from the copy that came with the worker's answer, writes sent to the worker
// (`write`, those of one task as one list). A device whose copy has no shopper yet may have what
// an earlier version kept in `localStorage`: it is read once, and moved over once storage may be
// written (`moved`).
function remote(keys, write) {
  const kv = new Map(keys);
  let old = [];
  if (!kv.has('tailor:shopper')) {
    try {
      // (Not the heartbeats, which only leave: a queue moved without one is a dead tab's, which
      // the worker takes over.)
      for (const k of Object.keys(localStorage)) if (k.startsWith('tailor:') && !kv.has(k)) { if (!/^tailor:alive:/.test(k)) kv.set(k, localStorage.getItem(k)); old.push(k); }
    } catch (_) { /* storage is blocked */ }
  }
  const gone = (all) => {
    try { for (const k of all ? Object.keys(localStorage) : old) if (k.startsWith('tailor:')) localStorage.removeItem(k); } catch (_) { /* blocked */ }
    old = [];
  };
  // The writes of one task go to the worker as one message, in order (`flush`: now).
  let ops = null;
  const flush = () => { if (ops) write(ops); ops = null; };
  const put = (op) => {
    if (!ops) queueMicrotask(flush);
    (ops = ops || []).push(op);
  };
  // (No `length` or `key()`: `store()` only lists keys for the page's own takeover of dead
  // tabs' queues, which the worker does here, and `clear()` calls `wipe()`.)
  return {
    kv,
    flush,
    // (Values are strings; a missing key reads as undefined, which `store()` treats as null.)
    getItem: (k) => kv.get(k),
    setItem(k, v) { kv.set(k, v); put([k, v]); },
    removeItem(k) { kv.delete(k); put([k]); },
    moved() { for (const k of old) if (kv.has(k)) put([k, kv.get(k)]); gone(); },
    // Everything goes, every tab's keys too, and whatever is in localStorage (the pixel's copy,
    // `mirror`, or what a page without the worker kept).
    wipe() { kv.clear(); put([]); gone(1); },
  };
}

// Global Privacy Control (and Do Not Track, when the tag says data-dnt="honor") always means no.
const signalled = (cfg) => navigator.globalPrivacyControl === true || (cfg.dnt && (navigator.doNotTrack === '1' || window.doNotTrack === '1'));
const shopify = () => {
  const cp = window.Shopify && window.Shopify.customerPrivacy;
  return !!(cp && typeof cp.analyticsProcessingAllowed === 'function' && cp.analyticsProcessingAllowed());
};
/** Whether consent mode `mode` allows tracking, given the stored choice and Shopify's answer (undefined: no such mode). */
export const allows = (mode, stored, shop) => ({ none: true, 'opt-out': stored !== 'denied', 'opt-in': stored === 'granted', shopify: shop })[mode];

// Whether events may be sent and storage written.
function privacy(cfg, local) {
  const signal = signalled(cfg);
  let given = allows(cfg.consent, local.get('tailor:consent'), shopify());
  if (given === undefined) throw fail('INVALID_OPTIONS', `consent must be none, opt-in, opt-out or shopify, not "${cfg.consent}"`);
  const state = {
    signal,
    changed: () => {},
    get allowed() { return !signal && given; },
    set(value) { given = !!value; state.changed(); },
    // Consent as a new page would read it now, after a wipe (a grant forgotten, in opt-in mode;
    // Shopify's answer changed in another tab) or another tab's stored refusal: only ever taken
    // back here, never given. What is stored was cleared already, so the page's `forget` that
    // follows clears only its own copy (`elsewhere`), and a grant given since is not wiped again.
    check() { if (!allows(cfg.consent, local.fresh('tailor:consent'), shopify())) { state.elsewhere = 2; state.set(false); state.elsewhere = 0; } },
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

// A random (version 4) UUID. `crypto.randomUUID` needs a secure context; on a plain-http page a
// blob: URL, which every browser names with one, stands in.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const url = URL.createObjectURL(new Blob());
  URL.revokeObjectURL(url);
  return url.slice(-36);
}

// A purchase's event id comes from its order id, so the same order reported twice (the thank-you
// page and the Shopify checkout pixel, js/npm/shopify-pixel.js) is one event to the server,
// which stores each id once. Four FNV-1a hashes with different seeds make the 128 bits.
export function orderEventId(site, order) {
  let h = '';
  for (let seed = 0; seed < 4; seed++) {
    let x = 0x811c9dc5 ^ seed;
    for (const c of site + '\n' + order) x = Math.imul(x ^ c.charCodeAt(0), 16777619);
    h += (x >>> 0).toString(16).padStart(8, '0');
  }
  // As a UUID: 8-4-4-4-12 digits, version 8 and the RFC 4122 variant in place of two of them.
  return h.replace(/(.{8})(.{4}).(.{3}).(.{3})/, '$1-$2-8$3-a$4-');
}

// The wasm, fetched with the integrity the versioned build pins (scripts/versioned.mjs writes it
// into the loader and the worker).
const WASM_INTEGRITY = '__TAILOR_WASM_INTEGRITY__';
export const wasmFetch = (url) => fetch(url, WASM_INTEGRITY[0] === 's' ? { credentials: 'omit', integrity: WASM_INTEGRITY } : { credentials: 'omit' });

// One event batch to the sync server, as text/plain (no CORS preflight); resolves to [status,
// Retry-After]. The page's outbox and the loader's worker both send this way. The sync server
// answers JSON, always: a success or a refusal that is not JSON (a storefront's page at a wrong
// endpoint) did not come from it, so it counts as no answer (0), and the batch stays queued and
// is retried, instead of being taken as stored (a 200) or refused (a 404). What asks to wait or
// to send less (5xx, 408, 413, 429, from a proxy too) keeps its status and its Retry-After.
export const postBatch = (url, body, keepalive) => fetch(url, { method: 'POST', body, keepalive, credentials: 'omit', headers: { 'content-type': 'text/plain' } })
  .then((r, s = r.status) => [(r.headers.get('content-type') || '').includes('json') || s > 499 || [408, 413, 429].includes(s) ? s : 0, r.headers.get('retry-after')]);

// The sync server's base URL. A path without its trailing slash still names the server's folder
// ("/tailor" is "/tailor/"), so that "v1/..." resolves under it, as behind a proxy's prefix.
export const serverUrl = (url, base) => {
  const u = new URL(url, base);
  if (u.pathname.slice(-1) !== '/') u.pathname += '/';
  return u;
};

export const dropCache = () => { try { caches.delete(CACHE).catch(() => {}); } catch (_) { /* no Cache API */ } };

// The pointer names the current version; the versioned bytes are immutable. `fetchSnapshot`
// gets both from the network: null when the pointer answers 304 to `etag`, else { bytes,
// version, adapter, etag }. (The script tag's loader uses it alone when it has no worker, with
// the browser's HTTP cache; `getSnapshot` adds the Cache API. The second parameter is
// `getSnapshot`'s `persist`, unused here, so that either can be `start()`'s `snapshots`.)
export async function fetchSnapshot(cfg, _, etag) {
  const headers = etag ? { 'If-None-Match': etag } : {};
  const pointer = await fetch(new URL('v1/snapshot/' + encodeURIComponent(cfg.site), cfg.endpoint), { credentials: 'omit', headers, cache: etag === undefined ? 'default' : 'no-store' });
  if (pointer.status === 304) return null;
  if (!pointer.ok) throw fail('SNAPSHOT_UNAVAILABLE', 'the snapshot pointer ' + pointer.url + ' answered HTTP ' + pointer.status);
  // (Not the sync server's JSON, e.g. a store's page at a wrong endpoint: our own error, so the
  // page is left as it is instead of trying again without a worker.)
  const { url, version, adapter } = await pointer.json().catch(() => 0) || {};
  if (!url) throw fail('SNAPSHOT_UNAVAILABLE', 'the snapshot pointer ' + pointer.url + ' did not answer the sync server\'s JSON');
  // (The server names the bytes by their path from its root: under the endpoint's, so that a
  // server behind a proxy's prefix is reached there too.)
  const res = await fetch(new URL(url[0] === '/' ? url.slice(1) : url, cfg.endpoint), { credentials: 'omit' });
  if (!res.ok) throw fail('SNAPSHOT_UNAVAILABLE', 'the snapshot ' + res.url + ' answered HTTP ' + res.status);
  return { bytes: new Uint8Array(await res.arrayBuffer()), version: String(version), adapter, etag: pointer.headers.get('etag') };
}

// A returning shopper decides from the Cache API at once; the pointer is revalidated (ETag) in
// the background and a newer version is stored for the next page view.
export async function getSnapshot(cfg, persist) {
  const pointerUrl = new URL('v1/snapshot/' + encodeURIComponent(cfg.site), cfg.endpoint);
  let cache = null;
  // Opening a cache creates it: before consent the Cache API is only read, never written.
  try { cache = persist || (await caches.has(CACHE)) ? await caches.open(CACHE) : null; } catch (_) { /* no Cache API: plain fetches */ }
  const refresh = async (etag) => {
    const got = await fetchSnapshot(cfg, 0, etag);
    if (got && cache && persist) {
      const headers = { 'x-tailor-etag': got.etag || '', 'x-tailor-version': got.version, 'x-tailor-adapter': JSON.stringify(got.adapter || null) };
      await cache.put(pointerUrl, new Response(got.bytes, { headers })).catch(() => {});
    }
    return got;
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
  // (A download the network refused, the browser's TypeError: a sync server down or out of
  // reach, a CORS or CSP refusal, is unavailable too.)
  return refresh(null).catch((err) => {
    throw err && err.tailor ? err : fail('SNAPSHOT_UNAVAILABLE', `the snapshot could not be downloaded from ${cfg.endpoint} (${err && err.message})`);
  });
}

// The smallest valid module (magic and version): compiling it asks a CSP whether WebAssembly may
// run, and nothing else (the loader on the page, the worker from a blob:).
export const emptyModule = () => Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0);

// An event batch's body: `events` (a JSON array) with the events this device had to drop
// (`dropped`, by reason) since the last acknowledged report (`reported`), so the merchant sees
// them (tailor_device_events_dropped_total on /metrics). The page's outbox and the loader's
// worker send this way (the loader's beacon, a copy, reports nothing).
export const envelope = (site, events, dropped = {}, reported = {}, key = '') => {
  const delta = {};
  for (const k in dropped) if (dropped[k] > (reported[k] || 0)) delta[k] = dropped[k] - (reported[k] || 0);
  const lost = Object.keys(delta).length ? `"dropped":${JSON.stringify(delta)},` : '';
  // (The site's public write key, when its sync server asks for one: `site.write_key`.)
  return `{"site":${JSON.stringify(site)},${key ? `"key":${JSON.stringify(key)},` : ''}${lost}"events":${events}}`;
};

// The queues of `site`, among `keys`, that a tab takes over: those whose tab's heartbeat (read
// with `get`) is older than 10 s or missing, and one an earlier version saved under the site key
// alone; never `own`. The same rule for the page (`outbox`) and the loader's worker.
export const deadQueues = (keys, get, site, own, now) => keys.filter((k) => k !== own
  && (k === 'tailor:queue:' + site || (k.startsWith('tailor:queue:' + site + ':') && !(now - get(k.replace('tailor:queue:', 'tailor:alive:')) < 10000))));

// Each tab keeps its own queue (`tailor:queue:<site>:<tab>`) and a heartbeat
// (`tailor:alive:<site>:<tab>`), so tabs never overwrite each other's events, and each event is
// sent by exactly one tab. A tab whose heartbeat is older than 10 s died: the next tab to start
// takes its queue over. `keeper(local, site, allowed, restore, idle)` is a tab's side of that
// (with the worker's storage, the worker keeps the heartbeat in IndexedDB and takes queues over
// itself): `restore(lines)` gets each dead tab's queue, `beat()` renews the heartbeat, and every
// 3 s both happen once storage may be written (`allowed()`), then `idle()`, so an orphaned queue
// is reclaimed within 10 s even when no new page starts. After `stop()` (pagehide) the tab beats
// no more (an aborted send finishing late must not revive it); `beat()` revives it (back from
// the back/forward cache). The queue itself is the caller's to write.
export function keeper(local, site, allowed, restore, idle) {
  const key = 'tailor:queue:' + site + ':' + uuid();
  const alive = key.replace('tailor:queue:', 'tailor:alive:');
  let gone = false;
  const k = {
    key,
    get gone() { return gone; },
    takeover() {
      if (local.remote || !allowed()) return;
      for (const other of deadQueues(local.keys('tailor:queue:' + site), (x) => local.get(x), site, key, Date.now())) {
        restore(local.get(other) || '');
        local.remove(other);
        local.remove(other.replace('tailor:queue:', 'tailor:alive:'));
      }
    },
    beat() { gone = false; local.set(alive, String(Date.now())); },
    // Leaving: the next page (or another tab) may take this queue over at once. Should the page
    // come back from the back/forward cache, the heartbeat resumes; an event sent by both
    // carries the same id, and the server stores it once.
    stop() { local.set(alive, '0'); gone = true; },
  };
  k.takeover();
  k.beat();
  if (!local.remote) setInterval(later(() => { if (!gone) k.beat(); if (allowed()) { k.takeover(); idle(); } }, 'beat'), 3000);
  addEventListener('pageshow', (e) => { if (e.persisted) k.beat(); });
  return k;
}

// Events go to the sync server in batches. What to send, when to retry and what to drop is the
// queue's (the wasm `Queue`, tailor_core::outbox); this only does the I/O, on the page (the npm
// package; the script tag's loader keeps its queue in its worker, js/worker.js). The queue is
// written to storage right after every run of events and after every answer, and at once when
// the page is hidden or left (a killed tab loses nothing). It is sent a second after an event
// arrives (later while the queue backs off; an empty queue sets no timer), when the page is
// hidden and on pagehide, as text/plain so no CORS preflight is needed. A batch still in flight
// when the page goes away stays queued and is sent again, with the same ids, from the next page
// (the server stores each id once). `outbox(Queue)` is `start()`'s `glue.outbox`.
export const outbox = (Queue) => (cfg, local, consent, leave) => {
  const queue = new Queue();
  const url = new URL('v1/events', cfg.endpoint);
  const tab = keeper(local, cfg.site, () => consent.allowed, (lines) => queue.restoreQueue(lines), () => idle());
  const saveQueue = () => { if (!tab.gone) { local.set(tab.key, queue.storedQueue()); tab.beat(); } };
  const save = () => { if (!tab.gone) soon(saveQueue); };
  save();
  let sending = false;
  let timer = 0;
  // The next send, when the queue allows it. An empty queue needs no timer: the next event
  // (or a queue taken over from another tab) starts one.
  const schedule = () => {
    clearTimeout(timer);
    timer = 0;
    if (!queue.queued) return;
    const wait = Math.max(1000, queue.retryAt() - Date.now());
    timer = setTimeout(later(() => { timer = 0; flush(false); }, 'send'), Math.min(wait, 60000));
  };
  const idle = () => { if (!timer && !sending) schedule(); };
  // (The drops reported by the last acknowledged batch, and by the one being sent.)
  let reported = {};
  let reporting = {};
  const body = (events) => envelope(cfg.site, events, (reporting = queue.dropped()), reported, cfg.key);
  const flush = (leaving) => {
    if (!consent.allowed) return;
    const online = navigator.onLine !== false;
    if (leaving) {
      leave();
      // No answer can come back: send a copy, keep the events queued.
      const events = queue.nextBatch(Date.now(), online);
      if (events && navigator.sendBeacon) navigator.sendBeacon(url, new Blob([body(events)], { type: 'text/plain' }));
      if (events) queue.abandoned();
      return;
    }
    if (sending) return;
    const events = queue.nextBatch(Date.now(), online);
    if (!events) { schedule(); return; }
    sending = true;
    const sent = body(events);
    // keepalive (the send survives navigation) carries at most 64 KiB; a larger body (a long
    // site key) goes without it. A send the page's going cuts short stays queued, and the
    // pagehide beacon above sends a copy.
    postBatch(url, sent, new Blob([sent]).size < 65536)
      .catch(() => [0])
      .then(later(([status, retry]) => {
        try {
          const after = Number(retry);
          if (status > 199 && status < 300) reported = reporting;
          queue.answered(status || 0, Number.isFinite(after) && after > 0 ? after * 1000 : undefined, Date.now(), Math.random());
        } finally { sending = false; save(); schedule(); }
      }, 'answer'))
      .catch(() => { /* never the page's error */ });
  };
  schedule();
  addEventListener('pagehide', later(() => {
    saveNow();
    flush(true);
    local.set(tab.key, queue.storedQueue());
    tab.stop();
  }, 'leave'));
  addEventListener('online', later(() => { queue.online(); flush(false); }, 'online'));
  document.addEventListener('visibilitychange', later(() => { if (document.visibilityState === 'hidden') { saveNow(); flush(true); } }, 'leave'));
  return {
    queue,
    add(json) { queue.enqueue(json, Date.now()); if (tab.gone) local.set(tab.key, queue.storedQueue()); else save(); idle(); },
    flush,
    dropped: () => queue.dropped(),
    // Consent given: take over dead tabs' queues, keep ours, send.
    start() { tab.takeover(); save(); flush(false); },
    forget() { queue.forget(); },
  };
};

/**
 * Boot the engine for `cfg.site`: storage and consent, the shopper and session ids, the wasm
 * (`loadWasm()`, which instantiates the wasm-bindgen glue), the snapshot (`cfg.snapshot` bytes,
 * or the sync server's current one) and the stored profile, then event tracking and delivery.
 * `agent([consent mode, privacy signal, Shopify's answer])`, when given, may compile the wasm,
 * get the snapshot and read the stored keys elsewhere: it resolves to [module, { version,
 * adapter } (the snapshot stays there, with the engine), warmed, keys, write, listen]
 * (`loadWasm(module)` instantiates that module at once, so that its cost is in the answer's own
 * span; `keys`, `write` and `listen` are storage kept elsewhere, see below), or null.
 * `snapshots(cfg, persist)` gets the snapshot otherwise (`getSnapshot`).
 * `glue` is { Engine, outbox }: the wasm's `Engine`, and the event queue's I/O, `outbox(Queue)`
 * for a queue on the page. `Engine.init` may return a promise: the loader's
 * `Engine.init(opts, answer)` starts the engine in its worker (js/loader.js, `far`), which hears
 * the worker's answers itself and hands on the rest (`listen`); its `outbox` keeps the queue
 * there too.
 * `cfg`: { site, endpoint: URL, hosts, consent, dnt, beforeConsent, customer, snapshot?, version? }.
 */
export async function start(cfg, loadWasm, glue, agent, snapshots) {
  // The script tag's loader has a worker (js/loader.js, `agent`) compile the wasm, get the
  // snapshot, run the engine and read our stored keys (IndexedDB), all off the main thread. It
  // answers [module, { version, adapter }, warmed, keys, write, listen]. With `keys` (null when
  // the worker cannot use IndexedDB) storage is the worker's (`remote`, `write`), and `listen`
  // hears of keys other tabs changed. Otherwise storage is `localStorage`: in the npm package, and
  // with data-before-consent="off", where nothing at all happens before consent, so the page
  // reads the stored choice itself (and waits for consent; the anti-flicker CSS reveals the page).
  let local = !cfg.beforeConsent && store();
  let consent = local && privacy(cfg, local);
  // A grant is kept as its mode reads it on the next page: 'granted' (opt-in), no refusal
  // (opt-out). (Shopify's API keeps its own.)
  const remember = () => {
    if (cfg.consent === 'opt-in') local.set('tailor:consent', 'granted');
    if (cfg.consent === 'opt-out') local.remove('tailor:consent');
  };
  if (consent && !consent.allowed) {
    // `cfg.waiting(consent)` lets the caller take a grant while it waits (the loader's queue).
    await new Promise((resolve) => { consent.changed = () => { if (consent.allowed) resolve(); }; if (cfg.waiting) cfg.waiting(consent); });
    remember();
  }
  const done = agent && (await agent(consent ? true : [cfg.consent, signalled(cfg), shopify()]));
  // The worker's module is instantiated in the task of its answer; that task, from the answer's
  // arrival (the loader's mark), is one `tailor:decode` span, `Engine.init` the next.
  const instantiated = done && loadWasm(done[0]);
  const backing = done && done[3] && remote(done[3], done[4]);
  if (!local) {
    local = store(backing);
    consent = privacy(cfg, local);
  }
  if (consent.allowed) local.persist();
  // Consent as storage was set up for it: a change while the engine starts (Shopify's API
  // answering meanwhile) is carried out once everything it touches exists (`changed`, below).
  let allowed = consent.allowed;
  let shopper = local.get('tailor:shopper') || uuid();
  local.set('tailor:shopper', shopper);
  // A session is the store's, not a tab's: it ends after 30 minutes without an event in any tab,
  // so a shopper who opens products in new tabs stays in one. It lives in storage as
  // "<id> <last event, ms>" (sessionStorage is per tab, and a second storage area costs the page
  // a second synchronous call to the browser). `session()` is the session of an event now: this
  // page's, or, 30 minutes after its last event (a tab left open, a single-page store, a page
  // back from the back/forward cache), the one another tab has started since, or a new one.
  let sessionId;
  let sessionAt = 0;
  const session = () => {
    const now = Date.now();
    if (now - sessionAt >= SESSION_MS) {
      const [id, at] = (local.fresh('tailor:session') || '').split(' ');
      sessionId = id && now - at < SESSION_MS ? id : uuid();
    }
    sessionAt = now;
    return sessionId;
  };
  const touch = () => local.set('tailor:session', sessionId + ' ' + sessionAt);
  session();
  touch();
  // True the first time `key` is asked for in this session (an exposure, a diagnostic).
  const once = (key) => local.get(key) !== session() && (local.set(key, sessionId), true);
  const profileKey = 'tailor:profile:' + cfg.site;
  const stored = local.get(profileKey);
  const profileUrl = customerProfile(cfg);

  // The wasm, the snapshot and (for a logged-in customer whose device lost its profile) the
  // customer's stored profile download in parallel; the wasm compiles while it streams.
  const rehydrating = profileUrl && !stored && consent.allowed
    ? fetch(profileUrl, { credentials: 'omit', cache: 'no-store' }).then((r) => (r.ok ? r.text() : null), () => null)
    : null;
  if (done) measure('tailor:decode', 'tailor:decode');
  const [, { bytes: snapshot, version, adapter: siteAdapter }, rehydrated] = await Promise.all([
    instantiated || loadWasm(),
    done ? done[1] : cfg.snapshot ? { bytes: cfg.snapshot, version: cfg.version } : snapshots(cfg, consent.allowed),
    rehydrating,
  ]);
  mark('tailor:decode');
  let engine;
  let error;
  try {
    engine = glue.Engine.init({
      snapshot,
      profile: stored || rehydrated || undefined,
      shopper,
      origin: location.origin,
      hosts: cfg.hosts,
      // (An engine in the loader's worker keeps the profile where it keeps the page's storage,
      // and sends it here only if the page has to keep it, in `localStorage`, or send it.)
    }, done, !local.remote || !!profileUrl);
    // (An engine in the loader's worker answers when it has started: the wait is not our work.)
    if (engine.then) {
      measure('tailor:decode', 'tailor:decode');
      engine = await engine;
      mark('tailor:decode');
    }
    error = engine.error;
  } catch (err) {
    error = err;
  }
  // Bytes the engine cannot read may be a damaged copy in the Cache API, which revalidation
  // (a 304) would keep for good: it goes, and the next page view downloads them again. (Not
  // when they never came: a download that outlived the wait is cached for the next page.)
  const code = String(error && error.code);
  if (code.startsWith('SNAPSHOT') && code !== 'SNAPSHOT_UNAVAILABLE') dropCache();
  // An engine in the loader's worker that could not start leaves its event queue running there:
  // the page is left as rendered (the loader fails with `error`), and its events are still
  // checked, kept and sent. Without one, nothing runs.
  if (!engine) throw error;
  // The event queue: on the page (`outbox`), or in the loader's worker with its engine.
  // (The page's leaving sends the profile too: `syncProfile`, below.)
  const out = (engine.outbox || glue.outbox)(cfg, local, consent, () => syncProfile(1));
  // Impressions and clicks name the snapshot version that chose the items.
  const modelVersion = 'v' + (version || '0');
  let profileUnsynced = false;
  // Shopify's checkout pixel (js/npm/shopify-pixel.js) can read `localStorage` but not
  // IndexedDB: with the worker's storage, the shopper and the session go there too, on a
  // Shopify store, when either changes (once a session).
  const mirror = () => {
    const ids = shopper + ' ' + sessionId;
    // (Only while our storage is written, `live`: not before consent, nor after a revoke or a
    // forget, after which this page keeps nothing more on the device.)
    if (!backing || !window.Shopify || !local.live() || local.get('tailor:mirror') === ids) return;
    try { localStorage.setItem('tailor:shopper', shopper); localStorage.setItem('tailor:session', sessionId + ' ' + sessionAt); } catch (_) { /* blocked */ }
    local.set('tailor:mirror', ids);
  };
  // After a run of events: the profile (unless the loader's worker keeps it: `keeps`), and the
  // session's last event.
  // (Without an engine the page has no newer profile than the one it started from, which a
  // working tab's may have replaced since.)
  const saveShopper = () => { if (!engine.error && !(engine.keeps && local.remote)) local.set(profileKey, engine.exportProfile()); touch(); mirror(); };
  // (An engine in the loader's worker that was asked for its profile, `init`'s third argument,
  // sends it after a run of events: then it is saved, or kept for the customer's beacon.)
  engine.changed = () => { profileUnsynced = true; soon(saveShopper); };
  // (`ours`: an event the loader made itself, valid by construction. An engine in the loader's
  // worker checks those there, `far.checks`, and the page only the events others track.)
  const track = (type, props, ours) => {
    // (A purchase's order id may be given as a number, as most order objects hold it: it is
    // kept as a string, which events.md and the server expect.)
    const order = type === 'purchase' && props.order;
    const id = order ? orderEventId(cfg.site, '' + order) : uuid();
    const event = { ...props, id, type, shopper, session: session(), ts: Date.now() };
    // (Only a number: `true` or a date would pass as the same text for every shopper.)
    if (order === +order) event.order = '' + order;
    if (!(ours && engine.checks)) engine.track(event);
    // (Serialized once: for the queue, which in the loader's worker gives it to the engine too.)
    profileUnsynced = true;
    soon(saveShopper);
    out.add(JSON.stringify(event));
    return event;
  };
  // A logged-in customer's profile goes to the server when the page is hidden, so another
  // device, or this one after its storage is wiped, starts from it.
  // (An engine in the loader's worker is asked for its profile, which has every event tracked
  // so far, unless the page is leaving, `now`: then the page's copy goes.)
  const syncProfile = (now) => {
    // (Without an engine the page has no newer profile than the one it started from.)
    if (engine.error || !profileUrl || !profileUnsynced || !consent.allowed || !navigator.sendBeacon) return;
    profileUnsynced = false;
    const send = (p) => navigator.sendBeacon(profileUrl, new Blob([p], { type: 'text/plain' }));
    if (now || !engine.latest) send(engine.exportProfile());
    else engine.latest().then(send, () => {});
  };

  // The server is asked to delete a forgotten shopper's events until it has answered: a request
  // that fails (a device offline, a server down or restarting) is kept (`tailor:forget`,
  // whatever consent says: it is the shopper's own request), and a page that finds it sends it
  // again. Only an answer of the sync server's (JSON, as `postBatch` reads answers: a store's
  // page at a wrong endpoint is none) that a retry could not change lets it go (`kept`: then
  // the key goes).
  const erase = (request, kept) => fetch(new URL('v1/forget', cfg.endpoint), { method: 'POST', keepalive: true, credentials: 'omit', headers: { 'content-type': 'text/plain' }, body: request })
    .then((r, s = r.status) => s < 500 && s !== 408 && s !== 429 && (r.headers.get('content-type') || '').includes('json'), () => 0)
    .then((done) => { if (!done) local.keep('tailor:forget', request); else if (kept) local.keep('tailor:forget'); });
  const unfinished = local.get('tailor:forget');
  if (unfinished) erase(unfinished, 1);
  // Everything on the device goes; the server is asked to delete this shopper's events.
  const forget = (server, elsewhere) => {
    // (No `customer` key without one: JSON leaves out what is undefined.)
    const request = server && consent.allowed && JSON.stringify({ site: cfg.site, shopper, customer: cfg.customer || undefined });
    // (What this page wrote before goes to the worker first: when another tab's wipe is why,
    // it was written before the page heard, and the worker drops it.)
    backing?.flush();
    // (A new random id, which the engine's experiments follow too, and a new session, so that
    // nothing ties the events after the forget to those before it.)
    engine.forget(shopper = uuid());
    sessionId = uuid();
    out.forget();
    local.clear(elsewhere);
    dropCache();
    if (request) erase(request);
    profileUnsynced = false;
    // A refusal outlives a forget (opt-out), and a forgotten grant is no longer one (opt-in:
    // the shopper is asked again). A refusal is written back after every wipe, this tab's or
    // another's, but not when this tab has only just read it from storage (`check`, elsewhere 2):
    // it is there already, or a consent given since in another tab has replaced it, and this tab
    // has yet to read that.
    if (elsewhere !== 2 && cfg.consent === 'opt-out' && !consent.allowed && !consent.signal) local.keep('tailor:consent', 'denied');
    consent.check();
  };
  // Consent given or taken back while the page lives (a banner, Shopify's API, tailor.consent).
  consent.changed = () => {
    if (consent.allowed === allowed) return;
    allowed = consent.allowed;
    if (allowed) {
      local.persist();
      remember();
      local.set('tailor:shopper', shopper);
      saveShopper();
      out.start();
    } else {
      // Stop sending at once; the queue and the profile are cleared (opt-out: the refusal kept).
      forget(false, consent.elsewhere);
    }
  };
  // What the worker says about storage, once everything it may touch exists (what came while
  // its engine started is heard now).
  if (done) {
    engine.listen(later((m) => {
      if (!backing) return;
      // (A refusal another tab stored stops this one too.)
      for (const [k, v] of m.keys || []) { backing.kv.set(k, v); if (k === 'tailor:consent') consent.check(); }
      // Another tab forgot the shopper (or consent was taken back there): so does this page.
      if (m.wiped) forget(false, 1);
    }, 'restore'));
  }
  // (A change that came while the engine started, now.)
  consent.changed();
  // (`tailor:decode` ends here: the event delivery and the listeners above are its work too.)
  measure('tailor:decode', 'tailor:decode');
  return { engine, queue: out.queue, track, out, consent, forget, syncProfile, once, modelVersion, siteAdapter, error };
}

// A logged-in customer's profile on the sync server (GET to re-hydrate a device, POST to keep
// it): undefined without a customer.
export const customerProfile = (cfg) => cfg.customer && new URL(`v1/profiles/${encodeURIComponent(cfg.site)}/${encodeURIComponent(cfg.customer)}`, cfg.endpoint);

/**
 * The calls a running engine answers, as `window.tailor` (the loader) and the npm package both
 * offer them; `state` is what `start()` resolved.
 */
export function calls(state) {
  const { engine } = state;
  return {
    track: (type, props) => state.track(type, props || {}),
    rank: (opts) => engine.rank(opts || {}),
    recommend: (opts) => engine.recommend(opts),
    profile: () => engine.profile({}),
    explain: (opts) => engine.explain(opts),
    assignment: (opts) => engine.assignment(opts || {}),
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
