// Prints the medians of the last criterion run (target/criterion/**/new/estimates.json) as a
// table: `make bench` runs it after `cargo bench`.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'target', 'criterion');
const rows = [];
function walk(dir, name) {
  const est = path.join(dir, 'new', 'estimates.json');
  if (existsSync(est)) {
    const e = JSON.parse(readFileSync(est, 'utf8'));
    rows.push([name, e.median.point_estimate, e.median.confidence_interval]);
    return;
  }
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory() && d.name !== 'report') walk(path.join(dir, d.name), name ? `${name}/${d.name}` : d.name);
  }
}
if (!existsSync(root)) {
  console.error('no criterion results: run cargo bench -p tailor-core first');
  process.exit(1);
}
walk(root, '');
const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);
console.log('| benchmark | median | 95% CI of the median |');
console.log('|---|---:|---|');
for (const [name, median, ci] of rows.sort((a, b) => a[0].localeCompare(b[0]))) {
  console.log(`| ${name} | ${fmt(median)} | ${fmt(ci.lower_bound)} – ${fmt(ci.upper_bound)} |`);
}
