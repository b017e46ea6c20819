#!/usr/bin/env bash
# Builds the browser engine: wasm (cargo + wasm-bindgen + wasm-opt) and the loader bundle.
# Outputs: dist/tailor.js, dist/tailor.worker.js, dist/tailor_bg.wasm and the versioned dist/tailor-<version>.* (script
# tag), pkg/npm (the npm package's engine) and extensions/shopify/assets/tailor.js and
# tailor.worker.js (Shopify).
# Ends with a size table. Run scripts/bootstrap.sh first (the make targets do).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

need wasm-bindgen "run scripts/bootstrap.sh to install the wasm-bindgen CLI"
need wasm-opt "run scripts/bootstrap.sh (npm ci installs binaryen's wasm-opt)"
need webpack "run scripts/bootstrap.sh (npm ci installs webpack)"

step "build: wasm (cargo, profile wasm-release)"
cargo build --lib -p tailor --target wasm32-unknown-unknown --profile wasm-release
raw=target/wasm32-unknown-unknown/wasm-release/tailor.wasm
[ -f "$raw" ] || die "cargo did not produce $raw"

step "build: wasm-bindgen (ES module glue)"
rm -rf pkg/web pkg/bundler pkg/npm
wasm-bindgen "$raw" --out-dir pkg/web --target web --no-typescript
node scripts/inline-snippets.mjs pkg/web

step "build: wasm-opt -Oz --low-memory-unused --converge (producers and target_features stripped)"
bash scripts/wasm-opt.sh pkg/web/tailor_bg.wasm

step "build: short import names (wasm and glue), strings encoded natively (glue)"
node scripts/short-imports.mjs pkg/web
node scripts/glue-strings.mjs pkg/web

step "build: loader bundle (webpack)"
mkdir -p dist
webpack --config webpack.config.js --no-stats
# The compile hint (webpack.config.js) only works as the file's first line.
[ "$(head -n 1 dist/tailor.js)" = "//# allFunctionsCalledOnLoad" ] || die "dist/tailor.js does not start with the //# allFunctionsCalledOnLoad compile hint"
cp pkg/web/tailor_bg.wasm dist/tailor_bg.wasm

step "build: versioned script-tag files (subresource integrity)"
node scripts/versioned.mjs

step "build: npm package engine (pkg/npm) and the Shopify extension's loader and worker assets"
node scripts/npm-glue.mjs
cp dist/tailor.js dist/tailor.worker.js extensions/shopify/assets/
echo "extensions/shopify/assets/tailor.js and tailor.worker.js"

step "build: sizes"
node scripts/sizes.mjs
