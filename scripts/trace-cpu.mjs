// How much of our User Timing spans' wall time the page's main thread was on a CPU, from Chrome
// traces written by `TRACE=dir TRACE_LITE=1 node scripts/bench-page.mjs` (TRACE_LITE records
// only the tasks and User Timing, so the trace costs the page next to nothing).
//
// Chrome records each task's wall time (`dur`) and the thread's CPU time (`tdur`). A span's CPU
// time is estimated from the thread's outermost slices (tasks, microtask checkpoints) it
// overlaps: each overlap times that slice's ratio of CPU to wall time. The difference
// is time the thread was runnable but not running (another process or thread had the core) or
// blocked. Under CPU throttling (Emulation.setCPUThrottlingRate) the throttler's busy-wait runs
// on the thread itself, so it counts as CPU time: there the difference is only the waiting.
// It also prints the whole of the tasks that hold our spans: what a span leaves out of its task
// (the script's compile before its first line runs) is ours too.
//
//   node scripts/trace-cpu.mjs /tmp/traces/*.json
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node scripts/trace-cpu.mjs TRACE.json...');
  process.exit(1);
}
const fmt = (us) => (us / 1000).toFixed(2);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[s.length >> 1] : 0; };
// page -> { spans: Map(label -> { wall, cpu, n }), views: [[wall, cpu]] }
const pages = new Map();
for (const file of files) {
  const trace = JSON.parse(readFileSync(file, 'utf8')).traceEvents;
  const timing = trace.filter((e) => e.cat?.includes('blink.user_timing') && e.name.startsWith('tailor:'));
  const begins = timing.filter((e) => e.ph === 'b').sort((a, b) => a.ts - b.ts);
  if (!begins.length) continue;
  const { pid } = begins[0];
  const tid = trace.find((e) => e.pid === pid && e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain')?.tid;
  // The thread's outermost slices (tasks, microtask checkpoints), each with its CPU ratio.
  const outer = [];
  for (const e of trace.filter((x) => x.pid === pid && x.tid === tid && x.ph === 'X' && x.tdur != null && x.dur > 0).sort((a, b) => a.ts - b.ts || b.dur - a.dur)) {
    const last = outer[outer.length - 1];
    if (!last || e.ts >= last.ts + last.dur) outer.push(e);
  }
  // CPU time within [from, to): each slice's overlap times its ratio; time in no slice counts
  // as CPU (nothing says otherwise).
  const cpuIn = (from, to) => {
    let cpu = 0;
    let covered = 0;
    for (const e of outer) {
      const o = Math.min(to, e.ts + e.dur) - Math.max(from, e.ts);
      if (o <= 0) continue;
      covered += o;
      cpu += o * Math.min(1, e.tdur / e.dur);
    }
    return cpu + (to - from - covered);
  };
  const id = (e) => JSON.stringify(e.id2 ?? e.id);
  const page = file.split('/').pop().replace(/^\d+-/, '').replace(/\.json$/, '');
  const p = pages.get(page) || { spans: new Map(), views: [] };
  pages.set(page, p);
  const seen = new Map();
  let wall = 0;
  let cpu = 0;
  for (const b of begins) {
    const end = timing.find((e) => e.ph === 'e' && e.name === b.name && id(e) === id(b) && e.ts >= b.ts);
    if (!end) continue;
    const n = (seen.get(b.name) || 0) + 1;
    seen.set(b.name, n);
    const label = b.name === 'tailor:later' ? `later (${b.args?.data?.detail ?? b.args?.detail ?? '?'})` : `${b.name} #${n}`;
    const w = end.ts - b.ts;
    const c = cpuIn(b.ts, end.ts);
    wall += w;
    cpu += c;
    const s = p.spans.get(label) || { wall: 0, cpu: 0, n: 0 };
    s.wall += w;
    s.cpu += c;
    s.n++;
    p.spans.set(label, s);
  }
  // The whole of every task (outermost slice) that holds a span of ours: what the spans leave
  // out of those tasks is work of ours too (compiling the script before its first line, code
  // after a span's end), next to some of the browser's own (the task's dispatch).
  const spans = begins.map((b) => [b.ts, timing.find((e) => e.ph === 'e' && e.name === b.name && id(e) === id(b) && e.ts >= b.ts)?.ts]).filter((x) => x[1]);
  let taskWall = 0;
  let taskCpu = 0;
  for (const e of outer) {
    if (!spans.some(([from, to]) => to > e.ts && from < e.ts + e.dur)) continue;
    taskWall += e.dur;
    taskCpu += Math.min(e.dur, e.tdur);
  }
  p.views.push([wall, cpu, taskWall, taskCpu]);
}
for (const [page, p] of pages) {
  console.log(`\n${page}: ${p.views.length} page views; all spans, median: wall ${fmt(median(p.views.map((v) => v[0])))} ms, on a CPU ${fmt(median(p.views.map((v) => v[1])))} ms`);
  console.log(`  the tasks holding them, whole, median: wall ${fmt(median(p.views.map((v) => v[2])))} ms, on a CPU ${fmt(median(p.views.map((v) => v[3])))} ms`);
  console.log('span                      n   wall (mean)   on a CPU (mean)');
  for (const [label, s] of p.spans) {
    console.log(`${label.padEnd(24)} ${String(s.n).padStart(3)} ${fmt(s.wall / s.n).padStart(12)} ${fmt(s.cpu / s.n).padStart(17)}`);
  }
}
