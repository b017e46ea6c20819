#!/usr/bin/env bash
# Builds the shipped loader with a JavaScript DOM layer in place of the wasm on the page
# (scripts/bench-jsdom.js), next to the shipped worker and wasm, into OUT_DIR, for a
# measurement:
#   make build && bash scripts/build-jsdom.sh /tmp/dist-js
#   DISTS=dist,/tmp/dist-js RUNS=9 RATES=4 PRODUCTS=500 VISITS='first visit,returning' SPANS=1 node scripts/bench-page.mjs
# Never shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash scripts/build-jsdom.sh OUT_DIR}
export PATH=$PWD/node_modules/.bin:$PATH
[ -f dist/tailor.worker.js ] || { echo "no dist/tailor.worker.js: run make build first" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
webpack --config scripts/webpack.jsdom.mjs --no-stats --output-path "$out"
cp dist/tailor.worker.js dist/tailor_bg.wasm "$out/"
ls -l "$out"
