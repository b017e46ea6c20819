// Packaging: each way Tailor reaches people, installed the way its user would install it, in a
// real Chromium against a real `tailor serve`. `npm pack` makes the tarball; each project installs
// it with npm, offline, into a new folder. The store's pages are served from their own origin
// (a plain static server), so every request to the sync server is cross-origin, as on a store.
//   - a webpack 5 project importing `tailor` (the bundler copies the wasm);
//   - plain `<script type="module">` pages importing `tailor/web` and `tailor/slim`;
//   - a page that pastes the versioned script tag from the tarball, with its integrity;
//   - a Dawn-shaped page with the Shopify app embed block rendered by liquidjs;
//   - the Shopify web pixel, whose purchase dedupes with the storefront's own by event id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Liquid, Tag } from 'liquidjs';
import {
  serverAndBrowser, testContext, watchErrors, settle, staticServer, packTarball, npmProject, eventCounters, ROOT,
} from './harness.mjs';

const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const catalog = JSON.parse(readFileSync(path.join(ROOT, 'www/catalog.json'), 'utf8'));
const byId = new Map(catalog.products.map((p) => [String(p.id), p]));
const collectionHtml = readFileSync(path.join(ROOT, 'www/collection.html'), 'utf8');
const THEME_ORDER = [...collectionHtml.matchAll(/id="CardLink-[^"]*-(\d+)"/g)].map((m) => m[1]);
const GRID_IDS = () => [...document.querySelectorAll('ul#product-grid > li.grid__item [id^="CardLink-"]')].map((a) => a.id.split('-').pop());
const sri = (bytes) => 'sha384-' + createHash('sha384').update(bytes).digest('base64');

const env = serverAndBrowser();
const work = mkdtempSync(path.join(tmpdir(), 'tailor-pack-'));
let tarball;
const cleanup = [];
before(() => { tarball = packTarball(work); });
after(async () => {
  for (const f of cleanup) await f();
  rmSync(work, { recursive: true, force: true });
});

/** Serve `dir` as a store's origin for the rest of the file. */
async function store(dir, pages) {
  const s = await staticServer(dir, pages);
  cleanup.push(() => s.close());
  return s;
}

/** The next event batch the page posts to the sync server, and the server's answer. */
function nextBatch(page, wanted = () => true) {
  return page.waitForResponse((r) => r.url() === `${env.server.base}/v1/events` && r.request().method() === 'POST'
    && JSON.parse(r.request().postData()).events.some(wanted));
}

// What both module pages run: init, rank a list, render recommendations with textContent,
// track a view and flush it. `rank` before init must fail with NOT_INITIALIZED.
const APP = `
const out = {};
try { rank({ items: [1] }); } catch (e) { out.before = e.code; }
ready().then(() => { out.readyResolved = true; });
const q = new URLSearchParams(location.search);
const booting = init({ site: 'demo', endpoint: q.get('endpoint') });
out.samePromise = init({ site: 'demo', endpoint: q.get('endpoint') }) === booting;
booting.then(async (t) => {
  out.unviewed = rank({ items: JSON.parse(q.get('ids')) }).map((r) => String(r.item));
  for (const item of JSON.parse(q.get('views'))) track('product_view', { item });
  out.ranked = rank({ items: JSON.parse(q.get('ids')) }).map((r) => String(r.item));
  const recs = recommend({ placement: 'for-you', n: 4 });
  const list = document.getElementById('recs');
  for (const r of recs) {
    const li = document.createElement('li');
    li.textContent = r.title;
    li.dataset.id = String(r.id);
    list.append(li);
  }
  out.viewed = track('product_view', { item: recs[0].id }).id;
  out.sameApi = t.recommend === recommend;
  flush();
  await ready();
  window.__result = out;
}, (e) => { window.__result = { error: e.code + ': ' + e.message }; });
`;
const IDS = THEME_ORDER.slice(0, 12);
// Views of three products of a category that does not lead the list: rank() must bring it forward.
const VIEW_CATEGORY = IDS.map((id) => byId.get(id).category).find((c, _, all) => c !== all[0]);
const VIEWS = catalog.products.filter((p) => p.category === VIEW_CATEGORY).slice(0, 3).map((p) => p.id);
const QUERY = (endpoint) => `?endpoint=${encodeURIComponent(endpoint)}&ids=${encodeURIComponent(JSON.stringify(IDS))}&views=${encodeURIComponent(JSON.stringify(VIEWS))}`;

/** Open `url`, wait for the app's result and its event batch; check what every module page must show. */
async function checkModulePage(url) {
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  const before = await eventCounters(env.server.base);
  const batch = nextBatch(page, (e) => e.type === 'product_view');
  await page.goto(url);
  await page.waitForFunction(() => window.__result);
  const out = await page.evaluate(() => window.__result);
  assert.equal(out.error, undefined);
  assert.equal(out.before, 'NOT_INITIALIZED');
  assert.equal(out.readyResolved, true);
  assert.equal(out.samePromise, true, 'a second init() returns the same promise');
  assert.equal(out.sameApi, true, 'init() resolves the same API as the module exports');
  assert.deepEqual([...out.ranked].sort(), [...IDS].sort(), 'rank() returns the same items');
  assert.notEqual(byId.get(out.unviewed[0]).category, VIEW_CATEGORY);
  assert.equal(byId.get(out.ranked[0]).category, VIEW_CATEGORY, 'the viewed category leads after the views');
  const rendered = await page.evaluate(() => [...document.querySelectorAll('#recs li')].map((li) => [li.dataset.id, li.textContent]));
  assert.equal(rendered.length, 4);
  for (const [id, title] of rendered) assert.equal(title, byId.get(id).title);
  const res = await batch;
  assert.equal(res.status(), 200);
  assert.ok(JSON.parse(res.request().postData()).events.some((e) => e.id === out.viewed));
  const after = await eventCounters(env.server.base);
  assert.ok(after.accepted > before.accepted, 'the server stored the events');
  assert.deepEqual(errors, []);
  await context.close();
}

// Tools that predate `exports` (TypeScript's `node10` resolution, older bundlers and test
// runners) read `main`, `types` and `typesVersions`: they must name what `exports` names.
test('the installed package names the same entry points and types for tools that predate "exports"', () => {
  const dir = npmProject(tarball);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'node_modules/tailor/package.json'), 'utf8'));
  assert.equal(pkg.main, pkg.exports['.'].default);
  assert.equal(pkg.types, pkg.exports['.'].types);
  const typed = Object.entries(pkg.exports).filter(([, e]) => e.types).map(([k, e]) => [k.replace(/^\.\/?/, ''), e.types]);
  assert.deepEqual(Object.fromEntries(typed.filter(([k]) => k).map(([k, t]) => [k, [t]])), pkg.typesVersions['*']);
  for (const [, t] of typed) assert.ok(readFileSync(path.join(dir, 'node_modules/tailor', t), 'utf8').length > 0, t);
  assert.ok(readFileSync(path.join(dir, 'node_modules/tailor', pkg.main), 'utf8').length > 0);
  // The guide in the package links only to files the package has.
  const docs = path.join(dir, 'node_modules/tailor/docs');
  for (const file of readdirSync(docs).filter((f) => f.endsWith('.md'))) {
    for (const [, target] of readFileSync(path.join(docs, file), 'utf8').matchAll(/\]\(([^)#:]+)(?:#[^)]*)?\)/g)) {
      assert.ok(existsSync(path.join(docs, target)), `${file} links to ${target}, which the package lacks`);
    }
  }
});

