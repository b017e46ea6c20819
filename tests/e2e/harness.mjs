// Shared plumbing for the end-to-end tests: a real `tailor serve` on 127.0.0.1 with a fresh
// SQLite file, and a real headless Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.TAILOR_BIN || path.join(ROOT, 'target/debug/tailor');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Start `tailor serve` on a free port with a new database. Resolves once it listens. */
export async function startServer(extraArgs = []) {
  if (!existsSync(BIN)) throw new Error(`server binary ${BIN} not found: run cargo build -p tailor-server`);
  const dir = mkdtempSync(path.join(tmpdir(), 'tailor-e2e-'));
  const child = spawn(
    BIN,
    ['serve', '--addr', '127.0.0.1:0', '--db', path.join(dir, 'events.db'), ...extraArgs],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const base = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) resolve(m[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => (output += c));
    child.on('exit', (code) => reject(new Error(`tailor serve exited with ${code} before listening:\n${output}`)));
  });
  return {
    base,
    output: () => output,
    async stop() {
      child.kill('SIGINT');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/bootstrap.sh`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Collect console errors and uncaught page errors. */
export function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/**
 * An independent reader of snapshot format version 1 (docs/snapshot-format.md), written from
 * the spec rather than from the Rust code: it checks the spec and the encoder agree.
 */
export function decodeSnapshot(buf) {
  const b = Buffer.from(buf);
  if (b.subarray(0, 4).toString('latin1') !== 'TLSN') throw new Error('bad magic');
  if (b.readUInt16LE(4) !== 1) throw new Error('bad version');
  const count = b.readUInt32LE(16);
  if (b.length !== 20 + 9 * count + 4) throw new Error('bad length');
  const scores = new Map();
  for (let i = 0; i < count; i++) {
    const off = 20 + 9 * i;
    scores.set(b.readBigUInt64LE(off).toString(), b[off + 8]);
  }
  return { modelKind: b[6], catalogVersion: b.readBigUInt64LE(8), scores };
}
