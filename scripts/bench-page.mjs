// Our main-thread time per page view in headless Chromium, against a real `tailor serve`:
// the demo's collection page (48-card grid) and product page (three recommendation slots), for a
// first visit (nothing cached) and a returning visit (snapshot from the Cache API), unthrottled
// and at 4x CPU throttling (DevTools Emulation.setCPUThrottlingRate).
//
// Two readings per page view:
// - "ours (profile)": V8's sampling profiler (100 µs) on the page's main thread, from navigation
//   until 1.5 s after the loader reports ready (SETTLE_MS): every sample whose stack holds a
//   frame of our script or our wasm, continuations after an await, timers and the first event
//   batch included. Work without a JavaScript stack (garbage collection, the browser feeding
//   the streamed wasm to the compiler, style and layout after our DOM moves) is not in it,
//   and the profiler's own cost is (see PROFILER below): "page busy" with BASELINE=1 is the
//   fuller measure.
// - the loader's User Timing entries, as a breakdown: `tailor:eval` (the script's synchronous
//   start), `tailor:decode` (reading the worker's answer and instantiating its module, then
//   Engine.init and the event delivery's set-up), `tailor:apply` (the loader's wiring once the
//   engine runs; then page detection, tracking, ranking, DOM moves; then slots, banners and the
//   `ready` state) and `tailor:later` (our later tasks until the end of the page view: saving
//   the profile and the queue, impressions, the first event batch and its answer). "all spans"
//   is their sum, per page view: the issue's measure of our main-thread time. What no span can
//   hold (compiling the script before its first line runs) only a trace shows: TRACE_LITE and
//   scripts/trace-cpu.mjs, "the tasks holding them, whole".
// - "page busy": Chromium's own count of the page's main-thread task time (DevTools
//   Performance.getMetrics, TaskDuration) from the tab's start until the end of the page view:
//   the page's own work and ours, style, layout and paint included, with no profiler needed.
//   With BASELINE=1 the same pages are also loaded with an empty tailor.js (the same tag,
//   nothing runs), and the difference of the medians is everything our script costs the page,
//   including the style, layout and paint our changes cause, which no JavaScript stack shows.
//   Both kinds of page are measured until 1.5 s after their load event (ours also after the
//   loader reports ready). The counts are wall time, so on a machine with few cores the
//   worker's compile threads competing with the page count too; and the product page's
//   baseline has empty slots where ours renders recommendations. With BASELINE the profiler is
//   off (PROFILER=on turns it back on): its own cost lands on the page
//   (it logs every function V8 compiles, and every wasm function when the page receives the
//   worker's module).
// Then the longest long task (> 50 ms) of the page, ours or not, and the longest one that holds one
// of our User Timing spans (any of them); in how many page views the
// worker finished its warm-up before the page needed the engine (js/loader.js, `agent`); and
// when the first `tailor:apply` span began (the loader's wiring, just before the page's changes;
// ms after navigation; the anti-flicker rules reveal the page at
// 300 ms, after which the grid is no longer reordered; see KEEP_REVEAL below); and in how many
// page views the grid was reordered (the product page has no grid: 0).
//
// Chromium is driven over a raw DevTools pipe, not Playwright: Playwright turns on the Network
// domain, and then Chromium captures a JavaScript stack trace (with source positions, which
// means re-parsing the functions on the stack) for every request a script starts. That is
// DevTools' cost, not a shopper's, and it used to add several ms to every fetch() we make.
//
//   make build && cargo build --release -p tailor-server && node scripts/bench-page.mjs
//   RUNS=5 (page views per cell, 7 by default), RATES=4 (only 4x), PRODUCTS=500 (catalog size), DISTS=a,b (builds side by side, e.g. a saved dist/ and the
//   current one: each has its own server and page views alternate, so noise falls on both),
//   PROFILE_TOP=30 (per cell, the 30 functions with the most self time in our samples; an
//   unminified build names them), CHROMIUM_FLAGS='--js-flags=...' (flags for Chromium),
//   VISITS='first visit,returning,third page' (which page views: a first visit, the second page
//   view, the third: Chromium keeps V8's code cache for a script it has loaded twice, in a
//   profile on disk only: see CONTEXT),
//   BASELINE=1 and PROFILER=off (see "page busy" above).
//   The output begins with the host's speed (`hostScore`): a fixed script's time in a blank page
//   after the page views, to compare runs made at different hours.
//   CROSS=1: the loader comes from another origin than the pages (localhost against
//   127.0.0.1), as on a real store, so its worker starts from a blob:. CROSS=0,1: a flag for
//   each build of DISTS (e.g. DISTS=dist,/tmp/dist-copy: the same build both ways).
//   CONTEXT=default: the page views run in the browser's default profile, on disk, emptied of
//   the test origin's data and of the HTTP cache before each run, instead of a fresh incognito
//   context each. An incognito context keeps no V8 code cache, so there a "third page" compiles
//   the loader again; in a shopper's profile the second page view produces the code cache (in
//   the script's task) and the third consumes it (off the main thread). TRACE_CATS=v8 adds
//   V8's events (compile, produceCache) to a TRACE_LITE trace.
//   TRACE=dir writes a Chrome trace of each measured page view (TRACE_HIRES=1: V8's samples
//   every 100 µs instead of every ms), which `node scripts/trace-spans.mjs dir/*.json` breaks
//   down per span: trace events (wasm compilation, garbage collection, style) and the sampled
//   functions. Tracing costs the page time of its own: compare spans without it.
//   TRACE_LITE=1 records only the tasks and User Timing (next to no cost), for
//   `node scripts/trace-cpu.mjs dir/*.json`: each span's wall time and the part of it the main
//   thread was on a CPU. Trace files are named by build, so DISTS=a,b compares them span by span.
//   SPANS=1 prints each of our User Timing spans on its own, in order (the median of each: the
//   script's start, the worker's start, the worker's answer with the module's instantiation,
//   Engine.init, the page's changes, one task each, then the later tasks summed), and the later
//   tasks by what they were (`save`, `send`, `answer`, `shown`, `restore`, ...).
//   FLOOR=1 adds one more build, scripts/bench-floor.js: the same page changes in plain
//   JavaScript with the decisions already made (no engine, wasm, worker, storage or events), a
//   floor for what any script making them costs. FLOOR=worker adds its variant whose decisions
//   come from a worker (a JavaScript DOM layer fed by a worker that holds the engine), and
//   FLOOR=1,worker both.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root, demoStore, serve } from './bench-server.mjs';