test('a webpack 5 project importing "tailor" builds, renders recommendations and sends events', async () => {
  const dir = npmProject(tarball, {
    'src/app.js': `import { init, ready, rank, recommend, track, flush } from 'tailor';\n${APP}`,
    'webpack.config.js': `import path from 'node:path';
export default { mode: 'production', entry: './src/app.js', output: { path: path.resolve('dist'), clean: true }, performance: { hints: false } };`,
    'dist/index.html': '',
  });
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/webpack-cli/bin/cli.js'), '--config', 'webpack.config.js'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `webpack failed:\n${r.stdout}\n${r.stderr}`);
  const emitted = readdirSync(path.join(dir, 'dist'));
  assert.ok(emitted.some((f) => f.endsWith('.wasm')), `webpack emitted the wasm itself: ${emitted}`);
  const s = await store(path.join(dir, 'dist'), {
    '/': '<!doctype html><title>shop</title><ul id="recs"></ul><script src="/main.js"></script>',
  });
  await checkModulePage(`${s.base}/${QUERY(env.server.base + '/')}`);
});

test('plain <script type="module"> pages use "tailor/web", and "tailor/slim" with the wasm passed in', async () => {
  const dir = npmProject(tarball);
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const importMap = '<script type="importmap">{"imports":{"tailor/web":"/node_modules/tailor/js/npm/web.js","tailor/slim":"/node_modules/tailor/js/npm/slim.js"}}</script>';
  const s = await store(dir, {
    '/web.html': `<!doctype html><title>web</title><ul id="recs"></ul>${importMap}
<script type="module">import { init, ready, rank, recommend, track, flush } from 'tailor/web';\n${APP}</script>`,
    '/slim.html': `<!doctype html><title>slim</title>${importMap}
<script type="module">
import { init, ready, recommend } from 'tailor/slim';
const out = {};
const endpoint = new URLSearchParams(location.search).get('endpoint');
try { await init({ site: 'demo', endpoint }); } catch (e) { out.withoutWasm = e.code; }
const t = await init({ site: 'demo', endpoint, wasm: fetch('/node_modules/tailor/pkg/npm/tailor_bg.wasm') });
out.recs = t.recommend({ placement: 'for-you', n: 3 }).length;
out.ready = (await ready()) === t;
window.__result = out;
</script>`,
    // No snapshot to be had (the sync server out of reach): init() rejects with why, the engine's
    // calls throw it, events are still sent, and a later init() starts the engine with them.
    '/unavailable.html': `<!doctype html><title>unavailable</title>${importMap}
<script type="module">
import { init, ready, rank, track, flush, engine, forget } from 'tailor/web';
const q = new URLSearchParams(location.search);
const endpoint = q.get('endpoint');
const ids = JSON.parse(q.get('ids'));
const options = { site: 'demo', endpoint, customer: q.get('customer') || undefined };
const out = { stage: 'loading' };
ready().then(() => { out.readyAt = out.stage; });
const why = (f) => { try { f(); return 'returned'; } catch (e) { return e.code; } };
try { await init(options); out.first = 'resolved'; } catch (e) { out.first = [e.code, e.message]; }
out.stage = 'failed';
out.calls = { rank: why(() => rank({ items: ids })), engine: why(() => engine()) };
out.viewed = JSON.parse(q.get('views')).map((item) => track('product_view', { item }).id);
flush();
if (q.get('forget')) forget();
await new Promise((resolve) => { window.__retry = resolve; window.__failed = out; });
out.stage = 'retried';
out.otherSite = await init({ ...options, site: 'other' }).then(() => 'resolved', (e) => e.code);
const t = await init(options);
out.ranked = t.rank({ items: ids }).map((r) => String(r.item));
out.engine = typeof engine().decide;
await ready();
window.__result = out;
</script>`,
    // A logged-in customer's device: tracks views, and sends its profile to the server.
    '/customer.html': `<!doctype html><title>customer</title>${importMap}
<script type="module">
import { init, track, flush } from 'tailor/web';
const q = new URLSearchParams(location.search);
await init({ site: 'demo', endpoint: q.get('endpoint'), customer: q.get('customer') });
for (const item of JSON.parse(q.get('views'))) track('product_view', { item });
flush();
</script>`,
    // Opt-in: nothing stored before the answer; an answer given while init() loads, or before
    // init() (early=2), is kept.
    '/opt-in.html': `<!doctype html><title>opt-in</title>${importMap}
<script type="module">
import { init, consent, consented } from 'tailor/web';
const endpoint = new URLSearchParams(location.search).get('endpoint');
const ours = () => Object.keys(localStorage).filter((k) => k.startsWith('tailor:')).sort();
const mode = new URLSearchParams(location.search).get('early');
const early = mode !== '0';
if (mode === '2') consent(true);
const loading = init({ site: 'demo', endpoint, consent: 'opt-in' });
const out = { before: ours() };
if (mode === '1') consent(true);
await loading;
out.loaded = { consented: consented(), keys: ours() };
if (!early) consent(true);
out.granted = { consented: consented(), stored: localStorage.getItem('tailor:consent') };
window.__result = out;
</script>`,
  });
  const q = QUERY(env.server.base + '/');
  await checkModulePage(`${s.base}/web.html${q}`);

  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${s.base}/slim.html${q}`);
  await page.waitForFunction(() => window.__result);
  assert.deepEqual(await page.evaluate(() => window.__result), { withoutWasm: 'INVALID_OPTIONS', recs: 3, ready: true });
  assert.deepEqual(errors, []);
  await context.close();

  {
    const ctx = await testContext(env.browser);
    const pointer = /\/v1\/snapshot\/demo$/;
    await ctx.route(pointer, (route) => route.abort('connectionrefused'));
    const p = await ctx.newPage();
    const errs = watchErrors(p);
    const batch = nextBatch(p, (e) => e.type === 'product_view');
    await p.goto(`${s.base}/unavailable.html${q}`);
    await p.waitForFunction(() => window.__failed);
    const failed = await p.evaluate(() => window.__failed);
    assert.equal(failed.first[0], 'SNAPSHOT_UNAVAILABLE');
    assert.match(failed.first[1], /snapshot could not be downloaded from http:\/\/[^ ]+ \(Failed to fetch\)/);
    assert.deepEqual(failed.calls, { rank: 'SNAPSHOT_UNAVAILABLE', engine: 'SNAPSHOT_UNAVAILABLE' });
    const sent = JSON.parse((await batch).request().postData()).events.map((e) => e.id);
    for (const id of failed.viewed) assert.ok(sent.includes(id), 'the events tracked without an engine were sent');
    // The sync server within reach again: a second init() starts the engine, with those views.
    await ctx.unroute(pointer);
    await p.evaluate(() => window.__retry());
    await p.waitForFunction(() => window.__result);
    const out = await p.evaluate(() => window.__result);
    assert.equal(out.otherSite, 'INVALID_OPTIONS', 'a retry is for the site whose queue runs');
    assert.equal(out.readyAt, 'retried', 'ready() resolves once the engine has started');
    assert.equal(out.engine, 'function');
    assert.deepEqual([...out.ranked].sort(), [...IDS].sort());
    assert.equal(byId.get(out.ranked[0]).category, VIEW_CATEGORY, 'the views tracked before the engine started count');
    assert.deepEqual(errs.filter((e) => !e.includes('net::ERR_CONNECTION_REFUSED')), []);
    await ctx.close();
  }

  {
    // A logged-in customer whose profile (those views) is on the server, on a device with none,
    // while the server is out of reach: the retry starts from the customer's profile, not from
    // an empty one that would later replace it on the server.
    const customer = 'c0ffee' + crypto.randomUUID().replaceAll('-', '');
    const profileUrl = `${env.server.base}/v1/profiles/demo/${customer}`;
    const first = await testContext(env.browser);
    const fp = await first.newPage();
    const uploaded = fp.waitForResponse((r) => r.url() === profileUrl && r.request().method() === 'POST');
    await fp.goto(`${s.base}/customer.html${q}&customer=${customer}`);
    assert.equal((await uploaded).status(), 204);
    await first.close();

    // (This time the sync server hangs: init() waits 5 s for the snapshot, then goes on.)
    const ctx = await testContext(env.browser);
    const pointer = /\/v1\/snapshot\/demo$/;
    const profile = new RegExp(`/v1/profiles/demo/${customer}$`);
    let release;
    const hanging = new Promise((resolve) => { release = resolve; });
    await ctx.route(pointer, async (route) => { await hanging; await route.continue(); });
    await ctx.route(profile, (route) => route.abort('connectionrefused'));
    const p = await ctx.newPage();
    const errs = watchErrors(p);
    const noViews = QUERY(env.server.base + '/').replace(/views=[^&]*/, 'views=' + encodeURIComponent('[]'));
    await p.goto(`${s.base}/unavailable.html${noViews}&customer=${customer}`);
    await p.waitForFunction(() => window.__failed, null, { timeout: 15_000 });
    assert.deepEqual((await p.evaluate(() => window.__failed)).first, ['SNAPSHOT_UNAVAILABLE', 'the snapshot did not arrive within 5 s']);
    release();
    await ctx.unroute(pointer);
    await ctx.unroute(profile);
    await p.evaluate(() => window.__retry());
    await p.waitForFunction(() => window.__result);
    const out = await p.evaluate(() => window.__result);
    assert.equal(byId.get(out.ranked[0]).category, VIEW_CATEGORY, 'the customer\'s profile was fetched before the engine started');
    assert.deepEqual(errs.filter((e) => !e.includes('net::ERR_CONNECTION_REFUSED')), []);
    await ctx.close();

    // The same customer forgets while the page runs without an engine, and the deletion
    // request cannot reach the server either: the retry does not fetch their profile back.
    const gone = await testContext(env.browser);
    await gone.route(pointer, (route) => route.abort('connectionrefused'));
    await gone.route(/\/v1\/forget$/, (route) => route.abort('connectionrefused'));
    const gp = await gone.newPage();
    const gErrs = watchErrors(gp);
    let retrying = false;
    const fetchedBack = [];
    gone.on('request', (r) => { if (retrying && r.url() === profileUrl) fetchedBack.push(r.method()); });
    await gp.goto(`${s.base}/unavailable.html${noViews}&customer=${customer}&forget=1`);
    await gp.waitForFunction(() => window.__failed);
    await gone.unroute(pointer);
    retrying = true;
    await gp.evaluate(() => window.__retry());
    await gp.waitForFunction(() => window.__result);
    assert.deepEqual(fetchedBack, [], 'no profile fetched after the forget');
    assert.deepEqual(gErrs.filter((e) => !e.includes('net::ERR_CONNECTION_REFUSED')), []);
    await gone.close();
  }

  for (const mode of [0, 1, 2]) {
    const early = mode > 0;
    // A fresh context with nothing stored (testContext would store a shopper id).
    const ctx = await env.browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${s.base}/opt-in.html${q}&early=${mode}`);
    await p.waitForFunction(() => window.__result);
    const out = await p.evaluate(() => window.__result);
    assert.deepEqual(out.before, []);
    if (early) assert.equal(out.loaded.consented, true, `an answer given ${mode === 2 ? 'before init()' : 'while loading'} is applied`);
    else assert.deepEqual(out.loaded, { consented: false, keys: [] }, 'nothing stored before consent');
    assert.deepEqual(out.granted, { consented: true, stored: 'granted' });
    await ctx.close();
  }
});

