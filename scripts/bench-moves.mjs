// insertBefore against moveBefore for reordering the demo collection grid (48 Dawn cards) in
// headless Chromium, unthrottled and at 4x CPU throttling: the median of 40 reorders each way,
// alternating which goes first. A reorder moves N random cards to the front of the grid (N = 1,
// 8, 24 or all 48). The page is www/collection.html without the loader, with the demo theme's
// stylesheets from www/ (so the layout is the theme's); every other request gets an empty
// answer. Layout is flushed before each reorder; then the moves are timed (what
// our DOM adapters pay, in our task), and then the style and layout they cause (flushed with
// offsetHeight: what the browser pays in its next frame, which no JavaScript profile shows).
//   node scripts/bench-moves.mjs
import { chromium } from 'playwright-core';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const html = readFileSync(path.join(root, 'www/collection.html'), 'utf8').replace(/<script[^>]*tailor\.js[^>]*><\/script>/, '');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();
await page.route('**/*', (r) => {
  const { pathname } = new URL(r.request().url());
  if (pathname === '/collection.html') return r.fulfill({ body: html, contentType: 'text/html' });
  const file = path.join(root, 'www', path.normalize(pathname));
  if (pathname.endsWith('.css') && existsSync(file)) return r.fulfill({ body: readFileSync(file, 'utf8'), contentType: 'text/css' });
  return r.fulfill({ body: '' });
});
await page.goto('http://shop.test/collection.html');
const cdp = await page.context().newCDPSession(page);
console.log('| CPU | cards moved | insertBefore: moves + layout = total, ms | moveBefore: moves + layout = total, ms | total, moveBefore / insertBefore |');
console.log('|---|---:|---:|---:|---:|');
for (const rate of [1, 4]) {
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  for (const n of [1, 8, 24, 48]) {
    const r = await page.evaluate((n) => {
      const grid = document.querySelector('ul#product-grid');
      if (typeof grid.moveBefore !== 'function') throw new Error('this Chromium has no moveBefore');
      let seed = 1;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const times = { insertBefore: [[], []], moveBefore: [[], []] };
      for (let round = 0; round < 40; round++) {
        for (const how of round % 2 ? ['insertBefore', 'moveBefore'] : ['moveBefore', 'insertBefore']) {
          const cards = [...grid.children].map((c) => [random(), c]).sort((a, b) => a[0] - b[0]).map((x) => x[1]).slice(0, n);
          void document.body.offsetHeight;
          const t0 = performance.now();
          const first = grid.firstElementChild;
          for (const card of cards) grid[how](card, first);
          const t1 = performance.now();
          void document.body.offsetHeight;
          times[how][0].push(t1 - t0);
          times[how][1].push(performance.now() - t1);
        }
      }
      const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
      return ['insertBefore', 'moveBefore'].map((how) => [median(times[how][0]), median(times[how][1]), median(times[how][0].map((m, i) => m + times[how][1][i]))]);
    }, n);
    // Medians of each part and of the totals (a median of sums is not the sum of medians).
    const cell = ([moves, layout, total]) => `${moves.toFixed(1)} + ${layout.toFixed(1)} = ${total.toFixed(1)}`;
    console.log(`| ${rate}x | ${n} | ${cell(r[0])} | ${cell(r[1])} | ${(r[1][2] / r[0][2]).toFixed(2)} |`);
  }
}
await browser.close();
