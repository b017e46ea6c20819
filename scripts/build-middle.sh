#!/usr/bin/env bash
# Builds the "middle way" for a measurement (scripts/bench-middle.js): the page script and its
# worker, bundled with the shipped build's glue and wasm (pkg/web, from `make build`), into
# OUT_DIR:
#   make build && bash scripts/build-middle.sh /tmp/dist-middle
#   DISTS=dist,/tmp/dist-middle FLOOR=worker RUNS=9 RATES=4 PRODUCTS=500 VISITS=returning SPANS=1 node scripts/bench-page.mjs
# Never shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash scripts/build-middle.sh OUT_DIR}
export PATH=$PWD/node_modules/.bin:$PATH
[ -f pkg/web/tailor_bg.wasm ] || { echo "no pkg/web/tailor_bg.wasm: run make build first" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
webpack --config scripts/webpack.middle.mjs --no-stats --output-path "$out"
cp pkg/web/tailor_bg.wasm "$out/"
ls -l "$out"