test('the versioned script tag from the tarball personalizes a page on another origin', async () => {
  const dir = npmProject(tarball);
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const js = `/node_modules/tailor/dist/tailor-${version}.js`;
  const integrity = sri(readFileSync(path.join(dir, js)));
  const html = collectionHtml.replace(
    '<script async src="/tailor.js" data-site="demo" data-endpoint="/"></script>',
    `<script async src="${js}" integrity="${integrity}" crossorigin="anonymous" data-site="demo" data-endpoint="${env.server.base}/"></script>`,
  );
  assert.ok(html.includes(integrity), 'the tag was pasted');
  const s = await store(dir, { '/collection.html': html });
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  const batch = nextBatch(page, (e) => e.type === 'page_view');
  await page.goto(`${s.base}/collection.html`);
  assert.equal(await settle(page), 'ready');
  const order = await page.evaluate(GRID_IDS);
  assert.deepEqual([...order].sort(), [...THEME_ORDER].sort(), 'the same cards');
  assert.notDeepEqual(order, THEME_ORDER, 'reordered');
  // The tarball's versioned worker, next to the loader, passed its pinned hash and did its work.
  assert.equal(await page.evaluate(() => performance.getEntriesByName('tailor:warmed').length), 1, 'the worker answered');
  assert.equal((await batch).status(), 200);
  assert.deepEqual(errors, []);
  await context.close();
});

