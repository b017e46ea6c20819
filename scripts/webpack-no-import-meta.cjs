// A webpack loader for the wasm-bindgen glue (pkg/web/tailor.js).
// - The glue's only use of `import.meta.url` is its default wasm URL, which the loader never
//   relies on (it always passes the URL from its own script tag). A classic script cannot
//   contain `import.meta`, and letting webpack inline it would bake the build folder's absolute
//   path into the bundle, so the bytes (and the exact size budget) would depend on where the
//   repository was cloned.
module.exports = function noImportMeta(source) {
  const out = source.replace(/import\.meta\.url/g, 'document.baseURI');
  if (/import\.meta/.test(out)) {
    throw new Error('wasm-bindgen glue uses import.meta in a way scripts/webpack-no-import-meta.cjs does not handle');
  }
  return out;
};
