// The golden snapshot fixture, read by the JS reader of the format (tests/e2e/harness.mjs):
// the same bytes tailor-core and the wasm engine are tested against.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeSnapshot, ROOT } from './harness.mjs';

const dir = path.join(ROOT, 'tests/fixtures');

test('the golden snapshot decodes to the documented items and popularity', () => {
  const described = JSON.parse(readFileSync(path.join(dir, 'snapshot-v4-small.json'), 'utf8'));
  const snap = decodeSnapshot(readFileSync(path.join(dir, 'snapshot-v4-small.bin')));
  assert.equal(snap.catalogVersion, BigInt(described.catalog_version));
  assert.deepEqual(
    [...snap.scores.entries()],
    described.items.map((i) => [String(i.id), i.popularity]),
  );
});

test('the JS reader rejects a flipped byte and a truncation', () => {
  const bytes = readFileSync(path.join(dir, 'snapshot-v4-small.bin'));
  const flipped = Buffer.from(bytes);
  flipped[20] ^= 1;
  assert.throws(() => decodeSnapshot(flipped), /checksum/);
  assert.throws(() => decodeSnapshot(bytes.subarray(0, 10)), /too short/);
});