// Shopify's Liquid, as far as the block uses it: asset_url (the extension's assets, served here
// from the store's origin), hmac_sha256, and the {% schema %} tag, which renders nothing.
function shopifyLiquid() {
  const engine = new Liquid({ root: path.join(ROOT, 'extensions/shopify/blocks'), extname: '.liquid', strictFilters: true });
  engine.registerFilter('asset_url', (name) => `/assets/${name}`);
  engine.registerFilter('hmac_sha256', (value, key) => createHmac('sha256', String(key)).update(String(value)).digest('hex'));
  engine.registerTag('schema', class extends Tag {
    constructor(token, remainTokens, liquid) {
      super(token, remainTokens, liquid);
      for (let t = remainTokens.shift(); t && !(t.name === 'endschema'); t = remainTokens.shift()) { /* raw JSON */ }
    }
    * render() { /* nothing */ }
  });
  return engine;
}
const schemaOf = (src) => JSON.parse(/{%\s*schema\s*%}([\s\S]*?){%\s*endschema\s*%}/.exec(src)[1]);
const blockSrc = readFileSync(path.join(ROOT, 'extensions/shopify/blocks/tailor-embed.liquid'), 'utf8');
const defaults = Object.fromEntries(schemaOf(blockSrc).settings.filter((s) => 'default' in s).map((s) => [s.id, s.default]));

