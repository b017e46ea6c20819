#!/usr/bin/env bash
# Builds the "middle way" for a measurement (scripts/bench-middle.js): the wasm with the `split`
# feature (src/split.rs), its glue, the page script and its worker, into OUT_DIR:
#   make build && bash scripts/build-middle.sh /tmp/dist-middle
#   DISTS=dist,/tmp/dist-middle FLOOR=worker RUNS=9 RATES=4 PRODUCTS=500 VISITS=returning SPANS=1 node scripts/bench-page.mjs
# The wasm is built in target/split, so the shipped build's files stay; the glue is swapped
# into pkg/web for the bundler and pkg/web is put back afterwards. Never shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash scripts/build-middle.sh OUT_DIR}
export PATH=$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH
cargo build --lib -p tailor --target wasm32-unknown-unknown --profile wasm-release --features split --target-dir target/split
raw=target/split/wasm32-unknown-unknown/wasm-release/tailor.wasm
saved=$(mktemp -d)
cp -r pkg/web "$saved/web"
trap 'rm -rf pkg/web && mv "$saved/web" pkg/web && rm -rf "$saved"' EXIT
rm -rf pkg/web
wasm-bindgen "$raw" --out-dir pkg/web --target web --no-typescript
# As scripts/build.sh.
bash scripts/wasm-opt.sh pkg/web/tailor_bg.wasm
node scripts/short-imports.mjs pkg/web
node scripts/glue-strings.mjs pkg/web
rm -rf "$out" && mkdir -p "$out"
webpack --config scripts/webpack.middle.mjs --no-stats --output-path "$out"
cp pkg/web/tailor_bg.wasm "$out/"
ls -l "$out"
