#!/usr/bin/env bash
# The project's wasm-opt pass over a wasm-bindgen output, in place:
#   bash scripts/wasm-opt.sh FILE.wasm [more wasm-opt flags]
# scripts/build.sh runs it on pkg/web/tailor_bg.wasm; scripts/build-profiling.sh adds -g.
set -euo pipefail
file=${1:?usage: bash scripts/wasm-opt.sh FILE.wasm [flags]}
shift
# Rust's wasm32 target enables these proposals by default; wasm-opt must accept them.
features=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue)
# --low-memory-unused: Rust never places data in the first KiB of linear memory (the stack sits
# below 1 MiB and grows down; statics start above it), so address arithmetic may assume it;
# --converge repeats the passes until the size stops falling. The producers and
# target_features sections are for toolchains, not browsers (a few hundred bytes).
wasm-opt -Oz --low-memory-unused --converge --strip-producers --strip-target-features "${features[@]}" "$@" "$file" -o "$file.opt"
mv "$file.opt" "$file"
