#!/usr/bin/env bash
# Brings a fresh machine to a working state. Idempotent: each step is skipped when done.
#   scripts/bootstrap.sh            everything the tests need
#   scripts/bootstrap.sh --no-browser   skip Chromium (enough to build and run the demo)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

browser=1
[ "${1:-}" = "--no-browser" ] && browser=0

step "bootstrap: checking base tools"
need cargo "install Rust with rustup (https://rustup.rs), then re-run"
need rustup "Tailor needs rustup to add the wasm32 target"
need node "install Node.js 20 or newer, then re-run"
need npm "npm comes with Node.js; install Node.js 20.10 or newer"
need cc "a C compiler is needed to link Rust and build the bundled SQLite: apt-get install build-essential"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=10)?0:1)' \
  || die "Node.js $(node --version) is too old: Tailor needs 20.10 or newer"
ok "cargo $(cargo --version | cut -d' ' -f2), node $(node --version), cc"

step "bootstrap: rustfmt and clippy"
if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
  ok "already installed"
else
  info "adding the rustfmt and clippy components with rustup"
  rustup component add rustfmt clippy || die "rustup could not add rustfmt and clippy"
  ok "added"
fi

step "bootstrap: wasm32-unknown-unknown target"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  ok "already installed"
else
  info "adding the target with rustup"
  rustup target add wasm32-unknown-unknown || die "rustup could not add wasm32-unknown-unknown"
  ok "added"
fi

pin=$(wasm_bindgen_pin)
[ -n "$pin" ] || die "could not read the exact wasm-bindgen pin (wasm-bindgen = \"=X.Y.Z\") from Cargo.toml"
step "bootstrap: wasm-bindgen CLI $pin (must match the crate pin)"
have=$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2 || true)
if [ "$have" = "$pin" ] && command -v wasm-bindgen-test-runner >/dev/null; then
  ok "wasm-bindgen $have already installed"
else
  info "found '${have:-none}'; installing wasm-bindgen-cli $pin with cargo (takes ~3 minutes on 2 cores)"
  # No --locked: one of its locked transitive versions is missing from the registry here.
  cargo install wasm-bindgen-cli --version "$pin" --force \
    || die "cargo install wasm-bindgen-cli --version $pin failed (see the cargo output above)"
  have=$(wasm-bindgen --version | cut -d' ' -f2)
  [ "$have" = "$pin" ] || die "installed wasm-bindgen reports $have, expected $pin; is another wasm-bindgen earlier on PATH? ($(command -v wasm-bindgen))"
  ok "installed wasm-bindgen $have"
fi

step "bootstrap: npm packages"
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
   && [ -x node_modules/.bin/wasm-opt ] && [ -x node_modules/.bin/webpack ]; then
  ok "node_modules is up to date with package-lock.json"
else
  info "running npm ci"
  npm ci --no-audit --no-fund || die "npm ci failed (see the npm output above)"
  ok "installed"
fi

if [ "$browser" = 1 ]; then
  step "bootstrap: Chromium and ChromeDriver for the browser tests"
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    ok "$(/usr/bin/chromium --version 2>/dev/null | head -1)"
  else
    command -v apt-get >/dev/null || die "Chromium is missing and apt-get is not available: install chromium and chromium-driver so that /usr/bin/chromium and /usr/bin/chromedriver exist"
    sudo=""
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null || die "installing Chromium needs root: run 'apt-get install -y chromium chromium-driver' as root"
      sudo="sudo"
    fi
    info "installing chromium and chromium-driver with apt-get"
    $sudo apt-get update -q || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium chromium-driver \
      || die "apt-get install chromium chromium-driver failed"
    [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || die "apt installed Chromium, but /usr/bin/chromium or /usr/bin/chromedriver is still missing"
    ok "$(/usr/bin/chromium --version 2>/dev/null | head -1)"
  fi

  # The API contract test (scripts/api-contract.sh) runs schemathesis from PyPI in its own venv.
  st_pin=4.32.5
  step "bootstrap: schemathesis $st_pin (API contract tests)"
  st=.tailor/schemathesis/bin/schemathesis
  if [ -x "$st" ] && "$st" --version 2>/dev/null | grep -q "$st_pin"; then
    ok "already installed"
  else
    need python3 "the API contract test needs Python 3.9 or newer with venv"
    info "creating .tailor/schemathesis and installing schemathesis==$st_pin with pip"
    python3 -m venv .tailor/schemathesis || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    .tailor/schemathesis/bin/pip install -q --disable-pip-version-check "schemathesis==$st_pin" \
      || die "pip install schemathesis==$st_pin failed (see the pip output above)"
    ok "$("$st" --version)"
  fi
fi
step "bootstrap: done"
