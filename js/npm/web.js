// `import { init } from 'tailor/web'`: for a plain `<script type="module">` page with no bundler.
// The wasm is found at run time next to the package's files (`pkg/npm/tailor_bg.wasm`), so the
// package's folder can be served as it is, from your server or a CDN.
import initWasm, { Engine, Queue, checkEvent, readPage, applyPage } from '../../pkg/npm/glue.js';
import { createTailor } from './client.js';

const wasmUrl = '../../pkg/npm/tailor_bg.wasm';
const tailor = createTailor(initWasm, { Engine, Queue, checkEvent }, () => new URL(wasmUrl, import.meta.url));

export const {
  init, ready, engine, rank, recommend, track, profile, explain, assignment, flush, dropped, consent, consented, forget,
} = tailor;
export { Engine, Queue, readPage, applyPage };
