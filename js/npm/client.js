// The npm package's API, shared by its three entry points (index.js for bundlers, web.js for
// plain ES modules, slim.js when the caller supplies the wasm). It boots the same runtime as the
// script tag (../runtime.js: consent, storage, snapshot, event delivery), but leaves the page's
// markup alone: the front end renders, and asks the engine for orders and recommendations.
import { start, calls, fail, getSnapshot, outbox, serverUrl, dropCache, customerProfile } from '../runtime.js';

// Events tracked while the engine stands in (below) that a later engine is given, at most.
const MISSED = 1000;
// How long `init()` waits for a download (the snapshot, as the script tag's worker does, and a
// retry's customer profile): then it goes on without it.
const WAIT_MS = 5000;
const within = (promise, what) => {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(fail('SNAPSHOT_UNAVAILABLE', `${what} did not arrive within ${WAIT_MS / 1000} s`)), WAIT_MS); }),
  ]).finally(() => clearTimeout(timer));
};

// What `start()` runs when the engine cannot start (no snapshot to be had, or one it cannot
// read: `error`): the event queue runs all the same, so the page's events are checked (as the
// engine checks them), kept and sent, and the engine's calls throw `error`. `retry(snapshot)`
// starts the engine from a snapshot got later (a second `init()`) and hands everything to it,
// the events tracked meanwhile too (the first MISSED of them), so the profile has them;
// `fetched` is the profile to start from instead (a logged-in customer's, from the server).
function standIn(glue, opts, error) {
  let profile = opts.profile || '';
  let missed = [];
  let real = null;
  const s = {
    error,
    track(event) {
      if (real) return real.track(event);
      glue.checkEvent(event);
      if (missed.length < MISSED) missed.push(event);
    },
    exportProfile: () => (real ? real.exportProfile() : profile),
    // (`forgotten`: a retry does not fetch a customer's profile back from the server, whose
    // copy the forget asked to delete.)
    forget(h) { if (real) real.forget(h); profile = ''; missed = []; s.forgotten = true; if (h) opts.shopper = h; },
    retry(snapshot, fetched) {
      real = glue.Engine.init({ ...opts, snapshot, profile: fetched || profile || undefined });
      for (const e of missed) try { real.track(e); } catch (_) { /* checked when tracked */ }
      missed = [];
      delete s.error;
      return real;
    },
    real: () => real,
  };
  for (const c of ['rank', 'recommend', 'profile', 'explain', 'assignment']) s[c] = (o) => real[c](o);
  return s;
}

/**
 * Build the module-level API around one wasm-bindgen glue (`glue`: its { Engine, Queue }).
 * `defaultWasm()` names the wasm when `init()` is not given one (null: the caller must pass it).
 */
