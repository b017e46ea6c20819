// insertBefore against moveBefore for reordering the demo collection grid (48 Dawn cards) in
// headless Chromium, unthrottled and at 4x CPU throttling: the median of 40 random reorders of
// all 48 cards each way, alternating which goes first. The page is www/collection.html without
// the loader; every other request gets an empty answer. Layout is flushed before and after each
// reorder, and only the moves are timed (what our DOM adapters pay; see ARCHITECTURE.md).
//   node scripts/bench-moves.mjs
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const html = readFileSync(path.join(root, 'www/collection.html'), 'utf8').replace(/<script[^>]*tailor\.js[^>]*><\/script>/, '');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();
await page.route('**/*', (r) => (r.request().url().endsWith('/collection.html') ? r.fulfill({ body: html, contentType: 'text/html' }) : r.fulfill({ body: '' })));
await page.goto('http://shop.test/collection.html');
const cdp = await page.context().newCDPSession(page);
console.log('| CPU | insertBefore, ms | moveBefore, ms | ratio |');
console.log('|---|---:|---:|---:|');
for (const rate of [1, 4]) {
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  const r = await page.evaluate(() => {
    const grid = document.querySelector('ul#product-grid');
    if (typeof grid.moveBefore !== 'function') throw new Error('this Chromium has no moveBefore');
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const times = { insertBefore: [], moveBefore: [] };
    for (let round = 0; round < 40; round++) {
      for (const how of round % 2 ? ['insertBefore', 'moveBefore'] : ['moveBefore', 'insertBefore']) {
        const order = [...grid.children].map((c) => [random(), c]).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
        void document.body.offsetHeight;
        const t = performance.now();
        for (const card of order) grid[how](card, null);
        times[how].push(performance.now() - t);
        void document.body.offsetHeight;
      }
    }
    const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
    return [median(times.insertBefore), median(times.moveBefore)];
  });
  console.log(`| ${rate}x | ${r[0].toFixed(1)} | ${r[1].toFixed(1)} | ${(r[1] / r[0]).toFixed(2)} |`);
}
await browser.close();