async function renderEmbed(vars) {
  return shopifyLiquid().parseAndRender(blockSrc, {
    block: { settings: { ...defaults, site_key: 'demo', endpoint: `${env.server.base}/`, customer_key: 'k3y', ...(vars.settings || {}) } },
    shop: { domain: 'demo.myshopify.com' },
    ...vars,
  });
}

test('the Shopify app embed, rendered by liquidjs into Dawn markup, personalizes the page and the product page', async () => {
  const assets = path.join(ROOT, 'extensions/shopify');
  // Shopify's storefront provides this; analytics is allowed.
  const shopify = '<script>window.Shopify = { shop: "demo.myshopify.com", customerPrivacy: { analyticsProcessingAllowed: () => true } };</script>';
  const embed = await renderEmbed({ customer: { id: 4242 }, request: { page_type: 'collection' } });
  assert.match(embed, /<script\s+async\s+src="\/assets\/tailor\.js"/);
  assert.ok(embed.includes(`data-customer="${createHmac('sha256', 'k3y').update('4242').digest('hex')}"`), 'the customer id goes only as its HMAC');
  assert.ok(!embed.includes('4242'), 'the raw customer id is not in the page');
  assert.ok(embed.includes(`data-wasm="${env.server.base}/tailor_bg.wasm"`), 'the wasm comes from the sync server');
  assert.ok(embed.includes('html{--tailor-reveal-ms:300}'), 'anti-flicker is on by default');
  assert.ok(!(await renderEmbed({ settings: { anti_flicker: false } })).includes('tailor-reveal'), 'and can be turned off');
  // Until both settings are usable the block renders nothing: a URL without its scheme would
  // resolve against Shopify's CDN.
  for (const settings of [{ site_key: '' }, { endpoint: '' }, { endpoint: 'tailor.example.com' }]) {
    assert.equal((await renderEmbed({ settings })).trim(), '', JSON.stringify(settings));
  }
  assert.ok((await renderEmbed({ settings: { endpoint: 'https://tailor.example.com' } })).includes('data-endpoint="https://tailor.example.com/"'), 'no trailing slash given');
  // As relaxReveal does for the stylesheet: a 10 s deadline, so that a slow first wasm compile on
  // a busy machine does not make this test about timing.
  const relaxed = embed.replace('--tailor-reveal-ms:300', '--tailor-reveal-ms:10000').replace('0s .3s both', '0s 10s both');
  const collection = collectionHtml
    .replace('<script async src="/tailor.js" data-site="demo" data-endpoint="/"></script>', shopify)
    .replace('</body>', `${relaxed}</body>`);
  const product = catalog.products[40];
  const productEmbed = await renderEmbed({ product: { id: product.id }, request: { page_type: 'product' } });
  const productHtml = `<!doctype html><html><head><title>${product.title}</title>${shopify}</head><body>
<main><h1>${product.title}</h1><div data-tailor-slot="similar" data-tailor-n="4" data-tailor-title="You may also like"></div></main>
${productEmbed}</body></html>`;
  const s = await store(assets, { '/collections/all': collection, [`/products/${product.handle}`]: productHtml });

  const context = await testContext(env.browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  const wasm = [];
  const missing = [];
  page.on('response', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(r.url());
    if (r.status() === 404) missing.push(new URL(r.url()).pathname);
  });
  const batch = nextBatch(page, (e) => e.type === 'page_view');
  await page.goto(`${s.base}/collections/all`);
  assert.equal(await settle(page), 'ready');
  const order = await page.evaluate(GRID_IDS);
  assert.deepEqual([...order].sort(), [...THEME_ORDER].sort());
  assert.notDeepEqual(order, THEME_ORDER);
  assert.equal((await batch).status(), 200);
  assert.deepEqual(wasm, [`${env.server.base}/tailor_bg.wasm`]);
  // The extension's worker asset, next to the loader, did the work off the main thread.
  assert.equal(await page.evaluate(() => performance.getEntriesByName('tailor:warmed').length), 1, 'the worker answered');
  // The anti-flicker rules came with the block.
  assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--tailor-reveal-ms').trim()), '10000');

  const viewed = nextBatch(page, (e) => e.type === 'product_view' && String(e.item) === String(product.id));
  await page.goto(`${s.base}/products/${product.handle}`);
  assert.equal(await settle(page), 'ready');
  const shown = await page.evaluate(() => [...document.querySelectorAll('[data-tailor-slot="similar"] [data-tailor-item]')].map((n) => n.dataset.tailorItem));
  assert.equal(shown.length, 4, 'the similar slot is filled');
  assert.ok(!shown.includes(String(product.id)), 'not the product itself');
  assert.equal((await viewed).status(), 200, 'the product id from Liquid reached the server as a product_view');
  // The logged-in customer has no stored profile yet: the loader asked for it once (404) and
  // went on. Nothing else was missing and nothing else was logged.
  assert.deepEqual(missing, [`/v1/profiles/demo/${createHmac('sha256', 'k3y').update('4242').digest('hex')}`]);
  assert.deepEqual(errors.filter((e) => !e.includes('404 (Not Found)')), []);
  assert.equal(errors.length, missing.length);
  await context.close();
});

