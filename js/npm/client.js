// The npm package's API, shared by its three entry points (index.js for bundlers, web.js for
// plain ES modules, slim.js when the caller supplies the wasm). It boots the same runtime as the
// script tag (../runtime.js: consent, storage, snapshot, event delivery), but leaves the page's
// markup alone: the front end renders, and asks the engine for orders and recommendations.
import { start, calls, fail, getSnapshot, outbox, serverUrl } from '../runtime.js';

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
  const running = (call) => {
    if (!state) {
      throw fail('NOT_INITIALIZED', `tailor: ${call}() was called before init() finished; \`await init({ site, endpoint })\` first (or \`await ready()\`)`);
    }
    return state;
  };
  // The loader's calls (runtime.js), each checked for a running engine.
  const api = {
    /** The wasm engine itself, for calls this wrapper does not cover. */
    engine: () => running('engine').engine,
  };
  for (const name of ['track', 'rank', 'recommend', 'profile', 'explain', 'assignment', 'flush', 'dropped', 'consented', 'forget']) {
    api[name] = (...args) => { running(name); return shared[name](...args); };
  }
  api.consent = (granted) => {
    if (!state && booting) { pendingConsent = !!granted; return; }
    running('consent');
    shared.consent(granted);
  };

  // `init` hands back `booting` itself, so that every call gets the same promise; `begin` makes
  // it, or rejects when the options are wrong.
  function init(opts) {
    if (!booting) {
      const checked = begin(opts);
      if (!booting) return checked;
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
    booting = start(cfg, () => initWasm({ module_or_path: wasm }), { Engine: glue.Engine, outbox: outbox(glue.Queue) }, null, getSnapshot).then(
      (s) => {
        state = s;
        shared = calls(s);
        if (pendingConsent !== undefined) s.consent.set(pendingConsent);
        resolveReady(api);
        return api;
      },
      (err) => {
        booting = null;
        // A failed wasm compile (CSP) or network error has no code of its own, and a browser's
        // DOMException has a number there: either becomes LOAD_FAILED, the original as `cause`.
        if (typeof err?.code === 'string') throw err;
        throw Object.assign(new Error(String(err?.message || err)), { code: 'LOAD_FAILED', cause: err });
      },
    );
    return booting;
  }

  return { init, ready: () => readyPromise, ...api };
}
