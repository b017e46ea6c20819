// Strings handed to the wasm are encoded with one native `TextEncoder.encodeInto`, instead of
// wasm-bindgen's copy loop. The glue's `passStringToWasm0` copies an ASCII string into the wasm's
// memory one character at a time, in JavaScript, and only hands a non-ASCII rest to
// `encodeInto`. Code that runs once per page view runs in V8's interpreter, where that loop costs
// far more than the native call: a page view hands the engine its stored profile and every
// event as JSON, several kilobytes. Here the string is encoded into as many bytes as it has
// UTF-16 units, which holds all of an ASCII string (one allocation, as before); a rest that did
// not fit gets room for its longest UTF-8 form (three bytes per unit), which is then shrunk to
// what was written, as the original does. (The glue's stand-in for browsers without
// `encodeInto` cannot stop at the end of a short buffer, but every browser that runs this wasm,
// which needs reference types, has the native one.)
//
// Strings out of the wasm that are its own literals (a selector, an attribute's name: the DOM
// adapters pass the same ones for every card) are decoded once and kept: `getStringFromWasm0`
// looks a string up by address when it lies in the wasm's data segments, which this script
// reads from the wasm file (literals never change; the stack lies below them and the heap
// above). Each `TextDecoder.decode` is a call into the browser: a collection page's reading
// made about 110 of them, 48 for one 17-byte selector (BENCHMARKS.md, "a sixteenth round").
//
// And the imports that catch the browser's exceptions (`querySelector`, `setAttribute`, ...)
// get a `try` of their own instead of wasm-bindgen's `handleError(function (...) {...},
// arguments)`, which builds a closure and an `arguments` object on every call.
//   node scripts/glue-strings.mjs pkg/web        (scripts/build.sh runs it after short-imports.mjs)
// It fails, and changes nothing, when the glue's functions are not the shape it knows.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node scripts/glue-strings.mjs <dir with the wasm-bindgen glue tailor.js>');
const gluePath = path.join(dir, 'tailor.js');
const glue = readFileSync(gluePath, 'utf8');
const start = glue.indexOf('\nfunction passStringToWasm0(arg, malloc, realloc) {\n');
const end = start < 0 ? -1 : glue.indexOf('\n}\n', start);
const body = end < 0 ? '' : glue.slice(start, end + 3);
for (const part of ['cachedTextEncoder.encode(arg)', 'arg.charCodeAt(offset)', 'cachedTextEncoder.encodeInto(arg, view)', 'WASM_VECTOR_LEN = offset;']) {
  if (!body.includes(part)) throw new Error(`${gluePath}: passStringToWasm0 is not the function scripts/glue-strings.mjs knows (no "${part}")`);
}
const ours = `
function passStringToWasm0(arg, malloc, realloc) {
    let len = arg.length;
    let ptr = malloc(len, 1) >>> 0;
    let { read, written } = cachedTextEncoder.encodeInto(arg, getUint8ArrayMemory0().subarray(ptr, ptr + len));
    if (read !== arg.length) {
        ptr = realloc(ptr, len, len = written + (arg.length - read) * 3, 1) >>> 0;
        written += cachedTextEncoder.encodeInto(arg.slice(read), getUint8ArrayMemory0().subarray(ptr + written, ptr + len)).written;
        ptr = realloc(ptr, len, written, 1) >>> 0;
    }
    WASM_VECTOR_LEN = written;
    return ptr;
}
`;
// This version needs `realloc` for a string outside ASCII, so every call must pass one
// (wasm-bindgen passes both allocators wherever the string is handed over as owned memory):
// checked.
const calls = glue.match(/passStringToWasm0\([^)]*\)/g).filter((c) => !c.startsWith('passStringToWasm0(arg,'));
const bad = calls.filter((c) => !/^passStringToWasm0\([^,]+, wasm\.[\w$]+, wasm\.[\w$]+\)$/.test(c));
if (!calls.length || bad.length) throw new Error(`${gluePath}: passStringToWasm0 called without a realloc: ${bad.join(', ')}`);
let out = glue.replace(body, ours);

// The data segments' span, from the wasm's data section (id 11): active segments at constant
// offsets (i32.const).
const wasm = readFileSync(path.join(dir, 'tailor_bg.wasm'));
let p = 8;
const leb = () => { let r = 0; let s = 0; let x; do { x = wasm[p++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80); return r; };
let lo = Infinity;
let hi = 0;
while (p < wasm.length) {
  const id = wasm[p++];
  const size = leb();
  const next = p + size;
  if (id === 11) {
    for (let n = leb(); n > 0; n--) {
      const flag = leb();
      if (flag !== 0 || wasm[p++] !== 0x41) throw new Error(`${gluePath}: the wasm has a data segment that is not at a constant offset`);
      const at = leb();
      if (wasm[p++] !== 0x0b) throw new Error(`${gluePath}: unexpected data segment offset`);
      const len = leb();
      lo = Math.min(lo, at);
      hi = Math.max(hi, at + len);
      p += len;
    }
  }
  p = next;
}
// (A one-byte signed LEB over 63 would read as a negative i32: the offsets here are large.)
if (!(hi > lo && lo >= 65536)) throw new Error(`${gluePath}: no data segments found in the wasm`);
const decodeOld = '\nfunction getStringFromWasm0(ptr, len) {\n    ptr = ptr >>> 0;\n    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));\n}\n';
if (!out.includes(decodeOld)) throw new Error(`${gluePath}: getStringFromWasm0 is not the function scripts/glue-strings.mjs knows`);
out = out.replace(decodeOld, `
const literals = new Map();
function getStringFromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    if (ptr < ${lo} || ptr + len > ${hi} || len >= 4096) return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));
    const key = ptr * 4096 + len;
    let s = literals.get(key);
    if (s === undefined) literals.set(key, s = decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len)));
    return s;
}
`);

// function() { return handleError(function (a, b) { BODY }, arguments); }  ->
// function (a, b) { try { BODY } catch (e) { wasm.X(addToExternrefTable0(e)); } }
const handle = /\nfunction handleError\(f, args\) \{\n    try \{\n        return f\.apply\(this, args\);\n    \} catch \(e\) \{\n        const idx = addToExternrefTable0\(e\);\n        (wasm\.[\w$]+)\(idx\);\n    \}\n\}\n/;
const store = handle.exec(out);
if (!store) throw new Error(`${gluePath}: handleError is not the function scripts/glue-strings.mjs knows`);
let wrapped = 0;
out = out.replace(/function\(\) \{ return handleError\(function (\([^)]*\)) \{\n([\s\S]*?)\n        \}, arguments\); \}/g, (_, params, inner) => {
  wrapped++;
  return `function ${params} { try {\n${inner}\n        } catch (e) { ${store[1]}(addToExternrefTable0(e)); } }`;
});
out = out.replace(store[0], '\n');
if (!wrapped || out.includes('handleError(')) throw new Error(`${gluePath}: a handleError call of a shape scripts/glue-strings.mjs does not know`);
writeFileSync(gluePath, out);
console.log(`${gluePath}: strings go to the wasm with one encodeInto (${calls.length} call sites); literals at ${lo}..${hi} decoded once; ${wrapped} imports catch their own errors`);
