// The script-tag build with immutable, versioned names: dist/tailor-<version>.js,
// dist/tailor-<version>.worker.js and dist/tailor-<version>_bg.wasm. The loader copy names its
// own worker and wasm and carries the worker's sha384, and the worker carries the wasm's: the
// worker runs only from bytes fetched with its integrity (as a worker, or as a script of the
// page's where no worker can run), and it fetches the wasm with its own, so a file changed by
// even one byte is refused and nothing runs. Prints the tag to paste, with the loader's own integrity attribute.
//   node scripts/versioned.mjs        (scripts/build.sh runs it)
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const sri = (bytes) => 'sha384-' + createHash('sha384').update(bytes).digest('base64');
const wasm = readFileSync(path.join(root, 'dist/tailor_bg.wasm'));
const loader = readFileSync(path.join(root, 'dist/tailor.js'), 'utf8');
const worker = readFileSync(path.join(root, 'dist/tailor.worker.js'), 'utf8');
if (!loader.includes('"tailor_bg.wasm"')) {
  throw new Error('dist/tailor.js lacks the wasm name');
}
if (loader.split('__TAILOR_WORKER_INTEGRITY__').length !== 2 || loader.split('"tailor.worker.js"').length !== 2) {
  throw new Error('dist/tailor.js lacks the worker name or its integrity marker');
}
if (worker.split('__TAILOR_WASM_INTEGRITY__').length !== 2) {
  throw new Error('dist/tailor.worker.js lacks the wasm integrity marker');
}
const wasmName = `tailor-${version}_bg.wasm`;
const workerName = `tailor-${version}.worker.js`;
const jsName = `tailor-${version}.js`;
// Every mention of the wasm's name (the loader's default and the glue's) becomes the versioned
// one. The worker, which fetches the wasm, pins it; the loader pins the worker.
const pin = (text) => text.replaceAll('"tailor_bg.wasm"', `"${wasmName}"`).replace('__TAILOR_WASM_INTEGRITY__', sri(wasm));
const versionedWorker = pin(worker);
const versioned = pin(loader).replace('"tailor.worker.js"', `"${workerName}"`).replace('__TAILOR_WORKER_INTEGRITY__', sri(Buffer.from(versionedWorker)));
writeFileSync(path.join(root, 'dist', wasmName), wasm);
writeFileSync(path.join(root, 'dist', workerName), versionedWorker);
writeFileSync(path.join(root, 'dist', jsName), versioned);
console.log(`dist/${jsName}, dist/${workerName} and dist/${wasmName} (immutable; the loader pins the worker, which pins the wasm's ${sri(wasm).slice(0, 14)}…)`);
console.log('paste into the store (SERVER and SITE are yours):');
console.log(`  <script async src="https://SERVER/${jsName}" integrity="${sri(Buffer.from(versioned))}" crossorigin="anonymous" data-site="SITE"></script>`);
