#!/usr/bin/env bash
# Latency of a cached answer over HTTP on loopback: starts `diagbot serve` on a
# generated log, asks once to fill the cache, then loads the same request with
# wrk (apt-get install wrk) and prints wrk's latency percentiles.
#
#   bench/latency.sh            # 64 MiB log, 2 connections per thread, 20 s
#   CONNECTIONS=32 DURATION=30s bench/latency.sh
#   ROUTE=/healthz bench/latency.sh      # the same load on a route that does no work
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "bench/latency.sh: wrk is missing (apt-get install wrk)" >&2; exit 2; }
CONNECTIONS=${CONNECTIONS:-4}
THREADS=${THREADS:-1}
DURATION=${DURATION:-20s}
cargo build --quiet --release -p diagbot --bin diagbot --example genlogs
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/logs"
target/release/examples/genlogs "$work/logs/app.log" 64 0.02
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/diagbot.toml" <<TOML
[logs]
paths = ["$work/logs"]
[http]
listen = "127.0.0.1:$port"
[log]
level = "warn"
TOML
env -u DIAGBOT_CONFIG target/release/diagbot serve --config "$work/diagbot.toml" >/dev/null &
pid=$!
url="http://127.0.0.1:$port${ROUTE:-/api/v1/grep?pattern=ERROR&max_lines=20}"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
# The first request scans and fills the cache; the load then measures cache hits.
curl -sf -o /dev/null -D - "$url" | grep -i x-diagbot-cache || true
curl -sf -o /dev/null -D - "$url" | grep -i x-diagbot-cache || true
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency $url"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url"
echo "RSS after the load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
