// Renames the wasm's imports and exports to short names, in the wasm and in its wasm-bindgen glue
// together. wasm-bindgen names each import after the JS it calls plus a 16-digit hash
// (`__wbg_insertBefore_10ab0c19b463c12b`). The hashes do not compress, and each name is written
// twice: in the wasm's import section and as a key in the glue's import object. Short names
// (`a`, `b`, … `ba`) take about 0.6 KB off the loader (gzip) and as much off the wasm (brotli).
// The exports (`engine_rankGrid`, `__wbindgen_malloc`) are written in the export section and
// as `wasm.<name>` in the glue, which a minifier cannot shorten: they get short names too.
//   node scripts/short-imports.mjs pkg/web        (scripts/build.sh runs it after wasm-opt)
// It fails, and changes nothing, when the glue does not name every import (once merged, below)
// exactly once as an object key (a wasm-bindgen version that writes its glue differently). An
// export the glue mentions other than as `wasm.<name>` keeps its name.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node scripts/short-imports.mjs <dir with tailor_bg.wasm and tailor.js>');
const wasmPath = path.join(dir, 'tailor_bg.wasm');
const gluePath = path.join(dir, 'tailor.js');
const wasm = readFileSync(wasmPath);
let glue = readFileSync(gluePath, 'utf8');

// LEB128, unsigned.
function readU32(buf, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[at++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, at];
    shift += 7;
  }
}
function writeU32(value) {
  const out = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) b |= 0x80;
    out.push(b);
  } while (value);
  return Buffer.from(out);
}
const name = (s) => Buffer.concat([writeU32(Buffer.byteLength(s)), Buffer.from(s)]);
function readName(buf, at) {
  const [len, from] = readU32(buf, at);
  return [buf.toString('utf8', from, from + len), from + len];
}
// The n-th short name: a … z, A … Z, then two letters. They are object keys only (the glue
// hands the object to WebAssembly), so even a reserved word would be a valid one.
function short(n) {
  const abc = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return n < abc.length ? abc[n] : abc[Math.floor(n / abc.length) - 1] + abc[n % abc.length];
}

// Imports whose glue functions are the same text (wasm-bindgen writes one per Rust binding, so
// the `length` of a NodeList and that of an HTMLCollection are two) become one: the wasm
// imports each of them under the first one's name, and the glue keeps only that function. (The
// wasm spec allows an import name twice; each import still gets its own type.) Entries are read
// from wasm-bindgen's import object, one `name: function(...) {...},` per line at its indentation;
// when that layout is not found, nothing is merged.
const alias = new Map();
const object = /\n( +)__proto__: null,\n/.exec(glue);
const indent = object ? object[1] : '';
// (The object closes one level, four spaces, further out.)
const end = object ? glue.indexOf(`\n${indent.slice(4)}};`, object.index) : -1;
if (end > 0) {
  const entry = new RegExp(`\\n${indent}([\\w$]+): function\\(`, 'g');
  const found = [...glue.slice(0, end).matchAll(entry)].filter((m) => m.index > object.index);
  const first = new Map();
  const cut = [];
  found.forEach((m, i) => {
    const to = i + 1 < found.length ? found[i + 1].index : end;
    const body = glue.slice(m.index + m[0].length - 'function('.length, to);
    if (first.has(body)) {
      alias.set(m[1], first.get(body));
      cut.push([m.index, to]);
    } else first.set(body, m[1]);
  });
  for (const [from, to] of cut.reverse()) glue = glue.slice(0, from) + glue.slice(to);
}

if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${wasmPath} is not a wasm module`);
const parts = [wasm.subarray(0, 8)];
let at = 8;
const renamed = new Map();
let counter = 0;
let exported = 0;
// A vector section rewritten entry by entry: `entry(p)` reads the entry at `p` and returns
// [where the next one starts, the bytes that replace it].
function rewrite(id, body, end, what, entry) {
  let [count, p] = readU32(wasm, body);
  const out = [writeU32(count)];
  while (count--) {
    let bytes;
    [p, bytes] = entry(p);
    out.push(bytes);
  }
  if (p !== end) throw new Error(`${wasmPath}: the ${what} section did not parse to its end`);
  const section = Buffer.concat(out);
  parts.push(Buffer.from([id]), writeU32(section.length), section);
}
// The import section: module, field, kind, description.
function importEntry(p) {
  let module;
  let field;
  [module, p] = readName(wasm, p);
  [field, p] = readName(wasm, p);
  const descStart = p;
  const kind = wasm[p++];
  if (kind === 0) [, p] = readU32(wasm, p);
  else if (kind === 1 || kind === 2) {
    if (kind === 1) p++;
    const flags = wasm[p++];
    [, p] = readU32(wasm, p);
    if (flags & 1) [, p] = readU32(wasm, p);
  } else if (kind === 3) p += 2;
  else if (kind === 4) { p++; [, p] = readU32(wasm, p); }
  else throw new Error(`${wasmPath}: unknown import kind ${kind}`);
  let next = field;
  if (kind === 0) {
    const same = alias.get(field) || field;
    if (!renamed.has(same)) renamed.set(same, short(counter++));
    next = renamed.get(same);
  }
  return [p, Buffer.concat([name(module), name(next), wasm.subarray(descStart, p)])];
}
// The export section: name, kind, index. Renamed in the glue at once.
function exportEntry(p) {
  let field;
  [field, p] = readName(wasm, p);
  const descStart = p;
  p++;
  [, p] = readU32(wasm, p);
  const escaped = field.replace(/\$/g, '\\$');
  const mention = new RegExp(`(?<![\\w$])${escaped}(?![\\w$])`, 'g');
  const asExport = new RegExp(`(?<![\\w$])wasm\\.${escaped}(?![\\w$])`, 'g');
  let next = field;
  if ((glue.match(mention) || []).length === (glue.match(asExport) || []).length) {
    next = short(exported++);
    glue = glue.replace(asExport, `wasm.${next}`);
  }
  return [p, Buffer.concat([name(next), wasm.subarray(descStart, p)])];
}
while (at < wasm.length) {
  const id = wasm[at];
  const [size, body] = readU32(wasm, at + 1);
  const end = body + size;
  if (id === 2) rewrite(id, body, end, 'import', importEntry);
  else if (id === 7) rewrite(id, body, end, 'export', exportEntry);
  else parts.push(wasm.subarray(at, end));
  at = end;
}
if (!renamed.size) throw new Error(`${wasmPath}: no function imports to rename`);

for (const [from, to] of renamed) {
  const key = new RegExp(`(?<![\\w$])${from.replace(/\$/g, '\\$')}(?=\\s*:\\s*function)`, 'g');
  const uses = glue.match(key) || [];
  const all = glue.split(from).length - 1;
  if (uses.length !== 1 || all !== 1) {
    throw new Error(`${gluePath}: expected "${from}" once, as an import-object key; found ${uses.length} key(s), ${all} mention(s)`);
  }
  glue = glue.replace(key, to);
}
writeFileSync(wasmPath, Buffer.concat(parts));
writeFileSync(gluePath, glue);
console.log(`${renamed.size} imports (${alias.size} more merged into them) and ${exported} exports renamed in ${wasmPath} and ${gluePath}`);