test('the Shopify web pixel sends a completed checkout once, deduplicated with the storefront\'s own purchase event', async () => {
  const dir = npmProject(tarball);
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const { tailorPixel } = await import(pathToFileURL(path.join(dir, 'node_modules/tailor/js/npm/shopify-pixel.js')));
  const [a, b] = [catalog.products[3], catalog.products[9]];
  const order = '820982911946154500';
  // The storefront's thank-you page tracks the order itself, through the npm package.
  const s = await store(dir, {
    '/thanks.html': `<!doctype html><script type="importmap">{"imports":{"tailor/web":"/node_modules/tailor/js/npm/web.js"}}</script>
<script type="module">
import { init, track, flush } from 'tailor/web';
await init({ site: 'demo', endpoint: ${JSON.stringify(env.server.base + '/')} });
window.__event = track('purchase', { order: ${JSON.stringify(order)}, value: 30, lines: [{ item: ${a.id}, qty: 1, price: 10 }, { item: ${b.id}, qty: 2, price: 10 }] });
flush();
</script>`,
  });
  const context = await testContext(env.browser);
  const page = await context.newPage();
  const batch = nextBatch(page, (e) => e.type === 'purchase');
  await page.goto(`${s.base}/thanks.html`);
  assert.equal((await batch).status(), 200);
  const onSite = await page.evaluate(() => window.__event);
  const [shopper, session] = await page.evaluate(() => ['tailor:shopper', 'tailor:session'].map((k) => localStorage.getItem(k)));
  await context.close();

  // Shopify's pixel runtime, as far as the pixel uses it; the requests go to the real server.
  const handlers = {};
  const sent = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (url, init) => { if (init && init.body) sent.push(JSON.parse(init.body)); return realFetch(url, init); };
  try {
    tailorPixel({
      analytics: { subscribe: (name, fn) => { handlers[name] = fn; } },
      browser: { localStorage: { getItem: async (k) => ({ 'tailor:shopper': shopper, 'tailor:session': session })[k] ?? null } },
      settings: { site: 'demo', endpoint: env.server.base },
    });
    assert.deepEqual(Object.keys(handlers), ['checkout_completed']);
    const checkout = {
      id: 'sh-7f3a', clientId: 'c-1', timestamp: new Date().toISOString(),
      data: { checkout: {
        order: { id: `gid://shopify/OrderIdentity/${order}` }, currencyCode: 'EUR', totalPrice: { amount: 30 },
        lineItems: [
          { quantity: 1, variant: { price: { amount: 10 }, product: { id: `gid://shopify/Product/${a.id}` } } },
          { quantity: 2, variant: { price: { amount: 10 }, product: { id: String(b.id) } } },
        ],
      } },
    };
    const before = await eventCounters(env.server.base);
    assert.equal(await handlers.checkout_completed(checkout), 200);
    const after = await eventCounters(env.server.base);
    const [event] = sent[0].events;
    assert.equal(event.id, onSite.id, 'the pixel and the page derive one event id from the order');
    assert.equal(event.shopper, shopper, 'the purchase joins the storefront shopper');
    assert.equal(event.session, onSite.session, 'and the storefront session');
    assert.deepEqual(event.lines.map((l) => [l.item, l.qty]), [[a.id, 1], [b.id, 2]]);
    assert.deepEqual([after.accepted - before.accepted, after.duplicate - before.duplicate], [0, 1], 'stored once');
    // With a write key among its settings, the pixel's batch carries it; without, none.
    assert.equal(sent[0].key, undefined);
    tailorPixel({
      analytics: { subscribe: (name, fn) => { handlers[name] = fn; } },
      browser: { localStorage: { getItem: async () => null } },
      settings: { site: 'demo', endpoint: env.server.base, key: 'pk_test_1' },
    });
    assert.equal(await handlers.checkout_completed(checkout), 200);
    assert.equal(sent[1].key, 'pk_test_1');
  } finally {
    globalThis.fetch = realFetch;
  }
});
