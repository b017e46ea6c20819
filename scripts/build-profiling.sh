#!/usr/bin/env bash
# An unminified copy of the browser build, with the wasm's function names kept, so that
# scripts/bench-page.mjs's PROFILE_TOP names what it finds:
#   make build && bash scripts/build-profiling.sh /tmp/dist-profiling
#   DISTS=/tmp/dist-profiling RUNS=5 RATES=4 PRODUCTS=500 PROFILE_TOP=40 node scripts/bench-page.mjs
# It builds from the wasm `make build` left in target/, swaps its own glue into pkg/web for the
# bundler (the loader imports it from there) and puts pkg/web back afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash scripts/build-profiling.sh OUT_DIR}
export PATH=$PWD/node_modules/.bin:$PATH
raw=target/wasm32-unknown-unknown/wasm-release/tailor.wasm
[ -f "$raw" ] || { echo "no $raw: run make build first" >&2; exit 1; }
saved=$(mktemp -d)
cp -r pkg/web "$saved/web"
trap 'rm -rf pkg/web && mv "$saved/web" pkg/web && rm -rf "$saved"' EXIT
rm -rf pkg/web
wasm-bindgen "$raw" --out-dir pkg/web --target web --no-typescript
node scripts/inline-snippets.mjs pkg/web
# As scripts/build.sh, plus -g: the name section stays.
bash scripts/wasm-opt.sh pkg/web/tailor_bg.wasm -g
node scripts/short-imports.mjs pkg/web
node scripts/glue-strings.mjs pkg/web
rm -rf "$out" && mkdir -p "$out"
webpack --config webpack.config.js --stats=errors-only --no-optimization-minimize --output-path "$out"
cp pkg/web/tailor_bg.wasm "$out/"
echo "$out: unminified loader and named wasm"
