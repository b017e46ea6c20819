#!/usr/bin/env bash
# Builds the sync server (release) and serves the demo store with its SQLite database in .tailor/.
#   scripts/demo.sh [ADDR]    default 127.0.0.1:8080
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
addr="${1:-127.0.0.1:8080}"
step "demo: building the sync server (release)"
cargo build --release -p tailor-server
mkdir -p .tailor
# Real shopper traffic behind the demo: the UCI Online Retail orders of French customers, replayed
# as sessions (views, then the purchase) over the demo catalog. Idempotent: a second run stores
# nothing new. Skipped, with a note, when the data set is not beside the project.
uci="$ROOT/../shared/data/uci-online-retail/france.csv"
if [ -f "$uci" ]; then
  step "demo: replaying real sessions from UCI Online Retail (France) into .tailor/demo.db"
  python3 scripts/replay_demo_sessions.py "$uci" > .tailor/replay.jsonl
  target/release/tailor import-events --site demo --db .tailor/demo.db .tailor/replay.jsonl
  target/release/tailor build-snapshot --site demo --db .tailor/demo.db
else
  info "no $uci: the demo starts from the catalog's popularity alone"
fi
step "demo: starting tailor serve on $addr (database .tailor/demo.db)"
exec target/release/tailor serve --addr "$addr" --db .tailor/demo.db \
  --catalog www/catalog.json --www www --dist dist --rebuild-every 10
