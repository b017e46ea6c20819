#!/usr/bin/env bash
# The API contract: schemathesis (property-based, from PyPI) generates requests from
# docs/openapi.json, as served by a live `tailor serve` at /v1/openapi.json, and checks every
# response against the document. Any failure fails the run.
#   scripts/api-contract.sh    (needs target/debug/tailor: cargo build -p tailor-server)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

st=.tailor/schemathesis/bin/schemathesis
[ -x "$st" ] || die "schemathesis is not installed: run scripts/bootstrap.sh"
[ -x target/debug/tailor ] || die "target/debug/tailor is missing: run cargo build -p tailor-server"

work=$(mktemp -d -t tailor-contract.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A real server on a free loopback port, a fresh database, the demo catalog, and limits high
# enough that the generated traffic is not rate-limited (429 is documented, but it would hide
# the other answers).
# The admin routes get a token, and schemathesis sends it (its ignored-auth check also sends
# requests without it and expects 401).
admin_token=contract-admin-token-20261125
target/debug/tailor serve --addr 127.0.0.1:0 --db "$work/contract.db" --catalog www/catalog.json \
  --www www --dist dist --rebuild-every 0 --rate-per-sec 100000 --rate-burst 100000 \
  --admin-token "$admin_token" \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 200); do
  base=$(sed -n 's/^tailor: listening on \(http:[^ ]*\)$/\1/p' "$work/server.out")
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; die "tailor serve exited before listening"; }
  sleep 0.05
done
[ -n "$base" ] || die "tailor serve did not start listening"
info "server at $base"

# Fixed seed: the same requests each run. Checks: all of them.
# Run from the scratch folder: schemathesis keeps a cache in its working directory.
(cd "$work" && "$ROOT/$st" --config-file "$ROOT/scripts/schemathesis.toml" run "$base/v1/openapi.json" \
  --checks all \
  -H "Authorization: Bearer $admin_token" \
  --max-examples 40 \
  --seed 20261125 \
  --workers 1 \
  --request-timeout 20 \
  --no-color \
  --report junit --report-dir "$work/report") \
  2>&1 | tee "$work/st.out"
rc=${PIPESTATUS[0]}
cases=$(grep -o 'tests="[0-9]*"' "$work/report"/*.xml 2>/dev/null | head -1 | tr -dc 0-9)
failures=$(grep -o 'failures="[0-9]*"' "$work/report"/*.xml 2>/dev/null | head -1 | tr -dc 0-9)
errors=$(grep -o 'errors="[0-9]*"' "$work/report"/*.xml 2>/dev/null | head -1 | tr -dc 0-9)
[ "$rc" = 0 ] || die "schemathesis found contract failures (exit $rc); see above"
[ "${failures:-1}" = 0 ] && [ "${errors:-1}" = 0 ] || die "schemathesis report: ${failures:-?} failures, ${errors:-?} errors"
echo "api contract: ${cases:-0} passed, 0 failed"
