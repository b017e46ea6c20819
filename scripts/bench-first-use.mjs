// What the first use of the DOM costs a page, against the same work done again: the part of a
// page view's time that any script pays once per page, whatever it is written in. In headless
// Chromium, each sample a fresh browser context with a blank page:
// - three recommendation blocks of four items (src/blocks.rs's markup) built in plain
//   JavaScript, three times in a row: the first build pays for Chromium setting up each element
//   type's bindings in the page and V8 meeting the code for the first time;
// - the same, after the page has created one element of each type (untimed);
// - the same, building each item as a clone of a prototype item;
// - the first `createElement` of each tag against the next 50;
// - the browser APIs the loader uses on a page (its script tag's data, a URL, `navigator`, a
//   custom event, User Timing, random bytes, listeners, `getComputedStyle`, the two observers, the
//   text codecs, a message on a `MessageChannel`, `scheduler.yield`), each once, three times in
//   a row.
//
//   node scripts/bench-first-use.mjs        (SAMPLES=15)
//
// performance.now() is coarsened to 100 µs in a page that is not cross-origin isolated: read the
// medians and means over many samples, not one.
import { launchBrowser } from '../tests/e2e/harness.mjs';

const SAMPLES = Number(process.env.SAMPLES || 15);
const browser = await launchBrowser();
const fresh = async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.setContent('<html><body><div id=s1></div><div id=s2></div><div id=s3></div></body></html>');
  return { page, close: () => context.close() };
};

// One sample of the blocks: the three builds' times, in ms. mode: 'cold', 'types' (one element
// of each type created first) or 'clone' (items cloned from a prototype).
const blocks = (mode) => {
  if (mode === 'types') for (const t of ['div', 'h2', 'ul', 'li', 'a', 'span']) document.createElement(t);
  const el = (tag, cls) => { const e = document.createElement(tag); e.className = cls; return e; };
  const item = () => {
    const li = el('li', 'tailor-block__item');
    const a = el('a', 'tailor-block__link');
    a.appendChild(el('span', 'tailor-block__name'));
    a.appendChild(el('span', 'tailor-block__price'));
    li.appendChild(a);
    li.appendChild(el('span', 'tailor-block__reason'));
    return li;
  };
  const build = (slot, proto) => {
    const block = el('div', 'tailor-block');
    block.setAttribute('data-tailor-rendered', '');
    const h = el('h2', 'tailor-block__title');
    h.textContent = 'You may also like';
    block.appendChild(h);
    const list = el('ul', 'tailor-block__list');
    for (let i = 0; i < 4; i++) {
      const li = proto ? proto.cloneNode(true) : item();
      const a = li.firstChild;
      a.setAttribute('href', '/products/a-product-' + i);
      a.firstChild.textContent = 'A Product Of The Catalog Number ' + i;
      a.lastChild.textContent = (i + 1) + '.95';
      li.lastChild.textContent = 'Because you viewed Another Product';
      li.setAttribute('data-tailor-item', String(7400000000000 + i));
      li.setAttribute('data-tailor-position', String(i));
      list.appendChild(li);
    }
    block.appendChild(list);
    slot.appendChild(block);
    slot.setAttribute('data-tailor-state', 'rendered');
  };
  const times = [];
  for (let run = 0; run < 3; run++) {
    const t = performance.now();
    const proto = mode === 'clone' ? item() : null;
    for (const id of ['s1', 's2', 's3']) {
      const slot = document.getElementById(id);
      slot.textContent = '';
      build(slot, proto);
    }
    times.push(performance.now() - t);
  }
  return times;
};

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const f = (ms) => ms.toFixed(2);
console.log(`three blocks of four items, plain JavaScript, a fresh page each (median of ${SAMPLES}, ms)`);
console.log('| page | 1st build | 2nd | 3rd |\n|---|---:|---:|---:|');
for (const [mode, what] of [['cold', 'as it loaded'], ['types', 'one element of each type created first'], ['clone', 'items cloned from a prototype']]) {
  const runs = [];
  for (let i = 0; i < SAMPLES; i++) {
    const { page, close } = await fresh();
    runs.push(await page.evaluate(blocks, mode));
    await close();
  }
  console.log(`| ${what} | ${f(median(runs.map((r) => r[0])))} | ${f(median(runs.map((r) => r[1])))} | ${f(median(runs.map((r) => r[2])))} |`);
}

