#!/usr/bin/env bash
# Floods a node as a viral link, a hostile visitor and a careless colleague would (issue 28),
# with wrk against 127.0.0.1, bounded in time; prints requests/s, latency, timeouts and the
# server's RSS for each run. The demo edition on SQLite, release build.
#   bash scripts/bench-floods.sh [SECONDS] [CONNECTIONS]
# Runs: the clean front page and an article (cache hits); the same with a unique tracking
# parameter per request (utm_*, fbclid); unique search words, with the page cache on and off;
# the front page while two staff members send 1 MB bodies to the live preview without pause.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-100}"
port=3931
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)"; exit 1; }
cargo build --release --locked --quiet
bin=$PWD/target/release/gazette
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cat >"$work/tracking.lua" <<'EOF'
local n = 0
setup = function(thread) thread:set("seed", math.random(1, 1e9)) end
request = function()
  n = n + 1
  return wrk.format(nil, wrk.path .. "?utm_source=s" .. seed .. "x" .. n .. "&utm_medium=social&fbclid=IwAR" .. n)
end
EOF
cat >"$work/search.lua" <<'EOF'
local n = 0
setup = function(thread) thread:set("seed", math.random(1, 1e9)) end
request = function()
  n = n + 1
  return wrk.format(nil, "/search?q=harbour+w" .. seed .. "x" .. n)
end
EOF

serve() { # serve CONFIG_LINES...
  pkill -f "gazette --config $work/gazette.toml" 2>/dev/null || true
  printf '%s\n' "$@" >"$work/gazette.toml"
  GAZETTE_LOG=warn "$bin" --config "$work/gazette.toml" --data-dir "$work/data" serve --demo --no-pictures \
    --listen "127.0.0.1:$port" >"$work/log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/robots.txt" >/dev/null && break; sleep 0.2; done
}

rss() { awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$server/status"; }

run() { # run LABEL PATH [LUA]
  local label=$1 path=$2 lua=${3:-}
  local out
  if [ -n "$lua" ]; then
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --timeout 5s --latency -s "$lua" "http://127.0.0.1:$port$path")
  else
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --timeout 5s --latency "http://127.0.0.1:$port$path")
  fi
  local rps p50 p99 timeouts
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  timeouts=$(echo "$out" | grep -o 'timeout [0-9]*' | awk '{print $2}' || true)
  printf '| %-44s | %8s | %8s | %8s | %5s | %7s |\n' "$label" "$rps" "$p50" "$p99" "${timeouts:-0}" "$(rss)"
}

printf '| %-44s | %8s | %8s | %8s | %5s | %7s |\n' "run ($secs s, $conns connections)" "req/s" "p50" "p99" "t/o" "RSS"
printf '|%s|\n' "----------------------------------------------|----------|----------|----------|-------|---------"

serve ""
article=$(curl -s "http://127.0.0.1:$port/" | grep -o 'href="/20[0-9][0-9]/[^"]*"' | head -n1 | cut -d'"' -f2)
curl -s "http://127.0.0.1:$port/" >/dev/null
curl -s "http://127.0.0.1:$port$article" >/dev/null
run "front page, clean" "/"
run "front page, unique utm_*/fbclid each" "/" "$work/tracking.lua"
run "article, clean" "$article"
run "article, unique utm_*/fbclid each" "$article" "$work/tracking.lua"
run "search, unique words, page cache on" "/search" "$work/search.lua"

# Two staff members previewing 1 MB bodies without pause while readers load the front page.
jar="$work/jar"
login_page=$(curl -s -c "$jar" "http://127.0.0.1:$port/admin")
token=$(echo "$login_page" | grep -o 'name="login_token" value="[^"]*"' | sed 's/.*value="//; s/"$//')
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "login_token=$token" \
  --data-urlencode "email=maeve@harbourcourier.example" --data-urlencode "password=courier-demo" \
  "http://127.0.0.1:$port/admin/login"
csrf=$(curl -s -b "$jar" "http://127.0.0.1:$port/admin/articles/new" | grep -o 'name="_csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//')
python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
# The constructs that cost the most of those that are accepted (links, lazy quotations).
json.dump({"body": "[a](" * 262000}, open(f"{work}/links.json", "w"))
json.dump({"body": "> a\nb\n" * 174000}, open(f"{work}/lazy.json", "w"))
EOF
for body in links lazy; do
  ( end=$((SECONDS + secs + 2)); while [ $SECONDS -lt $end ]; do
      curl -s -o /dev/null -b "$jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
        --data-binary "@$work/$body.json" "http://127.0.0.1:$port/admin/preview"; done ) &
done
sleep 1
run "front page, two 1 MB previews running" "/"
wait_previews=$(jobs -p | tail -n 2); wait $wait_previews 2>/dev/null || true

serve "page_cache = 0"
run "search, unique words, page cache off" "/search" "$work/search.lua"
run "front page, page cache off" "/"
