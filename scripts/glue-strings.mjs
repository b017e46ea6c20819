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
// which needs reference types, has the native one: the stand-in is taken out.)
//   node scripts/glue-strings.mjs pkg/web        (scripts/build.sh runs it after short-imports.mjs)
// It fails, and changes nothing, when the glue has no `passStringToWasm0` of the shape it knows.
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
// The glue's stand-in for a `TextEncoder` without `encodeInto` goes too: no browser that runs
// this wasm lacks it (above), and it cost the loader about 60 B.
const standIn = /\nif \(!\('encodeInto' in cachedTextEncoder\)\) \{\n    cachedTextEncoder\.encodeInto = function \(arg, view\) \{\n[^]*?\n    \};\n\}\n/;
if (!standIn.test(glue)) throw new Error(`${gluePath}: no stand-in for encodeInto of the shape scripts/glue-strings.mjs knows`);
writeFileSync(gluePath, glue.replace(body, ours).replace(standIn, '\n'));
console.log(`${gluePath}: strings go to the wasm with one encodeInto (${calls.length} call sites), and no stand-in for it`);
