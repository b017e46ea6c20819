// The worker of scripts/bench-middle.js: it compiles the wasm,
// gets the snapshot as the loader's worker does (the Cache API, revalidated), warms the module
// with the loader's worker's own calls (js/warm.js), starts the engine and hands the module to
// the page. Then it answers what the page read with the engine's decisions (`engine.decide`,
// src/exchange.rs) and tracks the events the page posts. Its time is not the page's. Never shipped.
import { Engine } from '../pkg/web/tailor.js';
import { getSnapshot, uuid, wasmFetch } from '../js/runtime.js';
import { exercise } from '../js/warm.js';

let engine;
const shopper = uuid();
onmessage = async ({ data }) => {
  if (Array.isArray(data)) {
    const [site, endpoint, wasm] = data;
    const res = wasmFetch(wasm);
    const [module, snapshot] = await Promise.all([
      WebAssembly.compileStreaming(res),
      getSnapshot({ site, endpoint: new URL(endpoint) }, true),
    ]);
    // The loader's worker's calls, the page's own among them (read, decide, apply, on a
    // stand-in document), so that the page finds their code compiled.
    await exercise(module, snapshot.bytes, undefined, shopper, []);
    engine = Engine.init({ snapshot: snapshot.bytes, shopper, origin: location.origin });
    postMessage([module]);
  } else if (data.request) {
    postMessage(engine.decide(data.request));
  } else if (data.event) {
    try { engine.track({ id: uuid(), shopper, session: 's', ts: Date.now(), ...data.event }); } catch (_) { /* not the page's */ }
  }
};
