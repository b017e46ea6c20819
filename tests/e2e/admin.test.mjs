// The merchant's dashboard in a real Chromium against a real `tailor serve`: 401 without the
// admin token; with it, every chart is drawn (the SVG has one mark per data point of the
// report) and the screenshots of the chart regions are not blank.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serverAndBrowser, watchErrors, ROOT } from './harness.mjs';

const TOKEN = 'e2e-admin-token-0123456789';
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 10, 1);
const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));

const env = serverAndBrowser(['--admin-token', TOKEN], () => postEvents(population()));

/** A small deterministic store: 400 shoppers over two weeks, half in each arm of one
 * experiment on the `for_you` slot, some clicks and orders. */
function population() {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  let n = 0;
  const events = [];
  const push = (shopper, session, ts, e) => {
    n += 1;
    events.push({
      id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
      shopper, session, ts, ...e,
    });
  };
  for (let i = 0; i < 400; i++) {
    const shopper = `e2e-${i}`;
    const arm = i % 2 ? 'treatment' : 'control';
    const start = T0 + Math.floor(rand() * 14) * DAY + Math.floor(rand() * DAY);
    for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) {
      const t = start + k * 2 * DAY;
      const session = `${shopper}-${k}`;
      const request = `${session}-r`;
      const shown = [0, 1, 2, 3].map((j) => catalog.products[(i + j * 7) % 12].id);
      push(shopper, session, t, { type: 'page_view', page: 'home' });
      push(shopper, session, t + 1, { type: 'exposure', placement: 'for_you', arm, experiment: 'for-you-e2e' });
      push(shopper, session, t + 2, { type: 'rec_impression', request, slot: 'for_you', items: shown, model_version: '1' });
      if (rand() < 0.3) {
        push(shopper, session, t + 3, { type: 'rec_click', request, slot: 'for_you', position: 0, item: shown[0], model_version: '1' });
      }
      if (rand() < (arm === 'treatment' ? 0.35 : 0.25)) {
        const price = Math.round(500 + rand() * 3000) / 100;
        push(shopper, session, t + 60_000, { type: 'purchase', lines: [{ item: shown[0], qty: 1, price }], value: price });
      }
    }
  }
  return events;
}

async function postEvents(events) {
  for (let i = 0; i < events.length; i += 500) {
    const res = await fetch(`${env.server.base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ site: 'demo', events: events.slice(i, i + 500) }),
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.accepted, Math.min(500, events.length - i), JSON.stringify(body.rejected));
  }
}

/** Decode a PNG screenshot in a blank page and count pixels: not white, and close to `rgb`. */
async function pixels(page, png, rgb) {
  return page.evaluate(async ({ b64, rgb }) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, img.width, img.height).data;
    let ink = 0;
    let colour = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235) ink += 1;
      if (Math.abs(d[i] - rgb[0]) < 30 && Math.abs(d[i + 1] - rgb[1]) < 30 && Math.abs(d[i + 2] - rgb[2]) < 30) colour += 1;
    }
    return { total: d.length / 4, ink, colour };
  }, { b64: png.toString('base64'), rgb });
}

test('without the admin token the dashboard is 401', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const res = await page.goto(`${env.server.base}/admin`);
  assert.equal(res.status(), 401);
  assert.equal(res.headers()['www-authenticate'], 'Bearer realm="tailor admin"');
  assert.match(await page.textContent('body'), /UNAUTHORIZED/);
  const wrong = await page.goto(`${env.server.base}/admin?token=not-the-token-at-all`);
  assert.equal(wrong.status(), 401);
  assert.equal(await page.locator('svg').count(), 0);
  await context.close();
});

test('with the token every chart renders, one mark per data point', async () => {
  const report = await (await fetch(`${env.server.base}/v1/admin/demo/report`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  })).json();
  const exp = report.experiments.find((e) => e.id === 'for-you-e2e');
  assert.ok(exp, 'the experiment is in the report');
  assert.ok(report.segments.length >= 14, `${report.segments.length} segment points`);

  const context = await env.browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const res = await page.goto(`${env.server.base}/admin`);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['cache-control'], 'no-store');

  // Lift per placement: the experiment has an interval; the holdout (nobody held out in this
  // store) says so instead of drawing one.
  const lift = page.locator('#chart-lift');
  assert.equal(await lift.locator('g.lift-row').count(), 2);
  assert.equal(await lift.locator('circle.point').count(), 1);
  assert.equal(await lift.locator('line.ci').count(), 1);
  assert.equal(await lift.locator('.no-data').count(), 1);
  const x1 = Number(await lift.locator('line.ci').getAttribute('x1'));
  const x2 = Number(await lift.locator('line.ci').getAttribute('x2'));
  assert.ok(x2 > x1, `interval drawn from ${x1} to ${x2}`);

  // Cumulative metrics: two series with one point per day of the report.
  const cum = page.locator('#chart-cumulative-0');
  assert.equal(await cum.getAttribute('data-id'), 'for-you-e2e');
  assert.equal(await cum.locator('polyline.series').count(), 2);
  assert.equal(await cum.locator('circle.pt.treatment').count(), exp.cumulative.length);
  assert.equal(await cum.locator('circle.pt.control').count(), exp.cumulative.length);

  // Segment sizes: one stacked bar per point, its parts summing to the shoppers seen.
  const seg = page.locator('#chart-segments');
  assert.equal(await seg.locator('g.day').count(), report.segments.length);
  const lastDay = report.segments[report.segments.length - 1].counts.filter(([, c]) => c > 0).length;
  assert.equal(await seg.locator('g.day').last().locator('rect.seg').count(), lastDay);

  // Top items: one bar per listed item, the catalog's titles as labels.
  const top = page.locator('#chart-top-0');
  assert.equal(await top.getAttribute('data-slot'), 'for_you');
  assert.equal(await top.locator('rect.bar').count(), report.slots[0].top_items.length);
  const first = catalog.products.find((p) => p.id === report.slots[0].top_items[0].item);
  assert.ok((await top.textContent()).includes(first.title.slice(0, 36)));

  // The screenshots of the chart regions are drawn: ink, and the treatment colour where
  // the chart uses it.
  const blank = await context.newPage();
  for (const [id, rgb, minColour] of [
    ['#chart-lift', [0x2e, 0x9e, 0x5f], 0],
    ['#chart-cumulative-0', [0x2f, 0x6f, 0xdf], 50],
    ['#chart-segments', [0x4f, 0x86, 0xd9], 0],
    ['#chart-top-0', [0x2f, 0x6f, 0xdf], 500],
  ]) {
    const shot = await page.locator(id).screenshot();
    const p = await pixels(blank, shot, rgb);
    assert.ok(p.total > 10_000, `${id}: ${p.total} pixels`);
    assert.ok(p.ink / p.total > 0.01, `${id}: only ${p.ink} of ${p.total} pixels drawn`);
    assert.ok(p.colour >= minColour, `${id}: ${p.colour} pixels of the series colour`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});
