// What the page benchmarks share (scripts/bench-page.mjs, scripts/bench-lighthouse.mjs): the
// built `tailor` binary, the demo store (or a larger one) and a real `tailor serve` for it.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = [path.join(root, 'target/release/tailor'), path.join(root, 'target/debug/tailor')].find(existsSync);
if (!bin || !existsSync(path.join(root, 'dist/tailor.js'))) {
  console.error('build first: make build && cargo build --release -p tailor-server');
  process.exit(1);
}

/**
 * The store's pages and catalog: `www/` itself, or with `products` (PRODUCTS=500) a copy in
 * `dir` whose catalog is the `products` most ordered products of the same UCI data (the demo
 * has 300), derived by scripts/make_demo_catalog.py from ../shared/data. `copy` forces a copy
 * (for a caller that edits the pages).
 */
export function demoStore(dir, products, copy = false) {
  if (!products && !copy) return path.join(root, 'www');
  const www = path.join(dir, 'www');
  cpSync(path.join(root, 'www'), www, { recursive: true });
  if (products) execFileSync('python3', [path.join(root, 'scripts/make_demo_catalog.py'), '--products', String(products), '--out', www], { stdio: 'inherit' });
  return www;
}

/**
 * `tailor serve` on a free port of 127.0.0.1 for `www`, with the browser files of `dist` and its
 * own database `db`, the snapshot built once before any page view. Resolves to { base, server }.
 */
export async function serve(www, dist, db) {
  const server = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--db', db, '--rebuild-every', '0', '--dist', dist, '--www', www, '--catalog', path.join(www, 'catalog.json')], { cwd: root });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (c) => { out += c; const m = /listening on (http:\S+)/.exec(out); if (m) resolve(m[1]); });
    server.on('exit', () => reject(new Error('server exited: ' + out)));
  });
  await fetch(`${base}/v1/snapshot/demo`);
  return { base, server };
}
