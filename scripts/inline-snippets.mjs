// Writes the crate's own JavaScript modules (`#[wasm_bindgen(module = "/src/batch.js")]`, which
// wasm-bindgen copies to `snippets/`) into the glue itself. The glue imports such a module
// twice, by name for the functions its own wrappers call and as a namespace for those the wasm
// imports directly; a bundler keeps a namespace object with its helpers for the second, which
// cost the loader about 140 B (gzip). Written into the glue, the functions are plain ones, the
// namespace an object of them, and the npm package's copy of the glue needs no other file.
//   node scripts/inline-snippets.mjs pkg/web     (scripts/build.sh runs it before short-imports.mjs)
// It fails, and changes nothing, when the glue imports a snippet in a way it does not know.
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node scripts/inline-snippets.mjs <dir with the wasm-bindgen glue tailor.js>');
const gluePath = path.join(dir, 'tailor.js');
let glue = readFileSync(gluePath, 'utf8');
const named = /^import \{[\w$, ]+\} from '(\.\/snippets\/[^']+)';\n/gm;
const star = /^import \* as ([\w$]+) from "(\.\/snippets\/[^"]+)"\n/gm;
const files = new Set([...glue.matchAll(named)].map((m) => m[1]));
const spaces = [...glue.matchAll(star)];
for (const [, , file] of spaces) files.add(file);
let code = '';
for (const file of files) {
  const source = readFileSync(path.join(dir, file), 'utf8');
  if (/\bimport\b|\bexport\s+(?!function\b)/.test(source)) throw new Error(`${file}: only \`export function\` declarations can be written into the glue`);
  const names = [...source.matchAll(/^export function ([\w$]+)/gm)].map((m) => m[1]);
  code += source.replace(/^export function /gm, 'function ');
  // (wasm-bindgen may import one module as several namespaces: one object serves them all, and
  // the import object names the module once.)
  const [first, ...more] = spaces.filter((m) => m[2] === file).map((m) => m[1]);
  if (first) code += `const ${first} = { ${names.join(', ')} };\n`;
  for (const ns of more) {
    const key = `\n${' '.repeat(8)}${JSON.stringify(file)}: ${ns},`;
    if (glue.split(key).length !== 2) throw new Error(`${gluePath}: expected the import object to name ${ns} once`);
    glue = glue.replace(key, '');
  }
}
glue = glue.replace(named, '').replace(star, '');
if (glue.includes('./snippets/') && !files.size) throw new Error(`${gluePath}: imports a snippet in a way scripts/inline-snippets.mjs does not know`);
writeFileSync(gluePath, code + glue);
rmSync(path.join(dir, 'snippets'), { recursive: true, force: true });
console.log(`${files.size} snippet module(s) written into ${gluePath}`);
