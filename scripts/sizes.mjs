// Prints the size table of the shipped browser files (raw, gzip -9, brotli q11), and with
// --check compares the exact byte counts against the hard limits in size-budgets.json.
//   node scripts/sizes.mjs [--check] [--markdown]
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const budgets = JSON.parse(readFileSync(path.join(root, 'size-budgets.json'), 'utf8'));
const check = process.argv.includes('--check');
const markdown = process.argv.includes('--markdown');

export function measure(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length,
  };
}

const rows = [];
let failures = 0;
for (const [file, budget] of Object.entries(budgets.files)) {
  const p = path.join(root, file);
  if (!existsSync(p)) {
    console.error(`size: ${file} does not exist; run scripts/build.sh first`);
    process.exit(1);
  }
  const m = measure(readFileSync(p));
  const over = Object.entries(budget)
    .filter(([k]) => k in m)
    .filter(([k, limit]) => m[k] > limit)
    .map(([k, limit]) => `${k} ${m[k]} B > budget ${limit} B (over by ${m[k] - limit} B)`);
  failures += over.length;
  rows.push({ file, ...m, budget, over });
}

const fmt = (n) => n.toLocaleString('en-US');
const budgetText = (b) => Object.entries(b).map(([k, v]) => `${k} <= ${fmt(v)}`).join(', ');
if (markdown) {
  console.log('| file | raw bytes | gzip -9 bytes | brotli q11 bytes | budget |');
  console.log('|---|---:|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.file} | ${fmt(r.raw)} | ${fmt(r.gzip)} | ${fmt(r.brotli)} | ${budgetText(r.budget)} |`);
} else {
  const w = Math.max(...rows.map((r) => r.file.length), 4);
  console.log(`${'file'.padEnd(w)}  ${'raw'.padStart(9)}  ${'gzip'.padStart(9)}  ${'brotli'.padStart(9)}  budget`);
  for (const r of rows) {
    console.log(`${r.file.padEnd(w)}  ${fmt(r.raw).padStart(9)}  ${fmt(r.gzip).padStart(9)}  ${fmt(r.brotli).padStart(9)}  ${budgetText(r.budget)}`);
  }
}
if (check) {
  for (const r of rows) for (const o of r.over) console.error(`size: FAIL ${r.file}: ${o}`);
  const checked = rows.reduce((n, r) => n + Object.keys(r.budget).length, 0);
  console.log(`size budgets: ${checked - failures} passed, ${failures} failed`);
  if (failures) process.exit(1);
}
