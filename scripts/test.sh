#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests (SQLite, and PostgreSQL
# when GAZETTE_TEST_POSTGRES is set), then the browser tests when Chromium and the e2e
# packages are present. `.ci/run` installs those and always runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

if [ -z "${GAZETTE_TEST_POSTGRES:-}" ]; then
  echo "note: GAZETTE_TEST_POSTGRES is not set; the PostgreSQL half of the suite will be skipped"
fi
step "cargo test (unit + integration)"
cargo test --locked

step "browser tests (headless Chromium)"
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium_bin" ]; then
  echo "skipped: no Chromium at $chromium_bin (apt-get install -y chromium)"
elif [ ! -d e2e/node_modules/playwright-core ]; then
  echo "skipped: e2e packages missing (cd e2e && npm ci)"
else
  cargo build --release --locked
  # Bounded: a browser or server that hangs fails the run instead of stalling it.
  (cd e2e && timeout --kill-after=30 1200 node --test --test-timeout=300000)
  echo "screenshots: target/screenshots/"
fi
