// What our User Timing spans hold, from Chrome traces written by `TRACE=dir node scripts/bench-page.mjs`.
// For each `tailor:*` span on the page's main thread, averaged over the traces given:
// - events: the trace events inside it by self time (time not covered by an event nested in
//   it); "(no event)" is the span's time outside every event, mostly JavaScript and wasm;
// - samples: V8's CPU samples inside it by the function on top of the stack (each weighs the
//   time to the next sample), which names that JavaScript and wasm (an unminified build with
//   the wasm's names, scripts/build-profiling.sh, names more).
// The two lists are two views of the same time: do not add them up.
//
//   node scripts/trace-spans.mjs /tmp/traces/*product*.json   [TOP=15]
import { readFileSync } from 'node:fs';

const TOP = Number(process.env.TOP || 15);
const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node scripts/trace-spans.mjs TRACE.json...');
  process.exit(1);
}
const ms = (us) => us / 1000;
const bump = (map, key, value) => map.set(key, (map.get(key) || 0) + value);
// span label -> { ms, n, events: Map(name -> ms), samples: Map(function -> ms) }
const totals = new Map();
for (const file of files) {
  const trace = JSON.parse(readFileSync(file, 'utf8')).traceEvents;
  const timing = trace.filter((e) => e.cat?.includes('blink.user_timing') && e.name.startsWith('tailor:'));
  const begins = timing.filter((e) => e.ph === 'b');
  if (!begins.length) continue;
  // The page's main thread: the renderer whose User Timing spans are ours.
  const { pid } = begins[0];
  const tid = trace.find((e) => e.pid === pid && e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain')?.tid;
  const id = (e) => JSON.stringify(e.id2 ?? e.id);
  const spans = begins.map((b) => {
    const end = timing.find((e) => e.ph === 'e' && e.name === b.name && id(e) === id(b) && e.ts >= b.ts);
    return end && { name: b.name, detail: b.args?.data?.detail ?? '', start: b.ts, end: end.ts };
  }).filter(Boolean).sort((a, b) => a.start - b.start);
  const slices = trace.filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && e.dur > 0).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  // The main thread's CPU profile (category disabled-by-default-v8.cpu_profiler): each sample's
  // time and the function on top of its stack.
  const samples = [];
  const profile = trace.find((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid);
  if (profile) {
    const frames = new Map();
    let t = profile.args.data.startTime;
    for (const chunk of trace.filter((e) => e.name === 'ProfileChunk' && e.pid === pid && e.id === profile.id)) {
      const d = chunk.args.data;
      for (const node of d.cpuProfile?.nodes || []) {
        const f = node.callFrame;
        const where = f.url ? ` ${f.url.split('/').pop().split('?')[0]}:${(f.lineNumber ?? -1) + 1}` : '';
        frames.set(node.id, `${f.functionName || '(anonymous)'}${where}`);
      }
      for (const [k, node] of (d.cpuProfile?.samples || []).entries()) {
        t += d.timeDeltas[k];
        samples.push([t, node]);
      }
    }
    for (const s of samples) s[1] = frames.get(s[1]) || '?';
    samples.sort((a, b) => a[0] - b[0]);
  }
  const seen = new Map();
  for (const s of spans) {
    seen.set(s.name, (seen.get(s.name) || 0) + 1);
    const label = s.name === 'tailor:later' ? `${s.name} ${String(s.detail).replace(/"/g, '')}` : `${s.name} #${seen.get(s.name)}`;
    const t = totals.get(label) || { ms: 0, n: 0, events: new Map(), samples: new Map() };
    t.ms += ms(s.end - s.start);
    t.n += 1;
    // Self time by nesting: an event inside another is its child; top-level events cover the span.
    const inside = slices.filter((e) => e.ts >= s.start && e.ts + e.dur <= s.end);
    const open = [];
    const children = new Map();
    let covered = 0;
    for (const e of inside) {
      while (open.length && open.at(-1).ts + open.at(-1).dur <= e.ts) open.pop();
      if (open.length) bump(children, open.at(-1), e.dur);
      else covered += e.dur;
      open.push(e);
    }
    for (const e of inside) bump(t.events, e.name, ms(e.dur - (children.get(e) || 0)));
    bump(t.events, '(no event)', ms(Math.max(0, s.end - s.start - covered)));
    for (let k = 0; k + 1 < samples.length; k++) {
      const [at, frame] = samples[k];
      if (at >= s.start && at < s.end) bump(t.samples, frame, ms(Math.min(samples[k + 1][0], s.end) - at));
    }
    totals.set(label, t);
  }
}
const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP).filter(([, v]) => v / n >= 0.05);
for (const [label, t] of totals) {
  console.log(`\n${label}: ${(t.ms / t.n).toFixed(2)} ms (mean of ${t.n})`);
  for (const [what, map] of [['events', t.events], ['samples', t.samples]]) {
    if (!map.size) continue;
    console.log(`  ${what}:`);
    for (const [k, v] of top(map, t.n)) console.log(`  ${(v / t.n).toFixed(2).padStart(7)}  ${k}`);
  }
}
