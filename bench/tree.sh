#!/usr/bin/env bash
# diagbot against ripgrep on a /var/log-like tree, side by side: 8 plain logs
# and 8 rotated .gz files, 512 MiB of lines in all (`rg -z` decompresses).
#
#   bench/tree.sh                     # 9 warm rounds, threads: diagbot's default
#   ROUNDS=5 THREADS="1 2" bench/tree.sh
#
# The tree is made once in $DATA/tree by genlogs (8 x 32 MiB logs; each log's
# rotation is another 32 MiB log, gzipped). Runs alternate between the tools
# so that machine noise hits both alike; each figure is the median of warm
# runs. Counts must be equal or the script stops. Prints markdown.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-9}
DATA=${DATA:-bench-data}
TREE="$DATA/tree"
THREADS=${THREADS:-default}

for tool in rg gzip /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/tree.sh: $tool is missing (apt-get install ripgrep gzip time)" >&2; exit 2; }
done
cargo build --quiet --release -p diagbot --bin diagbot --example genlogs
DIAGBOT=target/release/diagbot

if [ ! -f "$TREE/.complete" ]; then
  rm -rf "$TREE" && mkdir -p "$TREE"
  for i in $(seq 8); do
    target/release/examples/genlogs "$TREE/app$i.log" 32 0.02 >/dev/null
    target/release/examples/genlogs "$TREE/app$i.log.1" 32 0.02 >/dev/null
    gzip -f "$TREE/app$i.log.1"
  done
  touch "$TREE/.complete"
fi

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
rg_total() { rg -z -c "$@" "$TREE" | awk -F: '{s += $NF} END {print s + 0}'; }

echo "Tree: $TREE, $(find "$TREE" -name 'app*' | wc -l) files, $(du -sh --apparent-size "$TREE" | cut -f1) on disk; rg $(rg --version | head -1 | cut -d' ' -f2); $(nproc) cores; $ROUNDS warm rounds"
echo
echo "| pattern | threads | count (rg = diagbot) | rg -z ms | diagbot ms | diagbot / rg |"
echo "|---|---|---|---|---|---|"
cat "$TREE"/* >/dev/null
for args in "ERROR" "ERROR|Traceback|OOM" "-i timeout"; do
  # shellcheck disable=SC2086
  set -- $args
  rg_count=$(rg_total "$@")
  for threads in $THREADS; do
    jflag=()
    [ "$threads" != default ] && jflag=(-j "$threads")
    db_count=$("$DIAGBOT" grep --count "${jflag[@]}" "$@" --path "$TREE")
    if [ "$rg_count" != "$db_count" ]; then
      echo "count mismatch for $args: rg $rg_count, diagbot $db_count" >&2
      exit 1
    fi
    rg_t="" db_t=""
    for _ in $(seq "$ROUNDS"); do
      rg_t+=" $(ms rg -z -c "$@" "$TREE")"
      db_t+=" $(ms "$DIAGBOT" grep --count "${jflag[@]}" "$@" --path "$TREE")"
    done
    r=$(echo "$rg_t" | median) d=$(echo "$db_t" | median)
    echo "| \`$args\` | $threads | $db_count | $r | $d | $(ratio "$d" "$r") |"
    echo "  $args -j $threads: rg:$rg_t; diagbot:$db_t" >&2
  done
done
echo
echo "Peak RSS over the tree (GNU time, max resident KiB):"
echo
for cmd in "grep --count ERROR" "grep ERROR --max-lines 1000" "errors --max-lines 1000"; do
  # shellcheck disable=SC2086
  kib=$( { /usr/bin/time -f "%M" "$DIAGBOT" $cmd --path "$TREE" >/dev/null; } 2>&1 | tail -1)
  echo "- \`diagbot $cmd\`: $kib KiB ($(awk -v k="$kib" 'BEGIN {printf "%.1f", k / 1024}') MiB)"
done
