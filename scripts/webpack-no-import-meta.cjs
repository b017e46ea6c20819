// A webpack loader for the wasm-bindgen glue (pkg/web/tailor.js), in the loader and the worker.
// - The glue's only use of `import.meta.url` is its default wasm URL, which the loader never
//   relies on (it always passes the URL from its own script tag). A classic script cannot
//   contain `import.meta`, and letting webpack inline it would bake the build folder's absolute
//   path into the bundle, so the bytes (and the exact size budget) would depend on where the
//   repository was cloned.
// - Its console warning for a wrong MIME type (after which it falls back and works) is shortened,
//   and those for call forms the loader never uses (the deprecated positional parameters) are
//   dropped: the loader's size budget is exact, and these sentences were about 200 of its bytes.
// - The engine's methods that neither the loader nor the worker calls (for the npm package's
//   users, whose glue is pkg/npm's) are taken out of the class: a class's methods cannot be
//   shaken out by webpack.
// - The page's copy (imported as `pkg/web/tailor.js?page`, js/loader.js) has no `Engine` and
//   no `Queue` class at all: the engine and the event queue are the worker's. Webpack keeps an
//   unused class whose prototype the glue touches (`Symbol.dispose`), and its finalization
//   registry; nor a `try` around each `instanceof` check.
const WARNINGS = [
  [/console\.warn\("`WebAssembly\.instantiateStreaming` failed because [^"]*",/, 'console.warn("[tailor] wasm not served as application/wasm:",'],
  [/console\.warn\('using deprecated parameters for `initSync\(\)`; pass a single object instead'\)/, '0'],
  [/console\.warn\('using deprecated parameters for the initialization function; pass a single object instead'\)/, '0'],
];
const UNUSED = ['rerankSearch'];
module.exports = function noImportMeta(source) {
  let out = source.replace(/import\.meta\.url/g, 'document.baseURI');
  for (const name of UNUSED) {
    // (The method with its doc comment: from the comment's start to the method's closing brace.)
    const method = new RegExp(`\\n    /\\*\\*(?:(?!\\*/)[\\s\\S])*\\*/\\n    ${name}\\([^)]*\\) \\{\\n[\\s\\S]*?\\n    \\}(?=\\n)`);
    if (!method.test(out)) throw new Error(`wasm-bindgen glue changed: no method ${name} (scripts/webpack-no-import-meta.cjs)`);
    out = out.replace(method, '');
  }
  if (this.resourceQuery === '?page') {
    const classes = ['Engine', 'Queue'].flatMap((c) => [new RegExp(`\\nexport class ${c} \\{\\n[\\s\\S]*?\\n\\}\\nif \\(Symbol\\.dispose\\) ${c}\\.prototype\\[Symbol\\.dispose\\] = ${c}\\.prototype\\.free;\\n`), new RegExp(`\\nconst ${c}Finalization = [^;]*;\\n`)]);
    for (const pattern of classes) {
      if (!pattern.test(out)) throw new Error(`wasm-bindgen glue changed: ${pattern} not found (scripts/webpack-no-import-meta.cjs)`);
      out = out.replace(pattern, '\n');
    }
    // Its `instanceof` checks need no `try`: on a page every class they name exists (`Node`,
    // `Document`, `HTMLTemplateElement`...; the worker's copy keeps it, where the DOM's do not).
    const check = /let result;\n {12}try \{\n {16}result = arg0 instanceof ([\w$]+);\n {12}\} catch \(_\) \{\n {16}result = false;\n {12}\}\n {12}const ret = result;\n {12}return ret;/g;
    if (!check.test(out)) throw new Error('wasm-bindgen glue changed: no `instanceof` check of the shape scripts/webpack-no-import-meta.cjs knows');
    out = out.replace(check, 'return arg0 instanceof $1;');
  }
  for (const [pattern, short] of WARNINGS) {
    if (!pattern.test(out)) throw new Error(`wasm-bindgen glue changed: ${pattern} not found (scripts/webpack-no-import-meta.cjs)`);
    out = out.replace(pattern, short);
  }
  if (/import\.meta/.test(out)) {
    throw new Error('wasm-bindgen glue uses import.meta in a way scripts/webpack-no-import-meta.cjs does not handle');
  }
  return out;
};