export function createTailor(initWasm, glue, defaultWasm) {
  let booting = null;
  let state = null;
  let resolveReady;
  const readyPromise = new Promise((resolve) => { resolveReady = resolve; });

  // A consent answer given while init() is still loading is applied as soon as it is done.
  let pendingConsent;
  let shared = null;
  // (`engine`: a call the engine answers, which throws why it could not start, when it could
  // not: the other calls work, `standIn`.)
  const running = (call, engine) => {
    if (!state) {
      throw fail('NOT_INITIALIZED', `tailor: ${call}() was called before init() finished; \`await init({ site, endpoint })\` first (or \`await ready()\`)`);
    }
    if (engine && state.error) throw state.error;
    return state;
  };
  // The loader's calls (runtime.js), each checked for a running engine.
  const api = {
    /** The wasm engine itself, for calls this wrapper does not cover. */
    engine: () => { const e = running('engine', 1).engine; return e.real ? e.real() : e; },
  };
  for (const name of ['track', 'rank', 'recommend', 'profile', 'explain', 'assignment', 'flush', 'dropped', 'consented', 'forget']) {
    const engine = ['rank', 'recommend', 'profile', 'explain', 'assignment'].includes(name);
    api[name] = (...args) => { running(name, engine); return shared[name](...args); };
  }
  api.consent = (granted) => {
    // (Before init(), or while it loads: applied once it is done.)
    if (!state) { pendingConsent = !!granted; return; }
    running('consent');
    shared.consent(granted);
  };

  // `init` hands back `booting` itself, so that every call gets the same promise; `begin` makes
  // it, or rejects when the options are wrong.
  function init(opts) {
    // After an engine that could not start, a new call tries again: the running event queue
    // stays, and the options of the first call.
    if (!booting && state && state.error) {
      booting = again(opts).then(succeeded).catch(failed);
      return booting;
    }
    if (!booting) {
      const checked = begin(opts);
      if (!booting) return checked;
      // (`begin`'s own promise settles as `booting` does: the caller holds `booting`, so this
      // one's rejection is no unhandled one of the page's.)
      checked.catch(() => {});
    }
    return booting;
  }

  async function begin(opts) {
    if (typeof window === 'undefined' || typeof document === 'undefined') {
      throw fail('NO_DOCUMENT', 'tailor: init() runs in the browser; call it from client-side code (an effect, not server rendering)');
    }
    const o = opts || {};
    if (typeof o.site !== 'string' || !o.site) throw fail('INVALID_OPTIONS', 'tailor: init() needs `site`, the site key on your sync server (`site.key` in its config)');
    if (!o.endpoint) throw fail('INVALID_OPTIONS', 'tailor: init() needs `endpoint`, the sync server URL (events go there)');
    if (o.snapshot && !(o.snapshot instanceof Uint8Array)) throw fail('INVALID_OPTIONS', 'tailor: `snapshot` must be a Uint8Array');
    const wasm = o.wasm || (defaultWasm && defaultWasm());
    if (!wasm) throw fail('INVALID_OPTIONS', 'tailor/slim: init() needs `wasm`: the engine\'s URL, bytes, Response or WebAssembly.Module (the package exports it as "tailor/tailor_bg.wasm")');
    let endpoint;
    try { endpoint = serverUrl(o.endpoint, location.href); } catch (_) { throw fail('INVALID_OPTIONS', `tailor: \`endpoint\` is not a URL: ${o.endpoint}`); }
    const cfg = {
      site: o.site,
      endpoint,
      key: o.key,
      hosts: o.hosts || [],
      consent: o.consent || 'none',
      dnt: o.dnt === true,
      // Decide in memory until consent; an app that wants nothing before consent calls init() later.
      beforeConsent: true,
      customer: o.customer || '',
      snapshot: o.snapshot,
      version: o.snapshotVersion,
    };
    // A snapshot that cannot be had or read starts a stand-in (`standIn`): `init()` rejects
    // with why, and the event queue runs. (Any other failure of the engine's, e.g. a wasm
    // trap, rejects as before, and a later `init()` starts over.) A download that has not
    // ended after WAIT_MS (a sync server that hangs) counts as unavailable; it goes on, and is
    // cached for a retry or the next page when consent allows.
    let missing;
    const snapshots = (c, persist) => within(getSnapshot(c, persist), 'the snapshot').catch((err) => { missing = err; return {}; });
    const Engine = {
      init(opts) {
        try {
          if (missing) throw missing;
          return glue.Engine.init(opts);
        } catch (err) {
          if (!String(err?.code).startsWith('SNAPSHOT_')) throw err;
          return standIn(glue, opts, err);
        }
      },
    };
    // A second `init()` after a stand-in: for the same site and sync server (the queue runs
    // for those; every other option but `snapshot` stays the first call's), from its own
    // `snapshot` or a download that waits no longer than the first call's; a logged-in
    // customer whose device had no profile gets theirs first, so that the profile the engine
    // later keeps on the server is not one that lost their history.
    again = async (n) => {
      let same;
      try { same = n && n.site === cfg.site && serverUrl(n.endpoint, location.href).href === cfg.endpoint.href; } catch (_) { /* not a URL */ }
      if (!same) throw fail('INVALID_OPTIONS', `tailor: init() already runs for site \`${cfg.site}\` at ${cfg.endpoint.href} (its event queue does, without an engine); call it again with those, or reload the page to change them`);
      if (n.snapshot && !(n.snapshot instanceof Uint8Array)) throw fail('INVALID_OPTIONS', 'tailor: `snapshot` must be a Uint8Array');
      const got = n.snapshot ? { bytes: n.snapshot, version: n.snapshotVersion } : await within(getSnapshot(cfg, state.consent.allowed), 'the snapshot');
      const url = customerProfile(cfg);
      let fetched;
      if (url && !state.engine.exportProfile() && !state.engine.forgotten && state.consent.allowed) {
        const r = await within(fetch(url, { credentials: 'omit', cache: 'no-store' }), 'the customer\'s profile').catch(() => ({}));
        // The server could not answer now (the network, 5xx, 408, 429): the retry waits for it.
        // Any other answer is final: 404 (none stored), 400 (a `customer` it refuses), ...
        if (!r.status || r.status >= 500 || r.status === 408 || r.status === 429) throw fail('LOAD_FAILED', `the customer's profile could not be downloaded from ${url} (${r.status ? 'HTTP ' + r.status : 'no answer'}); call init() again later`);
        fetched = r.ok ? await r.text() : '';
      }
      try {
        state.engine.retry(got.bytes, fetched);
      } catch (err) {
        // (A damaged copy in the Cache API goes, as on a first page: `start()`.)
        if (String(err?.code).startsWith('SNAPSHOT_') && err.code !== 'SNAPSHOT_UNAVAILABLE') dropCache();
        throw err;
      }
      state.modelVersion = 'v' + (got.version || '0');
      delete state.error;
    };
    booting = start(cfg, () => initWasm({ module_or_path: wasm }), { Engine, outbox: outbox(glue.Queue) }, null, snapshots).then((s) => {
      state = s;
      shared = calls(s);
      if (pendingConsent !== undefined) s.consent.set(pendingConsent);
      return succeeded();
    }).catch(failed);
    return booting;
  }

  // Until a call tries again (`init()` after an engine that could not start).
  let again;
  function succeeded() {
    if (state.error) throw state.error;
    resolveReady(api);
    return api;
  }
  function failed(err) {
    booting = null;
    // A failed wasm compile (CSP) or network error has no code of its own, and a browser's
    // DOMException has a number there: either becomes LOAD_FAILED, the original as `cause`.
    if (typeof err?.code === 'string') throw err;
    throw Object.assign(new Error(String(err?.message || err)), { code: 'LOAD_FAILED', cause: err });
  }

  return { init, ready: () => readyPromise, ...api };
}
