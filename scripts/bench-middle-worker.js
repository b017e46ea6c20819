// The worker of scripts/bench-middle.js: it compiles the wasm (built with the `split` feature),
// gets the snapshot as the loader's worker does (the Cache API, revalidated), warms the module
// with the loader's worker's own calls (js/warm.js), starts the engine and hands the module to
// the page. Then it answers what the page read with the engine's decisions (`engine.decide`,
// src/split.rs) and tracks the events the page posts. Its time is not the page's. Never shipped.
import { Engine, readPage } from '../pkg/web/tailor.js';
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
    // The loader's worker's calls, and the page's own (read, decide, apply) on the same stand-in
    // document, so that the page finds their code compiled.
    await exercise(module, snapshot.bytes, undefined, shopper, [], (e, root) => {
      const reading = readPage({ root });
      const d = e.decide(reading.request);
      reading.applyGrid(Uint32Array.of(1, 0));
      reading.fillSlots(d.blocks);
    });
    engine = Engine.init({ snapshot: snapshot.bytes, shopper, origin: location.origin });
    postMessage([module]);
  } else if (data.request) {
    postMessage(engine.decide(data.request));
  } else if (data.event) {
    try { engine.track({ id: uuid(), shopper, session: 's', ts: Date.now(), ...data.event }); } catch (_) { /* not the page's */ }
  }
};
