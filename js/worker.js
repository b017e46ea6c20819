// Tailor's worker: what the loader (js/loader.js, `agent`) hands to a thread of its own, so the
// shopper's main thread does not pay for it. It downloads and compiles the wasm, gets the
// snapshot (Cache API, revalidated in the background) and runs the engine: the snapshot and the
// shopper's profile live here, and the page asks for decisions (`use`). Before it answers, it
// makes the page's own wasm calls once, on a throwaway engine and a stand-in document
// (js/warm.js): a browser compiles a wasm function on its first call, on the calling thread,
// and the compiled code belongs to the module, which goes to the page, so the page's reading
// and changing of its markup and its event checks find their code compiled. Afterwards it
// keeps the page's event queue and sends its batches (`queued`).
//
// It also keeps the page's storage: our keys live in IndexedDB (database `tailor`, store `kv`),
// which a worker can use and which costs the page nothing, where `localStorage` would cost the
// page's main thread a synchronous load on every page view (BENCHMARKS.md, "an eighth round").
// The page gets a copy of the keys with the answer and sends its writes here; this worker
// keeps the page's heartbeat and takes dead tabs' event queues over into the page's.
//
// Built into dist/tailor.worker.js (webpack.config.js); the versioned build pins it
// (scripts/versioned.mjs). The first message asks for [module, { version, adapter }, warmed,
// keys] (see `serve`). Every later one is the writes to storage of one task of the page's, in
// order (an array of them: [key, value] sets, [key] deletes, [] deletes everything), or a call
// to the engine or the queue (an object, see `use`). A failure answers [null, code, message]
// for our own errors (WebAssembly refused by the page's CSP), and [null] for the browser's;
// without a snapshot it answers as usual, and its engine's start fails (`failure`). The queue goes
// to the page as { q: lines, ... } after it changes (`changed`), and keys another tab changed
// as { keys: [[key, value], ...] }.
import initWasm, { Engine, Queue, checkEvent } from '../pkg/web/tailor.js';
import { exercise } from './warm.js';
import { allows, deadQueues, emptyModule, envelope, fail, getSnapshot, postBatch, uuid, wasmFetch } from './runtime.js';

// A page that cannot start a worker (a CSP that refuses one, data-worker="off") runs this file
// as a script of its own, and the loader hands it one end of a MessageChannel first: then every
// message comes and goes through that port, and nothing is warmed (the page's own calls compile
// what they use).
const onPage = !!self.document;
const port = onPage ? self.__tailorPort : self;
if (onPage) delete self.__tailorPort;
// On the page, an exception in this file's own timers and listeners would reach the page's
// `window.onerror`: there it is dropped, as the loader drops its own (`later`), and what was
// queued stays queued. In a worker it stays uncaught, so that the page hears of it and stops
// listening (js/loader.js, `WORKER_FAILED`).
const guard = (f) => (onPage ? (...a) => { try { return f(...a); } catch (_) { /* never the page's error */ } } : f);
const setTimeout = (f, ms) => self.setTimeout(guard(f), ms);
const setInterval = (f, ms) => self.setInterval(guard(f), ms);

// How long a page waits for a snapshot it has to download (none cached) before it goes on
// without one (docs/integrate-script-tag.md).
const SNAPSHOT_WAIT_MS = 5000;

