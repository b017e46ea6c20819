// What our User Timing spans hold, from Chrome traces written by `TRACE=dir node scripts/bench-page.mjs`:
// for each `tailor:*` span on the page's main thread, the trace events inside it by self time
// (time not covered by a nested event), summed over the traces given.
//
//   node scripts/trace-spans.mjs /tmp/traces/*product*.json   [TOP=15]
import { readFileSync } from 'node:fs';

const TOP = Number(process.env.TOP || 15);
const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node scripts/trace-spans.mjs TRACE.json...');
  process.exit(1);
}
const totals = new Map(); // span label -> { ms, n, self: Map(name -> ms) }
for (const file of files) {
  const events = JSON.parse(readFileSync(file, 'utf8')).traceEvents;
  // The page's main thread: the one whose User Timing marks are ours.
  const measures = events.filter((e) => e.cat?.includes('blink.user_timing') && e.name.startsWith('tailor:') && (e.ph === 'b' || e.ph === 'e'));
  const begins = measures.filter((e) => e.ph === 'b');
  if (!begins.length) continue;
  const { pid } = begins[0];
  const main = events.find((e) => e.pid === pid && e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain');
  const tid = main?.tid;
  const spans = [];
  for (const b of begins) {
    const e = measures.find((x) => x.ph === 'e' && x.id2?.local === b.id2?.local && x.name === b.name && x.ts >= b.ts && (x.id === b.id));
    if (e) spans.push({ name: b.name, detail: b.args?.data?.detail ?? '', start: b.ts, end: e.ts });
  }
  spans.sort((a, b) => a.start - b.start);
  const xs = events.filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && e.dur > 0).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  // The main thread's CPU profile (category disabled-by-default-v8.cpu_profiler): each sample's
  // time and the function on top of its stack.
  const profile = events.find((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid);
  const samples = [];
  if (profile) {
    const frames = new Map();
    let t = profile.args.data.startTime;
    for (const c of events.filter((e) => e.name === 'ProfileChunk' && e.pid === pid && e.id === profile.id)) {
      const d = c.args.data;
      for (const n of d.cpuProfile?.nodes || []) {
        const f = n.callFrame;
        const where = f.url ? ` ${f.url.split('/').pop().split('?')[0]}:${(f.lineNumber ?? -1) + 1}` : '';
        frames.set(n.id, `${f.functionName || '(anonymous)'}${where}`);
      }
      const ids = d.cpuProfile?.samples || [];
      for (const [k, id] of ids.entries()) {
        t += d.timeDeltas[k];
        samples.push([t, id]);
      }
    }
    for (const sm of samples) sm[1] = frames.get(sm[1]) || '?';
    samples.sort((a, b) => a[0] - b[0]);
  }
  const counts = new Map();
  for (const s of spans) {
    const k = `${s.name}`;
    counts.set(k, (counts.get(k) || 0) + 1);
    const label = s.name === 'tailor:later' ? `${s.name} ${String(s.detail).replace(/"/g, '')}` : `${s.name} #${counts.get(k)}`;
    const inside = xs.filter((e) => e.ts >= s.start && e.ts + e.dur <= s.end);
    const self = new Map();
    // Self time: each event's duration less its direct children's (nesting by containment).
    const stack = [];
    const add = (e, ms) => self.set(e.name, (self.get(e.name) || 0) + ms);
    for (const e of inside) {
      while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
      if (stack.length) stack.at(-1).child += e.dur;
      e.child = 0;
      stack.push(e);
    }
    for (const e of inside) add(e, (e.dur - e.child) / 1000);
    const covered = inside.filter((e) => !inside.some((p) => p !== e && p.ts <= e.ts && p.ts + p.dur >= e.ts + e.dur)).reduce((a, e) => a + e.dur, 0);
    add({ name: '(no event)' }, Math.max(0, (s.end - s.start - covered) / 1000));
    // Samples inside the span, as "js: function": the interval to the next sample is its weight.
    for (let k = 0; k + 1 < samples.length; k++) {
      const [at, frame] = samples[k];
      if (at < s.start || at >= s.end) continue;
      const w = (Math.min(samples[k + 1][0], s.end) - at) / 1000;
      add({ name: `js: ${frame}` }, w);
    }
    const t = totals.get(label) || { ms: 0, n: 0, self: new Map() };
    t.ms += (s.end - s.start) / 1000;
    t.n += 1;
    for (const [k, v] of self) t.self.set(k, (t.self.get(k) || 0) + v);
    totals.set(label, t);
  }
}
for (const [label, t] of totals) {
  console.log(`\n${label}: ${(t.ms / t.n).toFixed(2)} ms (mean of ${t.n})`);
  for (const [k, v] of [...t.self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) if (v / t.n >= 0.05) console.log(`  ${(v / t.n).toFixed(2).padStart(7)}  ${k}`);
}
