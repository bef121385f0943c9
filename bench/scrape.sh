#!/usr/bin/env bash
# The cost of one Prometheus scrape of `/metrics` with 20 services: starts
# `diagbot serve` watching 20 processes (each a `sleep` with a pidfile, and a
# log), waits for their figures, then asks for /metrics REQUESTS times on one
# kept-alive connection in each format (Prometheus's OpenMetrics Accept
# header, and none: the text format) and prints the body's size, its series
# and the median and p90 time to the first byte (curl's time_starttransfer:
# the daemon's render, with the cache maintenance before it) and to the last;
# then the same for /healthz, which does no work: the floor of this machine.
#
#   bench/scrape.sh                 # 20 services, 200 requests per format
#   SERVICES=50 REQUESTS=500 bench/scrape.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SERVICES=${SERVICES:-20}
REQUESTS=${REQUESTS:-200}
cargo build --quiet --release -p diagbot --bin diagbot
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/logs"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/diagbot.toml" <<TOML
[logs]
paths = ["$work/logs"]
[http]
listen = "127.0.0.1:$port"
[log]
level = "warn"
[health]
sample_interval = "1s"
[cache]
warn_entries = 100              # each service's log count is an answer of its own
TOML
for i in $(seq "$SERVICES"); do
  sleep 3600 &
  pids+=($!)
  echo "$!" >"$work/svc$i.pid"
  printf '2026-11-29 10:00:00 INFO svc%s started\n2026-11-29 10:00:01 ERROR svc%s failed\n' "$i" "$i" >"$work/logs/svc$i.log"
  cat >>"$work/diagbot.toml" <<TOML
[[services]]
name = "svc$i"
process = { pidfile = "$work/svc$i.pid" }
logs = ["$work/logs/svc$i.log"]
TOML
done
env -u DIAGBOT_CONFIG target/release/diagbot serve --config "$work/diagbot.toml" >/dev/null &
pids+=($!)
url="http://127.0.0.1:$port/metrics"
for _ in $(seq 100); do
  [ "$(curl -sf "$url" | grep -c '^diagbot_log_lines_total')" -ge $((SERVICES * 7)) ] && break
  sleep 0.2
done
openmetrics='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
measure() { # name, accept header ("" for none), URL (default /metrics)
  local url=${3:-$url}
  local header=()
  [ -n "$2" ] && header=(-H "Accept: $2")
  local body size series
  body=$(curl -sf "${header[@]}" "$url")
  size=$(printf '%s\n' "$body" | wc -c)
  series=$(printf '%s\n' "$body" | grep -vc '^#')
  # One curl, one connection, REQUESTS transfers.
  local urls=()
  for _ in $(seq "$REQUESTS"); do urls+=(-o /dev/null "$url"); done   # -o applies to one URL
  local times
  times=$(curl -sf "${header[@]}" -w '%{time_starttransfer} %{time_total}\n' "${urls[@]}")
  # The q-quantile of column c, in µs.
  quantile() { printf '%s\n' "$times" | awk -v c="$1" '{ print $c * 1e6 }' | sort -n | awk -v q="$2" '{ v[NR] = $1 } END { i = int(NR * q); if (i < 1) i = 1; printf "%.0f", v[i] }'; }
  printf '%-12s %7d bytes %5d series   first byte: median %s µs, p90 %s µs   whole answer: median %s µs\n' \
    "$1" "$size" "$series" "$(quantile 1 0.5)" "$(quantile 1 0.9)" "$(quantile 2 0.5)"
}
echo "$SERVICES services, $REQUESTS requests per format, diagbot RSS $(awk '/VmRSS/ {print $2, $3}' "/proc/${pids[-1]}/status")"
measure openmetrics "$openmetrics"
measure text ""
measure "/healthz floor" "" "http://127.0.0.1:$port/healthz"
