#!/usr/bin/env bash
# The whole test suite, in order, stopping at the first failure:
#   bootstrap, cargo fmt --check, clippy -D warnings (native and wasm), rustdoc -D warnings,
#   native tests, wasm-bindgen-test in headless Chromium, build, the API contract (schemathesis),
#   the TypeScript declarations (tsc), Playwright end-to-end tests,
#   size budgets (exact byte counts against hard limits).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

started=$(date +%s)
log=$(mktemp -t tailor-test.XXXXXX)
declare -a done_steps=()
current=""
on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ -n "$current" ]; then
    printf '\n%sFAILED:%s %s (exit %d). Steps that passed: %s\n' "$R" "$N" "$current" "$rc" "${done_steps[*]:-none}" >&2
  fi
}
trap on_exit EXIT
run() { # run NAME CMD...
  current="$1"; shift
  local t0; t0=$(date +%s)
  step "test: $current"
  "$@" 2>&1 | tee -a "$log"
  done_steps+=("$current")
  info "($(( $(date +%s) - t0 ))s)"
}

run "bootstrap" bash scripts/bootstrap.sh
export CHROMEDRIVER=/usr/bin/chromedriver
export RUSTFLAGS="${RUSTFLAGS:-}"

run "cargo fmt --check" cargo fmt --all -- --check
run "clippy (native, all targets)" cargo clippy --workspace --all-targets -- -D warnings
run "clippy (wasm32, all targets)" cargo clippy -p tailor --all-targets --target wasm32-unknown-unknown -- -D warnings
run "rustdoc (no warnings)" env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
run "native tests" cargo test --workspace
run "wasm-bindgen-test (headless Chromium)" cargo test -p tailor --target wasm32-unknown-unknown
run "build (wasm + loader)" bash scripts/build.sh
run "build server (debug)" cargo build -p tailor-server
run "API contract (schemathesis against a live server)" bash scripts/api-contract.sh
run "TypeScript declarations (tsc --noEmit, JSDoc on every member)" bash -c "npx tsc -p tests/types && node scripts/check-jsdoc.mjs"
run "end-to-end tests (Playwright + Chromium)" node --test --test-concurrency=1 --test-timeout=120000 tests/e2e/*.test.mjs
run "size budgets (exact byte counts)" node scripts/sizes.mjs --check

current=""
# One closing count over every runner: cargo's "test result" lines, node's "# pass/# fail",
# and the size-budget checks.
passed=$(sed -n -e 's/.*test result: [a-z]*\. \([0-9]*\) passed.*/\1/p' -e 's/^# pass \([0-9]*\)$/\1/p' \
  -e 's/^size budgets: \([0-9]*\) passed.*/\1/p' -e 's/^api contract: \([0-9]*\) passed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
step "all ${#done_steps[@]} steps passed in $(( $(date +%s) - started ))s"
echo "tests: $passed passed, 0 failed"