const dists = (process.env.DISTS || 'dist').split(',').map((d) => path.resolve(root, d));
const dir = mkdtempSync(path.join(tmpdir(), 'tailor-bench-page-'));
// BASELINE=1: one more build, whose tailor.js is empty (the same pages, the same script tag,
// nothing runs), so that "page busy" can be compared with the page's own work.
const empty = path.join(dir, 'no-script');
if (process.env.BASELINE) {
  mkdirSync(empty);
  writeFileSync(path.join(empty, 'tailor.js'), '');
  dists.push(empty);
}
// FLOOR=1, FLOOR=worker or FLOOR=1,worker: the floors (scripts/bench-floor.js).
const floors = {};
const floorKinds = [...new Set((process.env.FLOOR || '').split(',').filter(Boolean))];
for (const kind of floorKinds) if (!['1', 'worker'].includes(kind)) throw new Error(`FLOOR: "${kind}" is not 1 or worker`);
for (const kind of floorKinds) {
  const worker = kind === 'worker';
  const d = path.join(dir, worker ? 'floor-worker' : 'floor');
  mkdirSync(d);
  const code = readFileSync(path.join(root, 'scripts/bench-floor.js'), 'utf8');
  writeFileSync(path.join(d, 'tailor.js'), worker ? `window.__floorWorker = 1;\n${code}` : code);
  if (worker) writeFileSync(path.join(d, 'tailor.worker.js'), readFileSync(path.join(root, 'scripts/bench-floor-worker.js')));
  floors[d] = worker ? 'floor, decisions from a worker' : 'floor (DOM only)';
  dists.push(d);
}
const label = (d) => (d === empty ? 'no script' : floors[d]) || path.relative(root, d) || '.';
// The profiler's own cost lands on the page, more on ours than on an empty script's: with
// BASELINE it is off unless PROFILER=on asks for it.
const PROFILING = process.env.PROFILER ? process.env.PROFILER !== 'off' : !process.env.BASELINE;
const VISITS = (process.env.VISITS || 'first visit,returning').split(',');
for (const v of VISITS) if (!['first visit', 'returning', 'third page'].includes(v)) throw new Error(`VISITS: "${v}" is not first visit, returning or third page`);
// PRODUCTS=500: a store with the 500 most ordered products of the same UCI data (the demo has
// 300; scripts/bench-server.mjs).
const www = demoStore(dir, process.env.PRODUCTS, !process.env.KEEP_REVEAL);
// The anti-flicker rules reveal the page at 300 ms, and a loader that is later than that no
// longer reorders the grid (js/loader.js, `late`). On this machine at 4x that is most first
// visits, and a skipped reorder is work not measured, so the deadline is lifted here
// (KEEP_REVEAL=1 keeps it): every page view below includes the ranking and the DOM moves. It is
// lifted in the pages' markup, a `<style>` setting the variable the loader reads (the CSS
// animation's own `.3s` stays: the pages are still revealed by CSS at 300 ms, and only the
// loader's `late` is lifted). (A script setting it through
// `documentElement.style` made Chromium set up the page's CSSStyleDeclaration bindings before
// the loader ran, a first use that is the loader's to pay on a page whose scripts never touch
// styles. The wiring span measured the same either way: BENCHMARKS.md, "a fourteenth round".)
if (!process.env.KEEP_REVEAL) {
  for (const f of readdirSync(www).filter((n) => n.endsWith('.html'))) {
    const file = path.join(www, f);
    writeFileSync(file, readFileSync(file, 'utf8').replace('</head>', '<style>html{--tailor-reveal-ms:60000}</style></head>'));
  }
}
// CROSS=1: the pages load the loader from another origin, as a store does (the script tag names
// the sync server, and Shopify serves it from its CDN): the pages come from 127.0.0.1 and the
// loader, its worker, the wasm, the snapshot and the events from localhost, the same server.
// The loader then starts its worker from a blob: (js/loader.js, `agent`). Each build gets its
// own copy of the pages, which name its server's port. CROSS=0,1 (one flag a build, in the order
// of DISTS) puts builds side by side with and without it.
// VERSIONED=1 (or a flag a build, as CROSS) loads the versioned build (tailor-<version>.js,
// scripts/versioned.mjs) across origins, the tag the integration guide shows: it pins its worker,
// which the page then fetches and starts from a blob: of its bytes.
const flag = (name) => {
  const flags = (process.env[name] || '').split(',');
  return (i) => (flags.length > 1 ? flags[i] : flags[0]) === '1';
};
const versioned = flag('VERSIONED');
const cross = (i) => flag('CROSS')(i) || versioned(i);
const servers = [];
const bases = [];
for (const [i, dist] of dists.entries()) {
  const pages = cross(i) ? path.join(dir, `www-${i}`) : www;
  if (cross(i)) cpSync(www, pages, { recursive: true });
  // (Each builds the snapshot once, outside the measurements.)
  const { base, server } = await serve(pages, dist, path.join(dir, `b${i}.db`));
  if (cross(i)) {
    const other = base.replace('127.0.0.1', 'localhost');
    for (const f of readdirSync(pages).filter((n) => n.endsWith('.html'))) {
      const file = path.join(pages, f);
      const loader = versioned(i) ? readdirSync(dist).find((n) => /^tailor-[\d.]+\.js$/.test(n)) : 'tailor.js';
      writeFileSync(file, readFileSync(file, 'utf8').replace('src="/tailor.js"', `src="${other}/${loader}"`).replace('data-endpoint="/"', `data-endpoint="${other}/"`));
    }
  }
  servers.push(server);
  bases.push(base);
}
const catalog = JSON.parse(readFileSync(path.join(www, 'catalog.json'), 'utf8'));
const product = catalog.products[0];

