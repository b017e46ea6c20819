// Puts the JavaScript files the wasm crate imports (`#[wasm_bindgen(module = "/src/….js")]`,
// src/bulk.js) into the wasm-bindgen glue itself, so that the glue stays one self-contained file
// for the loader's bundle, the worker's and the npm package (pkg/npm/glue.js is copied alone).
// wasm-bindgen copies each such file under `snippets/` and imports it from there; each import
// line becomes the file's text, its `export function` declarations made plain functions, and
// the `snippets/` folder goes.
//   node scripts/inline-snippets.mjs pkg/web        (scripts/build.sh runs it after wasm-bindgen)
// It fails, and changes nothing, on a snippet that exports anything other than functions, or
// does not define every name imported from it.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node scripts/inline-snippets.mjs <dir with tailor.js>');
const gluePath = path.join(dir, 'tailor.js');
const glue = readFileSync(gluePath, 'utf8');
let count = 0;
const out = glue.replace(/^import \{([^}]*)\} from '(\.\/snippets\/[^']+)';\n/gm, (_, names, file) => {
  const text = readFileSync(path.join(dir, file), 'utf8');
  const body = text.replace(/^export (?=function )/gm, '');
  if (/^export\b/m.test(body)) throw new Error(`${file}: exports something other than a function`);
  for (const name of names.split(',').map((n) => n.trim()).filter(Boolean)) {
    if (!new RegExp(`^function ${name}\\(`, 'm').test(body)) throw new Error(`${file}: no function ${name}`);
  }
  count++;
  return body.endsWith('\n') ? body : body + '\n';
});
if (out.includes('./snippets/')) throw new Error(`${gluePath}: a snippet import this script does not handle`);
writeFileSync(gluePath, out);
if (existsSync(path.join(dir, 'snippets'))) rmSync(path.join(dir, 'snippets'), { recursive: true });
console.log(`${gluePath}: ${count} snippet file(s) inlined`);
