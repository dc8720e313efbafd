#!/usr/bin/env bash
# Gazette's page cache beside nginx serving the very same bytes, in one run.
#
#   bash scripts/bench-vs-nginx.sh [SECONDS] [ROUNDS]
#
# Starts the release binary with the demo edition, waits for its background work (the demo
# pictures) to finish, saves its front page and an article page
# as files (and their .gz, for nginx's gzip_static, as a static site would be served), serves
# them from nginx on 127.0.0.1, and runs wrk (-t2 -c50) against both, interleaved round by
# round: without compression, and with `Accept-Encoding: gzip, br` (Gazette answers brotli,
# nginx its .gz). Prints requests/s and p99 for each, and the ratio Gazette / nginx (the best
# round of each). Needs nginx and wrk (apt-get install -y nginx-light wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
rounds="${2:-3}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)"; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "nginx is not installed (apt-get install -y nginx-light)"; exit 1; }

cargo build --release --locked --quiet
work=$(mktemp -d)
gport=$((20000 + RANDOM % 10000))
nport=$((gport + 1))
GAZETTE_LOG=warn target/release/gazette --data-dir "$work/data" serve --demo --listen "127.0.0.1:$gport" \
  >"$work/gazette.log" 2>&1 &
gazette=$!
cleanup() {
  kill "$gazette" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$gport/robots.txt" >/dev/null && break; sleep 0.1; done
# The demo edition's pictures are made in the background after start (a few minutes of one
# core for AVIF and WebP): measure once the node is idle, with the pages that show them.
cpu() { awk '{print $14 + $15}' "/proc/$gazette/stat"; }
quiet=0
for _ in $(seq 1 900); do
  before=$(cpu); sleep 1; after=$(cpu)
  if [ $((after - before)) -le 5 ]; then quiet=$((quiet + 1)); else quiet=0; fi
  [ "$quiet" -ge 3 ] && break
done
[ "$quiet" -ge 3 ] || echo "note: the node was still busy after 15 minutes"

article=$(curl -s "http://127.0.0.1:$gport/" | grep -o 'href="/20[0-9][0-9]/[^"]*"' | head -n1 | cut -d'"' -f2)
mkdir -p "$work/root$article"
curl -s "http://127.0.0.1:$gport/" -o "$work/root/index.html"
curl -s "http://127.0.0.1:$gport$article" -o "$work/root${article}index.html"
gzip -9 -k "$work/root/index.html" "$work/root${article}index.html"
# Gazette's copies are cached (and compressed) by now; check it serves the same bytes.
cmp -s <(curl -s "http://127.0.0.1:$gport/") "$work/root/index.html" || echo "note: the front page changed between requests"
for f in "$work/root/index.html" "$work/root${article}index.html"; do
  echo "$(basename "$(dirname "$f")"): $(wc -c <"$f") bytes, $(wc -c <"$f.gz") gzipped"
done

cat >"$work/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { text/html html; }
  default_type text/html;
  gzip_static on;
  etag on;
  server {
    listen 127.0.0.1:$nport;
    root $work/root;
    index index.html;
  }
}
EOF
"$nginx_bin" -c "$work/nginx.conf"
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$nport/" >/dev/null && break; sleep 0.1; done

# wrk's requests/s and p99 (in ms) for one run.
run() {
  local url=$1 encoding=$2 out
  if [ -n "$encoding" ]; then
    out=$(wrk -t2 -c50 -d"${secs}s" --latency -H "Accept-Encoding: $encoding" "$url")
  else
    out=$(wrk -t2 -c50 -d"${secs}s" --latency "$url")
  fi
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print v}')
  echo "$rps $p99"
}

printf '%-8s %-10s %10s %9s %10s %9s %7s\n' page encoding gazette p99ms nginx p99ms ratio
for page in front article; do
  path=/; [ "$page" = article ] && path=$article
  for encoding in "" "gzip, br"; do
    best_g=0; best_n=0; p99_g=0; p99_n=0
    for _ in $(seq 1 "$rounds"); do
      read -r g gp < <(run "http://127.0.0.1:$gport$path" "$encoding")
      read -r n np < <(run "http://127.0.0.1:$nport$path" "$encoding")
      if awk "BEGIN {exit !($g > $best_g)}"; then best_g=$g; p99_g=$gp; fi
      if awk "BEGIN {exit !($n > $best_n)}"; then best_n=$n; p99_n=$np; fi
    done
    ratio=$(awk "BEGIN {printf \"%.2f\", $best_g / $best_n}")
    printf '%-8s %-10s %10.0f %9s %10.0f %9s %7s\n' "$page" "${encoding:-none}" "$best_g" "$p99_g" "$best_n" "$p99_n" "$ratio"
  done
done