let events;
let site;
// The site's public write key, sent with each batch (the page's `data-key`).
let writeKey;
let answered = false;
// The database was deleted by another tab before this worker answered (`open`); or after,
// and the page has not forgotten yet (`stale`: its writes meanwhile are of what was deleted).
let wiped = 0;
let stale = 0;
// `consent`: [mode, Global Privacy Control or Do Not Track, Shopify's answer] (runtime.js,
// `allows`), for whether the snapshot may be kept in the Cache API.
// Or `consent` is whether it may (the page decided before it asked), and the page keeps its
// storage in `localStorage` (no keys are read here).
async function serve([name, endpoint, wasm, hosts, consent, pub]) {
  site = name;
  writeKey = pub;
  events = new URL('v1/events', endpoint);
  const res = wasmFetch(wasm);
  // (A failed download is handled below, once the keys are read.)
  res.catch(() => {});
  // The stored keys come first: the consent they hold decides whether the snapshot is cached.
  const keys = Array.isArray(consent) ? await read() : null;
  const kv = new Map(keys || []);
  // (What the other tabs already know: only a change of it is sent to them, `commit`.)
  for (const [k, v] of kv) shared.set(k, k === 'tailor:session' ? v.split(' ')[0] : v);
  // (Keys that cannot be read may hold a refusal: then only modes that need no stored choice
  // allow it.)
  const persist = Array.isArray(consent) ? !consent[1] && allows(consent[0], keys ? kv.get('tailor:consent') : 'denied', consent[2]) : consent;
  const [module, snapshot] = await Promise.all([
    // A server that sends the wasm with the wrong MIME type: compiled from its bytes.
    WebAssembly.compileStreaming(res).catch(async () => WebAssembly.compile(await (await res).arrayBuffer()))
      // (From a blob:, this worker has the page's CSP: one without 'wasm-unsafe-eval' refuses
      // even an empty module, and then the page is left as it is, not made to try again.)
      .catch((err) => {
        try { new WebAssembly.Module(emptyModule()); } catch (_) { throw fail('LOAD_FAILED', "this page's Content-Security-Policy does not allow WebAssembly ('wasm-unsafe-eval')"); }
        throw err;
      }),
    // Without a snapshot (our own error: unavailable) the worker still answers, so that the
    // event queue runs with no engine (`use`: the page is left as rendered, its events kept).
    // A download that has not ended after SNAPSHOT_WAIT_MS (a sync server that hangs) counts as
    // unavailable; it goes on, and is cached for the next page when consent allows. (So is a
    // download the network refused, `getSnapshot`: a sync server down or out of reach.)
    Promise.race([
      getSnapshot({ site, endpoint: new URL(endpoint) }, persist),
      new Promise((_, reject) => setTimeout(() => reject(fail('SNAPSHOT_UNAVAILABLE', `the snapshot did not arrive within ${SNAPSHOT_WAIT_MS / 1000} s`)), SNAPSHOT_WAIT_MS)),
    ]).catch((err) => {
      if (!err || !err.tailor) throw err;
      failure = err;
      return {};
    }),
  ]);
  // null when the calls failed; else how many of the three DOM passes ran their whole path.
  let warmed = null;
  if (!onPage && !failure) await exercise(module, snapshot.bytes, kv.get('tailor:profile:' + site) || undefined, kv.get('tailor:shopper') || uuid(), hosts).then((w) => { warmed = w; }, () => {});
  await initWasm({ module_or_path: module });
  bytes = snapshot.bytes;
  // (The snapshot stays here: the page gets its version and its adapter.)
  // (Another tab deleted the database since the keys were read, a forget or a revoke: they
  // are not this page's to start from.)
  return [module, { version: snapshot.version, adapter: snapshot.adapter }, warmed, wiped && keys ? [] : keys];
}