// The DevTools protocol over --remote-debugging-pipe: JSON messages separated by NUL bytes on
// file descriptors 3 (to the browser) and 4 (from it).
const browser = spawn('/usr/bin/chromium', [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--remote-debugging-pipe',
  `--user-data-dir=${path.join(dir, 'profile')}`, ...(process.env.CHROMIUM_FLAGS || '').split(' ').filter(Boolean), 'about:blank',
], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
const pending = new Map();
let lastId = 0;
// TRACE=dir: a Chrome trace of each measured page view (devtools.timeline, V8, User Timing),
// one JSON file per page view, for chrome://tracing, Perfetto or scripts/trace-spans.mjs.
const TRACE = process.env.TRACE ? path.resolve(process.env.TRACE) : null;
if (TRACE) mkdirSync(TRACE, { recursive: true });
let traceEvents = [];
let traceDone = null;
let traceCount = 0;
let inbox = '';
browser.stdio[4].setEncoding('utf8');
browser.stdio[4].on('data', (chunk) => {
  inbox += chunk;
  for (let i = inbox.indexOf('\0'); i >= 0; i = inbox.indexOf('\0')) {
    const msg = JSON.parse(inbox.slice(0, i));
    inbox = inbox.slice(i + 1);
    if (msg.method === 'Tracing.dataCollected') traceEvents.push(...msg.params.value);
    if (msg.method === 'Tracing.tracingComplete') traceDone?.();
    const waiting = msg.id && pending.get(msg.id);
    if (!waiting) continue;
    pending.delete(msg.id);
    if (msg.error) waiting.reject(new Error(`${waiting.method}: ${msg.error.message}`));
    else waiting.resolve(msg.result);
  }
});
const send = (method, params = {}, sessionId = undefined) => new Promise((resolve, reject) => {
  const id = ++lastId;
  pending.set(id, { resolve, reject, method });
  browser.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + '\0');
});
const evaluate = async (session, expression) => {
  const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, session);
  if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.text} ${expression.slice(0, 80)}`);
  return r.result.value;
};

const RUNS = Number(process.env.RUNS || 7);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const ours = /\/tailor[^/]*\.(js|wasm)$/;

// Milliseconds of profile samples with a frame of ours on the stack.
function ourTime(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const mine = new Map();
  const isOurs = (id) => {
    if (mine.has(id)) return mine.get(id);
    const n = byId.get(id);
    const v = ours.test(n.callFrame.url) || (parent.has(id) && isOurs(parent.get(id)));
    mine.set(id, v);
    return v;
  };
  let us = 0;
  for (let k = 0; k < profile.samples.length; k++) {
    const id = profile.samples[k];
    if (!isOurs(id)) continue;
    const dt = profile.timeDeltas[k + 1] || 0;
    us += dt;
    if (top) {
      // PROFILE_TOP=N: the N functions with the most self time, in samples of ours.
      const f = byId.get(id).callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}:${f.columnNumber}`;
      top.set(key, (top.get(key) || 0) + dt / 1000);
    }
  }
  return us / 1000;
}
const TOP = Number(process.env.PROFILE_TOP || 0);
const f = (x) => x.toFixed(1);
let top = null;
// The build of the page view being measured, in its trace file's name.
let traceTag = '';

