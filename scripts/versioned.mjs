// The script-tag build with immutable, versioned names: dist/tailor-<version>.js and
// dist/tailor-<version>_bg.wasm. The loader copy names its own wasm and carries the wasm's
// sha384, which it passes to fetch(): a wasm changed by even one byte is refused and nothing
// runs. Prints the tag to paste, with the loader's own integrity attribute.
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
if (loader.split('__TAILOR_WASM_INTEGRITY__').length !== 2 || !loader.includes('"tailor_bg.wasm"')) {
  throw new Error('dist/tailor.js lacks the wasm name or the integrity marker');
}
const wasmName = `tailor-${version}_bg.wasm`;
const jsName = `tailor-${version}.js`;
// Every mention of the wasm's name (the loader's default and the glue's) becomes the versioned one.
const versioned = loader.replaceAll('"tailor_bg.wasm"', `"${wasmName}"`).replace('__TAILOR_WASM_INTEGRITY__', sri(wasm));
writeFileSync(path.join(root, 'dist', wasmName), wasm);
writeFileSync(path.join(root, 'dist', jsName), versioned);
console.log(`dist/${jsName} and dist/${wasmName} (immutable; the loader pins the wasm's ${sri(wasm).slice(0, 14)}…)`);
console.log('paste into the store (SERVER and SITE are yours):');
console.log(`  <script async src="https://SERVER/${jsName}" integrity="${sri(Buffer.from(versioned))}" crossorigin="anonymous" data-site="SITE"></script>`);
