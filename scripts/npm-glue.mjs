// The npm package's copy of the engine: pkg/npm/glue.js (the wasm-bindgen glue for ES modules)
// and pkg/npm/tailor_bg.wasm. The glue's own default wasm URL is taken out: every entry point
// (js/npm/index.js, web.js, slim.js) passes the wasm itself, and `tailor/slim` must contain no
// reference to the file at all, or bundlers would copy it.
//   node scripts/npm-glue.mjs        (scripts/build.sh runs it)
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const from = path.join(root, 'pkg/web');
const to = path.join(root, 'pkg/npm');
const glue = readFileSync(path.join(from, 'tailor.js'), 'utf8');
const defaultUrl = "module_or_path = new URL('tailor_bg.wasm', import.meta.url);";
if (glue.split(defaultUrl).length !== 2) throw new Error(`pkg/web/tailor.js: expected exactly one "${defaultUrl}"`);
const out = glue.replace(defaultUrl, "throw new Error('tailor: no wasm given');");
if (out.includes('import.meta')) throw new Error('pkg/web/tailor.js uses import.meta in a way scripts/npm-glue.mjs does not handle');
mkdirSync(to, { recursive: true });
writeFileSync(path.join(to, 'glue.js'), out);
copyFileSync(path.join(from, 'tailor_bg.wasm'), path.join(to, 'tailor_bg.wasm'));
console.log('pkg/npm/glue.js and pkg/npm/tailor_bg.wasm');