// The engine: the page's calls, one message each (js/loader.js, `far`). `{ g: opts }` starts
// it (`Engine.init`'s options but the snapshot, which is here) and the event queue (below);
// `{ t: json, s: n }` is an event the page tracked (its `n`th), for the profile and the queue;
// `{ f: n, h: shopper }` forgets the profile and the queue (`h`, the new random id, is what the
// experiments assign by from then on); `{ a: allowed }` says whether events may be sent
// (consent); `{ r: lines }` is a queue the page took over from a dead tab; `{ z: 1 }` says the
// page is leaving; `{ s: 0 }` sends now (`tailor.flush()`), and `{ u: 1 }` too after a wait
// (the page is back online); `{ d: request }` decides a page the
// page read, and `{ c: name, o: opts }` is one of `rank`, `recommend`, `profile`, `explain` and
// `assignment`. Those with a number `n` are answered `{ n, r: result }`
// or `{ n, e: [code, message] }` (`init` answers the snapshot's item count). After a run of
// events the profile is kept here with the queue (`keepProfile`), and goes to the page only when
// the page asked for it at `init` (`{ g, p: 1 }`: it keeps its storage in `localStorage`, or has
// a logged-in customer's profile to send): `{ profile, gen }`, where `gen` counts the forgets,
// so that a profile sent before one is never stored after it.
let bytes;
let engine = null;
// Why there is no engine: the snapshot could not be had, or the engine could not read it. The
// event queue runs without one (events are checked with `checkEvent`), and the engine's calls
// answer this error.
let failure = null;
let gen = 0;
let telling = 0;
let tell = false;
// The profile changed since it was last kept.
let dirty = false;
// The stored profile the page handed over could not be read (a damaged copy, or a format this
// engine does not know): the engine started from none, and the merchant hears of it with the
// page's next event (`PROFILE_UNREADABLE`, which needs that event's shopper and session).
let unreadable = false;
function use(m) {
  let r;
  let e;
  try {
    if (m.t) {
      // The engine checks the event (the page's own events come unchecked: `far`), redacts its
      // free text and adds it to the profile; the queue gets it as checked, at the time the page
      // tracked it (the page's rate limit counts the page's time). One that is not valid is
      // never sent, and is counted as `rejected` (`tailor.dropped()`, and the merchant's
      // /metrics with the next batch): a theme's cart data we misread shows there.
      // (Should the engine fail on a valid event, the event is still checked and sent.)
      const event = JSON.parse(m.t);
      let json;
      try {
        json = JSON.stringify(engine.track(event));
      } catch (_) {
        try { json = JSON.stringify(checkEvent(event)); } catch (_) { queue.reject(); }
      }
      queued(json, m.s, event.ts);
      if (unreadable) {
        unreadable = false;
        const { shopper, session, ts } = event;
        queued(JSON.stringify({ id: uuid(), type: 'diagnostic', code: 'PROFILE_UNREADABLE', detail: 'the stored profile could not be read; the shopper starts afresh', shopper, session, ts }), m.s, ts);
      }
      // (No engine, no profile. An event has no `n`: no answer is due.)
      if (!engine) return;
      dirty = true;
      telling = telling || setTimeout(() => {
        telling = 0;
        // (Serialized once, for the page and for storage.)
        const profile = (tell || beating) && engine.exportProfile();
        if (tell) port.postMessage({ profile, gen });
        keepProfile(profile);
      });
    } else if (m.f) {
      gen = m.f;
      stale = 0;
      // (What the device held before the forget is no longer anyone's to report.)
      unreadable = false;
      clearTimeout(telling);
      telling = 0;
      engine?.forget(m.h);
      dirty = false;
      queue.forget();
      changed();
    } else if ('a' in m) {
      // (Consent given: what was kept in memory goes at once.)
      allowed = m.a;
      changed();
      send();
    } else if (m.r) {
      queue.restoreQueue(m.r);
      changed();
      idle();
    } else if (m.s === 0) send();
    else if (m.u) back();
    else if (m.z) { keep(); keepProfile(); }
    else if (m.g) {
      tell = !!m.p;
      // (The queue first: it runs whether or not the engine can start.)
      queue = new Queue();
      if (failure) throw failure;
      r = (engine = Engine.init({ ...m.g, snapshot: bytes })).itemCount;
      // (Every stored profile has seen a session: one that has none was not read.)
      unreadable = !!m.g.profile && !engine.profile({}).sessions;
    } else if (!engine) throw failure;
    else r = m.d != null ? engine.decide(m.d) : engine[m.c](m.o);
  } catch (err) {
    if (m.g) failure = err;
    e = [(err && err.code) || 'INTERNAL', String(err && err.message)];
  }
  if (m.n) port.postMessage({ n: m.n, r, e });
}

