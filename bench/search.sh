#!/usr/bin/env bash
# diagbot against ripgrep on the same generated log, side by side.
#
#   bench/search.sh            # 1 GiB log in bench-data/, 9 warm and 5 cold rounds
#   SIZE_MIB=256 ROUNDS=5 COLD_ROUNDS=0 bench/search.sh
#   COMPARE_WITH=/path/to/other/diagbot bench/search.sh
#                              # only: this build against another, side by side,
#                              # on the runs that read every line's time and level
#
# Needs ripgrep (apt-get install ripgrep) and GNU time (apt-get install time).
# Runs alternate between the two tools so that machine noise hits both alike;
# each figure is the median. Cold runs drop the page cache first (root only).
# Prints markdown for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-1024}
ROUNDS=${ROUNDS:-9}
COLD_ROUNDS=${COLD_ROUNDS:-5}
DATA=${DATA:-bench-data}
LOG="$DATA/app.log"

for tool in rg /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/search.sh: $tool is missing (apt-get install ripgrep time)" >&2; exit 2; }
done
cargo build --quiet --release -p diagbot --bin diagbot --example genlogs
cargo build --quiet --release -p diagbot-core --example refresh
DIAGBOT=target/release/diagbot
mkdir -p "$DATA"
want=$((SIZE_MIB * 1024 * 1024))
if [ ! -f "$LOG" ] || [ "$(stat -c %s "$LOG")" -lt "$want" ] || [ "$(stat -c %s "$LOG")" -gt $((want + 4096)) ]; then
  target/release/examples/genlogs "$LOG" "$SIZE_MIB" 0.02
fi

# Two builds of diagbot, alternating, on commands that read every line's
# timestamp (a time window) and level (errors); then stop.
if [ -n "${COMPARE_WITH:-}" ]; then
  median_ms() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  clock() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
  echo "Log: $LOG, $(numfmt --to=iec "$(stat -c %s "$LOG")"); $ROUNDS interleaved warm rounds; $(nproc) cores"
  echo "this build: $DIAGBOT; other: $COMPARE_WITH"
  echo
  echo "| command | other ms | this ms | this / other |"
  echo "|---|---|---|---|"
  cat "$LOG" >/dev/null
  for cmd in "errors --max-lines 1000" "grep --count ERROR --since 2026-01-27T00:00:00" "grep --count ERROR"; do
    other_t="" this_t=""
    for _ in $(seq "$ROUNDS"); do
      # shellcheck disable=SC2086
      other_t+=" $(clock "$COMPARE_WITH" $cmd --path "$LOG")"
      # shellcheck disable=SC2086
      this_t+=" $(clock "$DIAGBOT" $cmd --path "$LOG")"
    done
    o=$(echo "$other_t" | median_ms) t=$(echo "$this_t" | median_ms)
    echo "| \`diagbot $cmd\` | $o | $t | $(awk -v a="$t" -v b="$o" 'BEGIN {printf "%.2f", a / b}') |"
    echo "  other:$other_t; this:$this_t" >&2
  done
  exit 0
fi

can_drop=0
if [ "$COLD_ROUNDS" -gt 0 ] && sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then can_drop=1; fi

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Alternates rg, rg --no-mmap and diagbot ROUNDS times; echoes their median ms.
race() {
  local rounds=$1 cold=$2; shift 2
  local rg_t="" nm_t="" db_t=""
  drop() { if [ "$cold" = 1 ]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi; }
  for _ in $(seq "$rounds"); do
    drop; rg_t+=" $(ms rg -c "$@" "$LOG")"
    drop; nm_t+=" $(ms rg --no-mmap -c "$@" "$LOG")"
    drop; db_t+=" $(ms "$DIAGBOT" grep --count "$@" --path "$LOG")"
  done
  echo "$(echo "$rg_t" | median) $(echo "$nm_t" | median) $(echo "$db_t" | median)"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

size_h=$(numfmt --to=iec "$(stat -c %s "$LOG")")
echo "Log: $LOG, $size_h, $(wc -l <"$LOG") lines; rg $(rg --version | head -1 | cut -d' ' -f2); $(nproc) cores"
echo
echo "| pattern | count (rg = diagbot) | cache | rg ms | rg --no-mmap ms | diagbot ms | diagbot throughput / rg | / rg --no-mmap |"
echo "|---|---|---|---|---|---|---|---|"
for args in "ERROR" "ERROR|Traceback|OOM" "-i timeout"; do
  # shellcheck disable=SC2086
  set -- $args
  rg_count=$(rg -c "$@" "$LOG")
  db_count=$("$DIAGBOT" grep --count "$@" --path "$LOG")
  if [ "$rg_count" != "$db_count" ]; then
    echo "count mismatch for $args: rg $rg_count, diagbot $db_count" >&2
    exit 1
  fi
  for cache in warm cold; do
    if [ "$cache" = warm ]; then rounds=$ROUNDS; cold=0; else rounds=$COLD_ROUNDS; cold=1; fi
    [ "$cache" = cold ] && [ "$can_drop" = 0 ] && continue
    read -r rg_ms nm_ms db_ms < <(race "$rounds" "$cold" "$@")
    echo "| \`$args\` | $db_count | $cache | $rg_ms | $nm_ms | $db_ms | $(ratio "$rg_ms" "$db_ms") | $(ratio "$nm_ms" "$db_ms") |"
  done
done
echo
echo "Peak RSS while scanning (GNU time, max resident KiB):"
echo
for cmd in "grep --count ERROR" "grep ERROR --max-lines 1000" "errors --max-lines 1000"; do
  # shellcheck disable=SC2086
  kib=$( { /usr/bin/time -f "%M" "$DIAGBOT" $cmd --path "$LOG" >/dev/null; } 2>&1 | tail -1)
  echo "- \`diagbot $cmd\`: $kib KiB ($(awk -v k="$kib" 'BEGIN {printf "%.1f", k / 1024}') MiB)"
done
rg_kib=$( { /usr/bin/time -f "%M" rg -c ERROR "$LOG" >/dev/null; } 2>&1 | tail -1)
echo "- \`rg -c ERROR\` for comparison: $rg_kib KiB (memory-mapped file pages count as resident)"
echo
echo "Incremental refresh after 1 MiB is appended (warm cache):"
echo
cp "$LOG" "$DATA/refresh.log"
target/release/examples/refresh "$DATA/refresh.log" 1 | sed 's/^/    /'
rm -f "$DATA/refresh.log"
