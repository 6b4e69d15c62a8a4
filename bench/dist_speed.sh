#!/usr/bin/env bash
# Data-parallel scaling on this machine: the same pipeline as one process
# with every core (THREADS intra-op threads) and as `pipe run --nproc 2`,
# two processes of THREADS/2 threads each, so both use the same cores. The
# global batch is the same (each of the two loads half of it), so the two
# runs make the same steps. Each side runs RUNS times, alternating; medians.
#
#   bench/dist_speed.sh [RUNS] [THREADS] [FILE]   (build first: scripts/build)
#
# FILE defaults to bench/fashion_train.pipe (one epoch of a small CNN on
# Fashion-MNIST). Prints training items/s (pipe's own figure over the epoch's
# training batches, all ranks together) and wall seconds per side, and the
# speed-up of two processes over one.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
threads=${2:-$(nproc)}
file=${3:-bench/fashion_train.pipe}
source bench/common.sh
needs_build
half=$((threads / 2 > 0 ? threads / 2 : 1))

# Runs `pipe run` under GNU time; appends "items/s wall_s" to FILE.
measure() {
  local out=$1
  shift
  /usr/bin/time -f "%e" -o "$work/time" build/pipe run "$file" --runs "$work/runs" "$@" >"$work/log" 2>&1 ||
    { cat "$work/log" >&2; exit 1; }
  local items
  items=$(grep -o '[0-9]* items/s' "$work/log" | tail -1 | cut -d' ' -f1)
  echo "$items $(cat "$work/time")" >>"$out"
}

for i in $(seq 1 "$runs"); do
  echo "round $i of $runs ..." >&2
  measure "$work/one" --threads "$threads"
  measure "$work/two" --threads "$half" --nproc 2
done

one=$(col one 1)
two=$(col two 1)
printf '%-34s %10s %8s\n' "" "items/s" "wall s"
printf '%-34s %10s %8s\n' "1 process, $threads threads" "$one" "$(col one 2)"
printf '%-34s %10s %8s\n' "2 processes (Gloo), $half threads each" "$two" "$(col two 2)"
awk -v a="$one" -v b="$two" 'BEGIN { printf "speed-up of 2 processes: %.2fx\n", b / a }'
echo "file: $file, runs: $runs, medians; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
