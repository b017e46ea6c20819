// Tailor's loader: the one script a merchant pastes.
//
//   <script async src="https://SERVER/tailor.js" data-site="SITE" data-endpoint="https://SERVER/"></script>
//
// It reads its configuration from its own tag, instantiates the engine (WebAssembly, streamed),
// fetches the site's snapshot and lets the engine personalize the page. It fails open: any
// error leaves the page exactly as the theme rendered it, and nothing reaches window.onerror.
// The state is visible as <html data-tailor="loading|ready|failed"> and a `tailor:ready` or
// `tailor:failed` event on document.

import initWasm, { Engine } from '../pkg/web/tailor.js';

const script = document.currentScript;
const root = document.documentElement;

function setState(state, detail) {
  root.setAttribute('data-tailor', state);
  document.dispatchEvent(new CustomEvent('tailor:' + state, { detail }));
}

// Configuration from the script tag. The endpoint defaults to the server the script came from.
// Throws (inside boot, so the page never sees it) on an unparsable URL.
function config(tag) {
  const data = (tag && tag.dataset) || {};
  const src = (tag && tag.src) || location.href;
  return {
    site: data.site || '',
    endpoint: new URL(data.endpoint || '/', src),
    wasm: new URL(data.wasm || 'tailor_bg.wasm', src),
  };
}

function domReady() {
  if (document.readyState !== 'loading') return Promise.resolve();
  return new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
}

function unavailable(what, res) {
  const err = new Error(what + ' request failed with HTTP ' + res.status);
  err.code = 'SNAPSHOT_UNAVAILABLE';
  return err;
}

// The pointer names the current version; the versioned bytes are immutable and cacheable.
async function fetchSnapshot(cfg) {
  const pointerUrl = new URL('v1/snapshot/' + encodeURIComponent(cfg.site), cfg.endpoint);
  const pointer = await fetch(pointerUrl, { credentials: 'omit' });
  if (!pointer.ok) throw unavailable('snapshot pointer', pointer);
  const { url } = await pointer.json();
  const res = await fetch(new URL(url, pointerUrl), { credentials: 'omit' });
  if (!res.ok) throw unavailable('snapshot', res);
  return new Uint8Array(await res.arrayBuffer());
}

async function boot(tag) {
  const cfg = config(tag);
  if (!cfg.site) {
    const err = new Error('the script tag has no data-site attribute');
    err.code = 'INVALID_OPTIONS';
    throw err;
  }
  setState('loading');
  // The wasm and the snapshot download in parallel; the wasm compiles while it streams.
  const [, snapshot] = await Promise.all([
    initWasm({ module_or_path: fetch(cfg.wasm, { credentials: 'omit' }) }),
    fetchSnapshot(cfg),
  ]);
  const engine = Engine.init({ snapshot });
  await domReady();
  const moved = engine.rankGrid({ root: document });
  return { engine, moved };
}

if (!window.__tailorLoaded) {
  window.__tailorLoaded = true;
  boot(script).then(
    ({ engine, moved }) => {
      window.tailor = { engine };
      setState('ready', { moved, items: engine.itemCount });
    },
    (err) => {
      // Fail open: the page stays as the theme rendered it. Report quietly, never throw.
      setState('failed', { code: (err && err.code) || 'LOAD_FAILED', message: String(err && err.message) });
      if (window.console && console.warn) console.warn('[tailor] personalization skipped:', err && err.message);
    },
  );
}