const SHARED = process.env.CONTEXT === 'default';
async function clearAll(base) {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId: s } = await send('Target.attachToTarget', { targetId, flatten: true });
  await send('Network.enable', {}, s);
  await send('Network.clearBrowserCache', {}, s);
  await send('Storage.clearDataForOrigin', { origin: new URL(base).origin, storageTypes: 'all' }, s);
  await send('Target.closeTarget', { targetId });
}

async function visit(context, url, rate, linger = 0, ourScript = true) {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank', browserContextId: context });
  const { sessionId: s } = await send('Target.attachToTarget', { targetId, flatten: true });
  await send('Emulation.setCPUThrottlingRate', { rate }, s);
  await send('Page.enable', {}, s);
  await send('Page.addScriptToEvaluateOnNewDocument', {
    // (The reveal deadline is lifted in the pages themselves: above.)
    source: `window.__tailorTest = true; window.__long = [];
      document.addEventListener('tailor:ready', (e) => { window.__moved = e.detail.moved; });
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push([e.startTime, e.duration]); }).observe({ type: 'longtask', buffered: true });`,
  }, s);
  // The page's main-thread task time (Chromium's own count, no profiler involved).
  await send('Performance.enable', {}, s);
  if (PROFILING) {
    await send('Profiler.enable', {}, s);
    await send('Profiler.setSamplingInterval', { interval: 100 }, s);
    await send('Profiler.start', {}, s);
  }
  const tracing = TRACE && !linger && ourScript;
  if (tracing) {
    traceEvents = [];
    // TRACE_LITE=1: only the tasks (with their thread time, `tdur`) and User Timing, which
    // costs the page next to nothing: `node scripts/trace-cpu.mjs` compares wall and CPU time.
    const lite = ['toplevel', 'blink.user_timing', ...(process.env.TRACE_CATS || '').split(',').filter(Boolean)];
    await send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: process.env.TRACE_LITE ? lite : ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'v8', 'v8.execute', 'disabled-by-default-v8.compile', 'blink', 'loading', 'v8.wasm', 'disabled-by-default-v8.wasm.detailed', 'disabled-by-default-v8.gc', 'disabled-by-default-v8.cpu_profiler', ...(process.env.TRACE_HIRES ? ['disabled-by-default-v8.cpu_profiler.hires'] : [])] } });
  }
  await send('Page.navigate', { url }, s);
  // Until the loader reports ready (or failed); an evaluation that lands before the new page
  // commits is simply repeated.
  for (let tries = 0; ; tries++) {
    if (tries > 300) throw new Error(`the loader never finished on ${url}`);
    const done = await evaluate(s, `location.href === ${JSON.stringify(url)} && new Promise((resolve) => {
      // Both kinds of page wait for the load event; ours for the loader's state too.
      const done = () => document.readyState === 'complete' && (${JSON.stringify(!ourScript)} || ['ready', 'failed'].includes(document.documentElement.dataset.tailor));
      addEventListener('load', () => setTimeout(() => { if (done()) resolve(true); }));
      if (done()) resolve(true);
      new MutationObserver(() => { if (done()) resolve(true); }).observe(document.documentElement, { attributes: true });
      setTimeout(() => resolve(false), 100);
    })`).catch(() => false);
    if (done) break;
  }
  // Then a while longer, so what the loader does after it is ready (the first batch of events
  // goes after a second) counts too.
  await new Promise((r) => setTimeout(r, Number(process.env.SETTLE_MS ?? 1500)));
  const { profile } = PROFILING ? await send('Profiler.stop', {}, s) : {};
  if (tracing) {
    const complete = new Promise((r) => { traceDone = r; });
    await send('Tracing.end');
    await complete;
    const file = path.join(TRACE, `${String(++traceCount).padStart(3, '0')}-${traceTag}-${url.split('/').pop()}-${rate}x.json`);
    writeFileSync(file, JSON.stringify({ traceEvents }));
  }
  const { metrics } = await send('Performance.getMetrics', {}, s);
  const busy = 1000 * metrics.find((m) => m.name === 'TaskDuration').value;
  if (linger) await new Promise((r) => setTimeout(r, linger));
  const r = await evaluate(s, `(() => {
    const get = (n) => performance.getEntriesByName(n, 'measure').reduce((a, e) => a + e.duration, 0);
    return { state: document.documentElement.dataset.tailor, eval: get('tailor:eval'), decode: get('tailor:decode'), apply: get('tailor:apply'), later: get('tailor:later'), longest: Math.max(0, ...window.__long.map((t) => t[1])),
      // A long task that contains one of our User Timing spans is ours.
      ourLongest: Math.max(0, ...window.__long.filter(([start, d]) => performance.getEntriesByType('measure').some((m) => m.name.startsWith('tailor:') && m.startTime < start + d && m.startTime + m.duration > start)).map((t) => t[1])),
      spans: [...performance.getEntriesByType('measure').filter((m) => m.name.startsWith('tailor:') && m.name !== 'tailor:later').map((m) => [m.name, m.duration]), ['tailor:later', get('tailor:later')]],
      laters: performance.getEntriesByName('tailor:later', 'measure').reduce((o, m) => ({ ...o, [m.detail]: (o[m.detail] || 0) + m.duration }), {}),
      warmed: performance.getEntriesByName('tailor:warmed').length, moved: window.__moved || 0, ready: performance.getEntriesByName('tailor:apply', 'measure').map((e) => e.startTime)[0] || 0 };
  })()`);
  await send('Target.closeTarget', { targetId });
  if (ourScript && r.state !== 'ready') throw new Error(`engine did not start on ${url}`);
  return { ...r, busy, total: profile ? ourTime(profile) : NaN };
}

