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

step "API contract (schemathesis against /api/openapi.json)"
if ! command -v schemathesis >/dev/null 2>&1; then
  if [ -n "${GAZETTE_REQUIRE_SCHEMATHESIS:-}" ]; then
    echo "schemathesis is required here (pip install schemathesis)"; exit 1
  fi
  echo "skipped: no schemathesis (pip install schemathesis)"
else
  cargo build --release --locked
  api_dir=$(mktemp -d)
  # (No rate limit to speak of: schemathesis sends thousands of requests with one token.)
  printf '[api]\nrate_per_minute = 1000000\n' >"$api_dir/gazette.toml"
  ./target/release/gazette --config "$api_dir/gazette.toml" --data-dir "$api_dir" serve --demo --no-pictures \
    --listen 127.0.0.1:0 >"$api_dir/log" 2>&1 &
  api_pid=$!
  trap 'kill $api_pid 2>/dev/null || true' EXIT
  api_base=""
  for _ in $(seq 1 300); do
    api_base=$(grep -o 'Gazette is serving http://[0-9.:]*' "$api_dir/log" | head -n1 | sed 's/Gazette is serving //' || true)
    [ -n "$api_base" ] && break
    sleep 0.2
  done
  [ -n "$api_base" ] || { cat "$api_dir/log"; echo "the demo site did not start"; exit 1; }
  # An editor's token with every scope, so that the Admin API is exercised too (writes land in
  # this throwaway demo site).
  api_token=$(./target/release/gazette --data-dir "$api_dir" user token --email maeve@harbourcourier.example \
    --name schemathesis --scope drafts:read --scope articles:write --scope articles:publish \
    --scope comments:moderate --scope media:write)
  # Bounded in examples and time: no 5xx, every answer as described, every status documented,
  # bad input refused. Left out: "schema-valid data must be accepted", which a newsroom's rules
  # cannot pass (a headline of spaces, a section that does not exist, a picture without alt text
  # before publishing are valid JSON of the right types, and refused with 422 and a reason).
  timeout --kill-after=10 600 schemathesis run "$api_base/api/openapi.json" --url "$api_base" \
    -H "Authorization: Bearer $api_token" \
    --max-examples "${GAZETTE_SCHEMATHESIS_EXAMPLES:-60}" --checks all \
    --exclude-checks positive_data_acceptance --seed 1
  kill $api_pid 2>/dev/null || true
  trap - EXIT
fi