// The page's event queue (the wasm's `Queue`: what to send, when to retry and what to drop,
// tailor_core::outbox) lives here, next to the engine that sees every event, and so does its
// I/O: the page's main thread pays for neither. Events are sent a second after one arrives
// (later while the queue backs off; an empty queue sets no timer), and only once consent allows
// (`allowed`). After each run of changes the page gets the queue as stored (one event's JSON a
// line) with `{ q: lines, s: the last event's number, k: how many, w: retry at, x: dropped }`,
// which it sends by beacon when it is hidden or left, since this worker dies with it. The queue
// is kept in storage here (`keep`), or by the page in `localStorage`. A batch still in flight
// when the page goes away stays queued (its copy went by beacon) and is sent again, with the
// same ids, from the next page (the server stores each id once).
let queue = null;
let allowed = false;
let last = 0;
let changing = 0;
let timer = 0;
let sending = false;
// (The drops reported by the last acknowledged batch, and by the one being sent: `envelope`.)
let reported = {};
let reporting = {};
function queued(json, n, at) {
  if (json) queue.enqueue(json, at);
  last = n;
  changed();
  idle();
}
function changed() {
  changing = changing || setTimeout(() => {
    changing = 0;
    const lines = queue.storedQueue();
    port.postMessage({ q: lines, s: last, k: queue.queued, w: queue.retryAt(), x: queue.dropped() });
    keep();
  });
}
// The queue kept under the page's key for its tab, while the page's storage comes here (its
// heartbeat runs: not before consent, nor after a forget; the page keeps it itself in
// `localStorage`). `{ z: 1 }`: the page is leaving, so at once.
const keep = () => { if (beating) write([own.replace('tailor:alive:', 'tailor:queue:'), queue.storedQueue()]); };
// The profile, kept the same way after a run of events (and at once when the page is leaving),
// so that the next page starts from every event this one saw, whether or not the page heard of
// it. (The page writes it only in `localStorage`.)
const keepProfile = (profile) => {
  if (!beating || !dirty || !engine) return;
  dirty = false;
  try { write(['tailor:profile:' + site, profile || engine.exportProfile()]); } catch (_) { /* the last one kept stays */ }
};
// The next send, when the queue allows it.
function schedule() {
  clearTimeout(timer);
  timer = 0;
  if (!allowed || !queue.queued) return;
  timer = setTimeout(() => { timer = 0; send(); }, Math.min(Math.max(1000, queue.retryAt() - Date.now()), 60000));
}
const idle = () => { if (!timer && !sending) schedule(); };
// (After an uncaught error here the page no longer listens: nothing more is sent, and what is
// queued stays in the page's storage for the next page.)
function send() {
  if (!allowed || sending || broken) return;
  const batch = queue.nextBatch(Date.now(), navigator.onLine !== false);
  if (!batch) return schedule();
  sending = true;
  postBatch(events, envelope(site, batch, (reporting = queue.dropped()), reported, writeKey)).catch(() => [0]).then(([status, retry]) => {
    const after = Number(retry);
    if (status > 199 && status < 300) reported = reporting;
    queue.answered(status || 0, after > 0 ? after * 1000 : undefined, Date.now(), Math.random());
  }).finally(() => { sending = false; changed(); schedule(); }).catch(() => {});
}
// Back online (this worker's own event, or the page's: `{ u: 1 }`): the wait is over.
const back = () => { if (queue) { queue.online(); send(); } };
addEventListener('online', guard(back));

// The page's storage, in IndexedDB. Opening a database that does not exist creates it, so until
// the page writes (consent given) it is only opened if it exists. `read()` resolves to every
// key and value, [] when there is no database, and null when IndexedDB cannot be used (the
// page then uses `localStorage`).
let db = null;
const open = (create) => new Promise((resolve) => {
  let missing = false;
  try {
    const r = indexedDB.open('tailor');
    r.onupgradeneeded = () => {
      if (create) r.result.createObjectStore('kv');
      else { missing = true; r.transaction.abort(); }
    };
    r.onsuccess = () => {
      db = r.result;
      // Another tab forgets everything (the database is deleted): this connection steps aside,
      // the heartbeat stops until the page writes again, and the page forgets too, so that
      // what it holds in memory is not written back.
      // (Before the answer, the keys read are gone: the page starts from none, `serve`.)
      // (After the answer, what the page writes until it has forgotten too, its `{ f }`, was
      // sent before it heard: it is dropped, `stale`, rather than written back.)
      db.onversionchange = guard(() => { db.close(); db = null; clearInterval(beating); beating = 0; if (answered) { port.postMessage({ wiped: 1 }); stale = 1; } else wiped = 1; });
      resolve(db);
    };
    r.onerror = (e) => { e.preventDefault(); resolve(missing ? [] : null); };
    r.onblocked = () => resolve(null);
  } catch (_) { resolve(null); }
});
const request = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
// Every key and value of `store`, or those whose key starts with `prefix`.
const entries = async (store, prefix) => {
  const range = prefix ? IDBKeyRange.bound(prefix, prefix + '\uffff') : undefined;
  const [k, v] = await Promise.all([request(store.getAllKeys(range)), request(store.getAll(range))]);
  return k.map((key, i) => [key, v[i]]);
};
async function read() {
  // (`databases()` only lists: an open that is aborted may still leave files behind.)
  try { if (indexedDB.databases && !(await indexedDB.databases()).some((x) => x.name === 'tailor')) return []; } catch (_) { return null; }
  const d = db || await open(false);
  if (!d || Array.isArray(d)) return d;
  try {
    return await entries(d.transaction('kv').objectStore('kv'));
  } catch (_) { return null; }
}

