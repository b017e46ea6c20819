#!/usr/bin/env bash
# Builds the sync server (release) and serves the demo store with its SQLite database in .tailor/.
#   scripts/demo.sh [ADDR]    default 127.0.0.1:8080
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
addr="${1:-127.0.0.1:8080}"
step "demo: building the sync server (release)"
cargo build --release -p tailor-server
mkdir -p .tailor
step "demo: starting tailor serve on $addr (database .tailor/demo.db)"
exec target/release/tailor serve --addr "$addr" --db .tailor/demo.db \
  --catalog www/catalog.json --www www --dist dist --rebuild-every 10
