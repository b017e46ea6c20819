// `import { init, rank, recommend, track } from 'tailor'`: the entry for bundlers (webpack 5,
// Vite, Rollup, Parcel, esbuild). The `new URL(..., import.meta.url)` below is the form bundlers
// recognise: they copy the wasm into the build and rewrite the URL, so `init()` needs no `wasm`.
import initWasm, { Engine, Queue, checkEvent, readPage, applyPage } from '../../pkg/npm/glue.js';
import { createTailor } from './client.js';

const tailor = createTailor(initWasm, { Engine, Queue, checkEvent }, () => new URL('../../pkg/npm/tailor_bg.wasm', import.meta.url));

export const {
  init, ready, engine, rank, recommend, track, profile, explain, assignment, flush, dropped, consent, consented, forget,
} = tailor;
export { Engine, Queue, readPage, applyPage };