// The page's writes, in order, each committed at once (the page may be going: its last writes
// come from pagehide). [] deletes the database (consent taken back, or forget), for every tab.
let chain = Promise.resolve();
let own = '';
let beating = 0;
function write(op) {
  if (stale) return;
  chain = chain.then(() => commit(op)).catch(() => {});
  const [key, value] = op;
  // The page's heartbeat: kept here every 3 s while the page lives (its last write is '0').
  // (Only a start or a stop changes anything here, so the scan for dead tabs runs at once only
  // when the heartbeat starts.)
  if (key && key.startsWith('tailor:alive:')) {
    own = key;
    const live = value && value !== '0';
    // (Once the page's storage reaches this worker, after consent, its queue is kept too.)
    if (live && !beating) { beating = setInterval(beat, 3000); setTimeout(beat); if (queue) keep(); keepProfile(); }
    if (!live) { clearInterval(beating); beating = 0; }
  }
  // (Everything goes: the heartbeat stops now, so that nothing is kept after the deletion,
  // `keep`.)
  if (!op.length) {
    clearInterval(beating);
    beating = 0;
  }
}
async function commit(op) {
  const [key, value] = op;
  if (!op.length) {
    if (db) db.close();
    db = null;
    clearInterval(beating);
    beating = 0;
    return new Promise((resolve) => { const r = indexedDB.deleteDatabase('tailor'); r.onsuccess = r.onerror = r.onblocked = resolve; });
  }
  // (A key deleted from a database that is not there needs none made.)
  const d = db || await open(value !== undefined);
  if (!d || Array.isArray(d)) return;
  const tx = d.transaction('kv', 'readwrite');
  if (value === undefined) tx.objectStore('kv').delete(key);
  else tx.objectStore('kv').put(value, key);
  if (tx.commit) tx.commit();
  // Keys every tab reads (the session, once-a-session flags, consent, the shopper) go to the
  // other tabs when they change; the session's time alone does not count as a change.
  if (tabs && !/^tailor:(queue|alive|profile):/.test(key)) {
    const id = key === 'tailor:session' && value ? value.split(' ')[0] : value;
    if (shared.get(key) !== id) { shared.set(key, id); tabs.postMessage(op); }
  }
}

// The session is the store's, not a tab's (runtime.js, `session`), and so are the flags of what
// was shown once a session: what one tab writes reaches the other tabs' pages at once.
// Only once the page has its answer: until then it reads any message as the answer.
let tabs = null;
const shared = new Map();
try {
  tabs = new BroadcastChannel('tailor:keys');
  tabs.onmessage = guard((e) => answered && port.postMessage({ keys: [e.data] }));
} catch (_) { /* no BroadcastChannel: each tab keeps what it read */ }

// Every 3 s while the page lives: its heartbeat, and, in one transaction (so two tabs never
// both take the same queue), the queues of tabs whose heartbeat is older than 10 s join this
// page's queue, which is kept in the same transaction. (The heartbeat runs only once the page
// writes its storage, so the queue may be written here then.)
// After an uncaught error here the page no longer listens (js/loader.js): this worker then takes
// nothing over, and its tab soon looks dead to the others, which take its queue.
let broken = false;
if (!onPage) addEventListener('error', () => { broken = true; });
function beat() {
  chain = chain.then(async () => {
    if (!db || !own || !beating || broken || !queue) return;
    const store = db.transaction('kv', 'readwrite').objectStore('kv');
    const now = Date.now();
    store.put(String(now), own);
    let restored = 0;
    const was = gen;
    // (Only the heartbeats and this site's queues: not the profile, the largest value.)
    const all = new Map([...await entries(store, 'tailor:alive:'), ...await entries(store, 'tailor:queue:' + site)]);
    // (A forget, or the end of storage, while they were read: nothing is taken into the queue
    // it cleared.)
    if (was !== gen || !beating) return;
    for (const key of deadQueues([...all.keys()], (k) => all.get(k), site, own.replace('tailor:alive:', 'tailor:queue:'), now)) {
      // (An empty queue, all of it sent, is only deleted.)
      if (all.get(key)) restored = queue.restoreQueue(all.get(key)) || 1;
      store.delete(key);
      store.delete(key.replace('tailor:queue:', 'tailor:alive:'));
    }
    if (restored) {
      // (Kept under the page's key in the same transaction: the taken queues are never only in
      // this worker's memory. The page's copy follows, `changed`.)
      store.put(queue.storedQueue(), own.replace('tailor:alive:', 'tailor:queue:'));
      changed();
      idle();
    }
  }).catch(() => {});
}


port.onmessage = guard(({ data }) => (data && data.constructor === Object ? use(data) : events ? data.forEach(write)
  // Only our own errors (a string code) go back as errors: anything else (the browser's own,
  // or a module it cannot send) lets the page do the work itself.
  : serve(data).catch((err) => [null, err && err.tailor && err.code, String(err && err.message)])
    .then((answer) => { try { port.postMessage(answer); } catch (_) { port.postMessage([null]); } answered = true; })));
