#!/usr/bin/env bash
# Load run with wrk against 127.0.0.1, bounded in time: the release binary serving a
# 10,000-article SQLite store (built once under target/bench-data/10k by `gazette generate`).
#   bash scripts/load.sh [SECONDS] [CONNECTIONS]
# UNCACHED=1 turns the page cache off, so every request renders the page.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-32}"
port=3917
data=target/bench-data/10k

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)"; exit 1; }
cargo build --release --locked --quiet
bin=target/release/gazette
"$bin" --data-dir "$data" generate --articles 10000 --seed 7   # adds only what is missing
config=$(mktemp)
if [ -n "${UNCACHED:-}" ]; then echo "page_cache = 0" > "$config"; fi
GAZETTE_LOG=warn "$bin" --config "$config" --data-dir "$data" serve --listen "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$config"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/robots.txt" >/dev/null && break; sleep 0.1; done

article=$(curl -s "http://127.0.0.1:$port/" | grep -o 'href="/20[0-9][0-9]/[^"]*"' | head -n1 | cut -d'"' -f2)
for path in "/" "$article" "/section/politics/"; do
  echo "== GET $path (${secs}s, $conns connections, 2 threads)"
  wrk -t2 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$port$path" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors"
done
