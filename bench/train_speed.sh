#!/usr/bin/env bash
# Training speed and memory against PyTorch, measured in the same run:
# bench/fashion_train.pipe (`pipe run`) against bench/train_peer.py (the same
# CNN, data, batch size, optimizer and schedule as a plain PyTorch script on
# the same LibTorch, python3-torch), with the same number of threads. Each
# side runs RUNS times, alternating; the medians are compared.
#
#   bench/train_speed.sh [RUNS] [THREADS]      (build first: scripts/build)
#
# Prints, per side: training items/s (as the side itself measures its
# training loop), whole-process wall seconds and peak resident memory; then
# the ratios pipe/PyTorch. Targets: items/s ≥ 1.0×, peak memory below.
# The peer runs twice per round: as written (NCHW, PyTorch's default) and
# with channels_last, which pipe uses for convolutional backbones on CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
threads=${2:-$(nproc)}
source bench/common.sh
needs_build
needs_torch

# Runs a command under GNU time; appends "items/s wall_s peak_MiB" to FILE.
measure() {
  local out=$1 kind=$2
  shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
  local items
  if [ "$kind" = pipe ]; then
    # pipe's own figure: items/s over the epoch's training batches (the last progress line).
    items=$(grep -o '[0-9]* items/s' "$work/log" | tail -1 | cut -d' ' -f1)
  else
    items=$(awk '/^train_items_per_s/ {print $2}' "$work/log")
  fi
  read -r wall kib <"$work/time"
  echo "$items $wall $((kib / 1024))" >>"$out"
}

for i in $(seq 1 "$runs"); do
  echo "round $i of $runs ..." >&2
  measure "$work/pipe" pipe build/pipe run bench/fashion_train.pipe --threads "$threads" --runs "$work/runs"
  measure "$work/torch" torch /usr/bin/python3 bench/train_peer.py "$threads"
  measure "$work/torch_cl" torch /usr/bin/python3 bench/train_peer.py "$threads" --channels-last
done


printf '%-28s %12s %10s %10s\n' "" "items/s" "wall s" "peak MiB"
for side in pipe torch torch_cl; do
  case $side in
    pipe) name="pipe run" ;;
    torch) name="PyTorch (NCHW)" ;;
    torch_cl) name="PyTorch (channels_last)" ;;
  esac
  printf '%-28s %12s %10s %10s\n' "$name" "$(col $side 1)" "$(col $side 2)" "$(col $side 3)"
done
echo "threads: $threads, runs: $runs, medians; $(nproc) cores"
for peer in torch torch_cl; do
  awk -v a="$(col pipe 1)" -v b="$(col $peer 1)" -v ma="$(col pipe 3)" -v mb="$(col $peer 3)" -v p="$peer" \
    'BEGIN {printf "pipe / %-16s items/s %.2fx   peak memory %.2fx\n", p, a / b, ma / mb}'
done
