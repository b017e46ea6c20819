// `import { init } from 'tailor/slim'`: the same API, with no reference to the wasm file, so a
// bundler copies nothing. `init({ wasm })` takes the engine as a URL, a Response, bytes or a
// compiled WebAssembly.Module (e.g. from `tailor/tailor_bg.wasm` through your asset pipeline).
import initWasm, { Engine, Queue, checkEvent, readPage, applyPage } from '../../pkg/npm/glue.js';
import { createTailor } from './client.js';

const tailor = createTailor(initWasm, { Engine, Queue, checkEvent }, null);

export const {
  init, ready, engine, rank, recommend, track, profile, explain, assignment, flush, dropped, consent, consented, forget,
} = tailor;
export { Engine, Queue, readPage, applyPage };