const tags = ['div', 'h2', 'ul', 'li', 'a', 'span', 'img'];
const sums = Object.fromEntries(tags.map((t) => [t, [0, 0]]));
for (let i = 0; i < SAMPLES; i++) {
  const { page, close } = await fresh();
  // In a random order each time, so that what the first element of any type sets up is spread.
  const out = await page.evaluate((tags) => {
    const o = {};
    for (const t of [...tags].sort(() => Math.random() - 0.5)) {
      const t0 = performance.now();
      document.createElement(t);
      const t1 = performance.now();
      for (let n = 0; n < 50; n++) document.createElement(t);
      o[t] = [t1 - t0, (performance.now() - t1) / 50];
    }
    return o;
  }, tags);
  for (const t of tags) { sums[t][0] += out[t][0] / SAMPLES; sums[t][1] += out[t][1] / SAMPLES; }
  await close();
}
console.log(`\nthe first createElement of each tag, a fresh page each, in a random order (mean of ${SAMPLES})`);
console.log('| tag | first (ms) | each of the next 50 (µs) |\n|---|---:|---:|');
for (const t of tags) console.log(`| ${t} | ${f(sums[t][0])} | ${(sums[t][1] * 1000).toFixed(1)} |`);

// The loader's browser APIs, each once, three times in a row, after the page's elements have
// been reached once (that first reach is any script's, and is timed above).
const apis = () => {
  document.body.getAttribute('x');
  const tag = document.getElementById('s1');
  tag.setAttribute('data-site', 'demo');
  const channel = new MessageChannel();
  const batch = (i) => {
    const t0 = performance.now();
    const config = { site: tag.dataset.site, endpoint: new URL('/v1/events', 'https://shop.example/').href };
    const bot = navigator.webdriver === true || /bot|crawl|spider|slurp|headless|lighthouse/i.test(navigator.userAgent);
    const signals = [navigator.globalPrivacyControl, navigator.doNotTrack, navigator.onLine];
    document.documentElement.setAttribute('data-probe', String(i));
    document.dispatchEvent(new CustomEvent('probe:state', { detail: { i } }));
    performance.measure('probe', { start: t0, detail: 'x' });
    // (A blank page is no secure context: no randomUUID. The same Crypto object's first use.)
    const id = crypto.getRandomValues(new Uint8Array(16)).join('');
    addEventListener('pagehide', () => {});
    document.addEventListener('visibilitychange', () => {});
    const reveal = getComputedStyle(document.documentElement).getPropertyValue('--probe');
    new IntersectionObserver(() => {}, { threshold: 0.5 }).observe(tag);
    new MutationObserver(() => {}).observe(document.body, { childList: true, subtree: true });
    const bytes = new TextEncoder().encodeInto('abc', new Uint8Array(8)).written + new TextDecoder().decode(new Uint8Array([65])).length;
    channel.port1.postMessage([config.site, id, bytes]);
    if (self.scheduler && scheduler.yield) scheduler.yield();
    return [performance.now() - t0, bot, signals, reveal];
  };
  return [batch(1)[0], batch(2)[0], batch(3)[0]];
};
const batches = [];
for (let i = 0; i < SAMPLES; i++) {
  const { page, close } = await fresh();
  batches.push(await page.evaluate(apis));
  await close();
}
console.log(`\nthe loader's browser APIs, each once, a fresh page each (median of ${SAMPLES}, ms)`);
console.log('| 1st time | 2nd | 3rd |\n|---:|---:|---:|');
console.log(`| ${f(median(batches.map((r) => r[0])))} | ${f(median(batches.map((r) => r[1])))} | ${f(median(batches.map((r) => r[2])))} |`);
await browser.close();