// The host's speed: this machine's hours differ (other work on it, another CPU), and a
// measure at 4x is four times whatever the host does. A fixed piece of JavaScript (allocation,
// strings, a sort, a map) in a blank page, unthrottled, after the page views (before them the
// servers and the browser are still starting): the median of 7 runs after one to warm up, ms.
// Lower is faster; compare runs by it before comparing their spans.
async function hostScore() {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId: s } = await send('Target.attachToTarget', { targetId, flatten: true });
  const times = await evaluate(s, `(() => {
    const work = () => {
      const t0 = performance.now();
      const items = [];
      for (let i = 0; i < 200000; i++) items.push({ k: (i * 7919) % 10007, title: 'item ' + i });
      items.sort((a, b) => a.k - b.k || (a.title < b.title ? -1 : 1));
      const counts = new Map();
      let chars = 0;
      for (const it of items) { chars += it.title.length; counts.set(it.k % 4999, (counts.get(it.k % 4999) || 0) + 1); }
      return [performance.now() - t0, chars + counts.size];
    };
    work();
    return Array.from({ length: 7 }, () => work()[0]);
  })()`);
  await send('Target.closeTarget', { targetId });
  return median(times);
}
const rows = [];
for (const [name, pathname] of [['collection (48 cards)', '/collection.html'], ['product (3 slots)', `/products/${product.handle}`]]) {
  for (const rate of (process.env.RATES || '1,4').split(',').map(Number)) {
    for (const kind of VISITS) {
      const runs = dists.map(() => []);
      top = TOP ? new Map() : null;
      for (let i = 0; i < RUNS; i++) {
        for (const [v, base] of bases.entries()) {
          // (CONTEXT=default: see the header.)
          const context = SHARED ? undefined : (await send('Target.createBrowserContext')).browserContextId;
          if (SHARED) await clearAll(base);
          // A returning shopper's earlier page stayed open a while: long enough for Chromium to
          // keep V8's compiled code for the engine next to its HTTP cache entry.
          // A third page view: in a shopper's profile (CONTEXT=default) Chromium keeps V8's code
          // cache for a script it has loaded twice, so from the third page on the loader is not
          // compiled again; an incognito context keeps none.
          for (let earlier = { returning: 1, 'third page': 2 }[kind] || 0; earlier > 0; earlier--) {
            const counting = top;
            top = null;
            await visit(context, base + pathname, rate, Number(process.env.LINGER_MS ?? 3000), dists[v] !== empty);
            top = counting;
          }
          traceTag = path.basename(dists[v]);
          runs[v].push(await visit(context, base + pathname, rate, 0, dists[v] !== empty));
          if (!SHARED) await send('Target.disposeBrowserContext', { browserContextId: context });
        }
      }
      if (top) {
        console.log(`\n${name} ${rate}x ${kind}: self ms per page view (all builds together)`);
        for (const [k, ms] of [...top].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${(ms / RUNS / dists.filter((d) => d !== empty).length).toFixed(2).padStart(7)}  ${k}`);
      }
      for (const [v, rs] of runs.entries()) {
        const m = (k) => median(rs.map((r) => r[k]));
        // SPANS=1: each of our User Timing spans on its own, in order (median of each position).
        if (process.env.SPANS) {
          const n = Math.max(...rs.map((r) => r.spans.length));
          const each = Array.from({ length: n }, (_, i) => `${rs.find((r) => r.spans[i])?.spans[i][0].slice(7)} ${f(median(rs.filter((r) => r.spans[i]).map((r) => r.spans[i][1])))}`);
          console.log(`spans, ${label(dists[v])}, ${name} ${rate}x ${kind}: ${each.join(' | ')}`);
          // The later tasks by what they were (their detail), the median of each page view's sum.
          const kinds = [...new Set(rs.flatMap((r) => Object.keys(r.laters || {})))];
          console.log(`  later tasks: ${kinds.map((k) => `${k} ${f(median(rs.map((r) => (r.laters || {})[k] || 0)))}`).join(' | ')}`);
        }
        rows.push([label(dists[v]), name, `${rate}x`, kind, m('eval'), m('decode'), m('apply'), m('total'), Math.max(...rs.map((r) => r.longest)), Math.max(...rs.map((r) => r.ourLongest)), `${rs.filter((r) => r.warmed).length}/${rs.length}`, m('ready'), `${rs.filter((r) => r.moved > 0).length}/${rs.length}`, m('busy'), m('later'), median(rs.map((r) => r.eval + r.decode + r.apply + r.later))]);
      }
    }
  }
}
const hostAfter = await hostScore();
browser.kill();
for (const server of servers) server.kill('SIGINT');
const many = dists.length > 1;
console.log(`median of ${RUNS} page views each, ${catalog.products.length}-product catalog; ms on the main thread`);
console.log(`host: a fixed script took ${f(hostAfter)} ms after the page views (unthrottled, median of 7; lower is faster)`);
console.log(`|${many ? ' build |' : ''} page | CPU | visit | script eval | decode | rank + DOM | later tasks | all spans | ours, total (profile) | page busy | longest long task (any) | longest long task with a span of ours | worker warm-up done | page changed at (ms) | grid reordered |`);
console.log(`|${many ? '---|' : ''}---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
for (const r of rows) console.log(`|${many ? ` ${r[0]} |` : ''} ${r[1]} | ${r[2]} | ${r[3]} | ${f(r[4])} | ${f(r[5])} | ${f(r[6])} | ${f(r[14])} | **${f(r[15])}** | ${PROFILING ? f(r[7]) : 'off'} | ${f(r[13])} | ${f(r[8])} | ${f(r[9])} | ${r[10]} | ${f(r[11])} | ${r[12]} |`);
// Page busy with a build, less page busy without a script (medians of each), per cell.
if (process.env.BASELINE) {
  console.log('\npage busy with the build, less page busy with the empty script (difference of medians, ms)');
  console.log('| build | page | CPU | visit | difference |');
  console.log('|---|---|---|---|---:|');
  for (const r of rows) {
    const b = rows.find((x) => x[0] === 'no script' && x[1] === r[1] && x[2] === r[2] && x[3] === r[3]);
    if (r[0] !== 'no script') console.log(`| ${r[0]} | ${r[1]} | ${r[2]} | ${r[3]} | **${f(r[13] - b[13])}** |`);
  }
}
