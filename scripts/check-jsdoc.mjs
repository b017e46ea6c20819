// Every option and member in the hand-written TypeScript declarations carries JSDoc, so an
// editor explains each one as it is typed. A member is a line inside a declaration body that
// starts with a name and `:`, `?:` or `(`; the line above it must end a `/** … */` comment.
//   node scripts/check-jsdoc.mjs     (the test command runs it after tsc)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const files = ['js/tailor.d.ts', 'js/npm/index.d.ts', 'js/npm/slim.d.ts', 'js/npm/shopify-pixel.d.ts'];
let members = 0;
const missing = [];
for (const file of files) {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  let depth = 0;
  lines.forEach((line, i) => {
    const code = line.replace(/\/\*.*?\*\//g, '').replace(/\/\/.*$/, '');
    const member = depth > 0 && /^\s+(readonly\s+)?(static\s+)?[A-Za-z_$][\w$]*\??\s*(:|\()/.test(code)
      && !/^\s+\|/.test(code);
    if (member) {
      members++;
      const prev = (lines[i - 1] || '').trim();
      if (!prev.endsWith('*/')) missing.push(`${file}:${i + 1}: ${line.trim()}`);
    }
    for (const c of code) {
      if (c === '{') depth++;
      else if (c === '}') depth--;
    }
  });
}
for (const m of missing) console.error(`jsdoc: missing on ${m}`);
console.log(`jsdoc: ${members - missing.length} of ${members} declared members documented`);
if (missing.length) process.exit(1);
