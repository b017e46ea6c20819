// The Shopify extensions as Shopify's tooling would read them, checked offline: the theme app
// extension's layout, its block's Liquid (parsed strictly by liquidjs) and {% schema %}, its
// locales, and the web pixel's configuration. Rendering the block into a page and running it in
// Chromium is tests/e2e/packaging.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Liquid } from 'liquidjs';
import { ROOT } from './harness.mjs';

const EXT = path.join(ROOT, 'extensions/shopify');
const PIXEL = path.join(ROOT, 'extensions/shopify-pixel');
const block = readFileSync(path.join(EXT, 'blocks/tailor-embed.liquid'), 'utf8');
const schema = JSON.parse(/{%\s*schema\s*%}([\s\S]*?){%\s*endschema\s*%}/.exec(block)[1]);

/** `key = "value"` lines of a TOML file, outside tables (enough for these files' top level). */
function topLevelToml(file) {
  const out = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*\[/.test(line)) break;
    const m = /^\s*([\w-]+)\s*=\s*"([^"]*)"\s*$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Look up a dotted `t:` key in a locale file's JSON. */
const lookup = (json, key) => key.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), json);

test('the theme app extension has the layout and configuration Shopify expects', () => {
  assert.deepEqual(topLevelToml(path.join(EXT, 'shopify.extension.toml')), { name: 'Tailor', type: 'theme' });
  for (const dir of ['blocks', 'assets', 'locales']) assert.ok(existsSync(path.join(EXT, dir)), dir);
  // Shopify accepts only these folders in a theme app extension.
  for (const entry of readdirSync(EXT)) assert.ok(['blocks', 'assets', 'locales', 'snippets', 'shopify.extension.toml'].includes(entry), entry);
  // The loader asset is the built loader, within Shopify's 10 KB compressed suggestion.
  const loader = readFileSync(path.join(EXT, 'assets/tailor.js'));
  assert.deepEqual(loader, readFileSync(path.join(ROOT, 'dist/tailor.js')), 'assets/tailor.js is the current build');
  assert.ok(gzipSync(loader, { level: 9 }).length <= 10240);
  // So is its worker, which the loader starts from the file next to it.
  assert.deepEqual(readFileSync(path.join(EXT, 'assets/tailor.worker.js')), readFileSync(path.join(ROOT, 'dist/tailor.worker.js')), 'assets/tailor.worker.js is the current build');
  assert.ok(!readdirSync(path.join(EXT, 'assets')).some((f) => f.endsWith('.wasm')), 'no wasm among theme assets');
});

test('the app embed block parses and its schema is valid', () => {
  // Strict parsing: an unknown tag or a malformed one fails here.
  const liquid = new Liquid({ strictFilters: true });
  // Filters Shopify adds to standard Liquid; any other unknown filter fails the parse.
  for (const name of ['asset_url', 'hmac_sha256']) liquid.registerFilter(name, (v) => v);
  liquid.registerTag('schema', { parse(_, remain) { while (remain.length && remain.shift().name !== 'endschema') { /* raw */ } }, render() { return ''; } });
  assert.doesNotThrow(() => liquid.parse(block));
  assert.equal(schema.target, 'body', 'an app embed block');
  assert.ok(!('javascript' in schema), 'the block renders its own tag (data attributes), not a schema asset');
  const allowed = new Set(['text', 'textarea', 'select', 'checkbox', 'number', 'range', 'radio', 'url', 'color', 'richtext', 'header', 'paragraph']);
  const ids = schema.settings.filter((s) => s.id).map((s) => s.id);
  assert.equal(new Set(ids).size, ids.length, 'setting ids are unique');
  assert.deepEqual(ids, ['site_key', 'endpoint', 'consent', 'anti_flicker', 'write_key', 'customer_key']);
  for (const s of schema.settings) {
    assert.ok(allowed.has(s.type), `${s.id}: type ${s.type}`);
    if (s.type === 'checkbox') assert.equal(typeof s.default, 'boolean', `${s.id}: a checkbox default is a boolean`);
    if (s.type === 'select') {
      assert.ok(s.options.some((o) => o.value === s.default), `${s.id}: the default is an option`);
      // The loader's data-consent values.
      assert.deepEqual(s.options.map((o) => o.value), ['shopify', 'opt-in', 'opt-out', 'none']);
    }
    // Every setting the block's Liquid reads is declared, and every declared one is read.
    assert.ok(block.includes(`block.settings.${s.id}`), `${s.id} is used`);
  }
  for (const m of block.matchAll(/block\.settings\.(\w+)/g)) assert.ok(ids.includes(m[1]), `${m[1]} is declared`);
});

test('every translated string exists in every locale', () => {
  const files = readdirSync(path.join(EXT, 'locales'));
  assert.ok(files.includes('en.default.schema.json'), 'a default schema locale');
  const keys = [...JSON.stringify(schema).matchAll(/"t:([\w.]+)"/g)].map((m) => m[1]);
  assert.ok(keys.length >= 10);
  for (const f of files.filter((f) => f.endsWith('.schema.json'))) {
    const json = JSON.parse(readFileSync(path.join(EXT, 'locales', f), 'utf8'));
    for (const k of keys) assert.equal(typeof lookup(json, k), 'string', `${f}: ${k}`);
  }
});

test('the web pixel extension is configured for checkout events with analytics consent', () => {
  const toml = readFileSync(path.join(PIXEL, 'shopify.extension.toml'), 'utf8');
  assert.deepEqual(topLevelToml(path.join(PIXEL, 'shopify.extension.toml')), { type: 'web_pixel_extension', name: 'tailor-pixel', runtime_context: 'strict' });
  assert.match(toml, /\[customer_privacy\]\s*\nanalytics = true\nmarketing = false/);
  // The settings the pixel reads (js/npm/shopify-pixel.js: settings.site, settings.endpoint, settings.key).
  for (const field of ['site', 'key', 'endpoint']) assert.match(toml, new RegExp(`\\[settings\\.fields\\.${field}\\]\\s*\\nname = "[^"]+"\\ndescription = "[^"]+"\\ntype = "single_line_text_field"`));
  const entry = readFileSync(path.join(PIXEL, 'src/index.js'), 'utf8');
  assert.match(entry, /import \{ register \} from '@shopify\/web-pixels-extension';/);
  assert.match(entry, /import \{ tailorPixel \} from 'tailor\/shopify-pixel';/);
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.ok(pkg.exports['./shopify-pixel'], 'the npm package exports the pixel');
});
